/** aiServiceOutageRemediation's input, status query and result (seed 002 Issue 3, AI Service Outages). */
import { defineQuery } from '@temporalio/workflow';
import { dnsLabel, parseInput, wholeNumber, z } from '../../../contracts/input';
import type { TimelineEvent } from '../../../contracts/timeline';
import { remediationInputSchema } from '../../remediation/messages';
import type { ServiceHealth } from '../../common/service-health';

export const aiServiceOutageInputSchema = remediationInputSchema
  .pick({ requestedBy: true, reason: true, rolloutTimeoutSeconds: true })
  .extend({
    /** The engine that is down, one of K8S_DEPLOYMENTS in the AI namespace; seed 002's ai-optimization-engine. */
    deployment: dnsLabel.default('ai-optimization-engine'),
    /** How long after the restart the AI endpoint's health is read again; 30 seconds by default. */
    settleSeconds: wholeNumber(0, 3600).default(30),
  })
  .strict();
export type AiServiceOutageInput = z.input<typeof aiServiceOutageInputSchema>;
export type ParsedAiServiceOutageInput = z.output<typeof aiServiceOutageInputSchema>;
export const parseAiServiceOutageInput = (raw: unknown) =>
  parseInput(aiServiceOutageInputSchema, raw, 'aiServiceOutageRemediation');

/** Where the outage ended: the seed's three solutions in order, or none of them worked. */
export type OutageState =
  /** The AI endpoint was healthy when checked: nothing was done. */
  | 'not-needed'
  /** Solution 1, Service Restart: the engine restarted and the endpoint healthy again. */
  | 'restarted'
  /** Solution 2, Traffic Rerouting: the ingress on the backup service (failoverAiIngress), healthy after the switch. */
  | 'failed-over'
  /** Solution 3, Activate Fallback Mode: the rule-based fallback serves while the AI service stays down. */
  | 'fallback-on'
  /** Nothing worked: the fallback could not be switched on either; a P0 page went out. */
  | 'still-down';

export interface OutageStep {
  step: 'restart' | 'failover' | 'fallback';
  /** restart: done/failed/unhealthy-after; failover: done/refused/unhealthy/failed; fallback: on/failed. */
  outcome: string;
  detail: string;
}

export interface AiServiceOutageStatus {
  deployment: string;
  step: string;
  /** The failover child while it runs: its gate is decided there (`decide` update on this workflow ID). */
  failoverWorkflowId?: string;
  findings: string[];
  steps: OutageStep[];
  timeline: TimelineEvent[];
  state?: OutageState;
}

export interface AiServiceOutageResult {
  state: OutageState;
  deployment: string;
  /** The diagnosis, one line each: pods, logs, the endpoint's health, the external dependency. */
  findings: string[];
  /** Each solution tried, in order. */
  steps: OutageStep[];
  /** The AI endpoint's health at the start, and after the last step that checked it. */
  before: ServiceHealth;
  after?: ServiceHealth;
}

export const aiServiceOutageStatusQuery = defineQuery<AiServiceOutageStatus>('status');
