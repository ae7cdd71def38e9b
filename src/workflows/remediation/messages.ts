/** The ScrollUniversity remediation workflows' input, status query and result (seed 000 Common Issues 1-4, Budget Exceeded). */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';
import { dnsLabel, oneOf, parseInput, wholeNumber, z } from '../../contracts/input';
import type { TimelineEvent } from '../../contracts/timeline';
import { SEVERITIES, type IncidentSeverity } from '../incident/messages';

export const remediationInputSchema = z
  .object({
    /** Who asks (roster id, or the workflow that started it); recorded in the audit trail and shown at a gate. */
    requestedBy: z
      .string({ message: 'must be 1-100 characters' })
      .min(1, 'must be 1-100 characters')
      .max(100, 'must be 1-100 characters'),
    reason: z
      .string({ message: 'must be at most 2000 characters' })
      .max(2000, 'must be at most 2000 characters')
      .optional(),
    /** seed 000's severity of what is being fixed: P0 and P1 need a person's approval for a restart. Default P2. */
    severity: oneOf(SEVERITIES).default('P2'),
    /** How long after the fix the figures are read again to see whether it worked; one minute by default. */
    settleSeconds: wholeNumber(0, 3600).default(60),
    /** The deployment that is failing (AI service failures); the AI gateway by default. */
    deployment: dnsLabel.default('ai-gateway-service'),
    /** Budget Exceeded: open the P1 incident (off when an incident started it). Default on. */
    openIncident: z.boolean({ message: 'must be true or false' }).default(true),
    /** How long the restart's rollout may take. */
    rolloutTimeoutSeconds: wholeNumber(1, 3600).default(600),
  })
  .strict();
export type RemediationInput = z.input<typeof remediationInputSchema>;
export type ParsedRemediationInput = z.output<typeof remediationInputSchema>;
export const parseRemediationInput = (raw: unknown, what: string) => parseInput(remediationInputSchema, raw, what);

export type RemediationOutcome =
  /** The figures were fine: nothing was done. */
  | 'not-needed'
  /** The fix was applied and the figures are back within the seed's thresholds. */
  | 'fixed'
  /** The fix was applied but the figures are not back: people were paged. */
  | 'escalated'
  /** A person refused the fix at the gate: nothing was changed, people were told. */
  | 'refused';

export interface RemediationStatus {
  issue: string;
  severity: IncidentSeverity;
  step: string;
  findings: string[];
  timeline: TimelineEvent[];
  gates: GateStatus[];
}

export interface RemediationResult {
  issue: string;
  outcome: RemediationOutcome;
  /** What was done, in the runbook's words. */
  actions: string[];
  /** The diagnosis and root-cause checks, one line each. */
  findings: string[];
  /** The figures before and after the fix that decided the outcome. */
  before: Record<string, number | string>;
  after?: Record<string, number | string>;
  /** The incident opened or joined (Budget Exceeded, and a fallback switch after failures that persisted). */
  incident?: { workflowId: string; outcome: 'opened' | 'joined' };
}

export const remediationStatusQuery = defineQuery<RemediationStatus>('status');
