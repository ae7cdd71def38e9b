/** incidentResponse's input, signals, status and result, and the workflow ID convention. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MonitorInput } from '../health/monitor';
import type { GateStatus } from '../gates/types';
import type { TimelineEvent } from '../crisis/messages';

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type IncidentSeverity = (typeof SEVERITIES)[number];

/** seed 000 quick fixes a person can choose (Common Issues 1-7, Emergency Procedures). */
export const QUICK_FIXES = [
  'enable-cost-throttling',
  'restart-service',
  'rebuild-cache',
  'trigger-theological-review',
  'rebuild-vector-index',
  'rollback-deployment',
  'emergency-throttle',
  'clear-ai-cache',
  'none',
] as const;
export type QuickFix = (typeof QUICK_FIXES)[number];

export interface IncidentInput {
  severity: IncidentSeverity;
  service: string;
  summary: string;
  /** The alert's fingerprint: the same alert firing again joins this incident. */
  fingerprint?: string;
  /** How "monitor for resolution" probes; defaults every 5 minutes, 3 healthy in a row, up to 4 hours. */
  monitor?: MonitorInput;
}

export interface AlertFiring {
  summary: string;
  severity?: IncidentSeverity;
}

export function incidentWorkflowId(fingerprint: string): string {
  return `incident-${fingerprint}`;
}

/** Every firing of the alert, the first included; sent with signal-with-start by alert receivers. */
export const alertSignal = defineSignal<[AlertFiring]>('alert');

export interface IncidentStatus {
  severity: IncidentSeverity;
  service: string;
  summary: string;
  step: string;
  openedAt: string;
  acknowledgeBy: string;
  acknowledgedBy?: string;
  alertFirings: number;
  escalationTier: number;
  rootCause?: string;
  quickFix?: string;
  resolvedByMonitoring?: boolean;
  postMortem?: string;
  gates: GateStatus[];
  timeline: TimelineEvent[];
}

export type IncidentResult = Omit<IncidentStatus, 'gates'> & { closedAt: string; documentation?: string; followUps?: string };

export const incidentStatusQuery = defineQuery<IncidentStatus>('status');
