/** incidentResponse's input, signals, status and result, and the workflow ID convention. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';
import { oneOf, parseInput, z } from '../../contracts/input';
import type { TimelineEvent } from '../../contracts/timeline';
import { monitorInputSchema } from '../operations/monitor/messages';

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

export const incidentInputSchema = z
  .object({
    severity: oneOf(SEVERITIES),
    service: z
      .string({ message: 'must be a service name (a-z, 0-9, -)' })
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a service name (a-z, 0-9, -)'),
    summary: z
      .string({ message: 'must be 1-1000 characters' })
      .max(1000, 'must be 1-1000 characters')
      .refine((s) => s.trim().length > 0, 'must be 1-1000 characters'),
    /** The alert's fingerprint: the same alert firing again joins this incident. */
    fingerprint: z
      .string({ message: 'must be 1-128 characters of A-Z a-z 0-9 _ . : -' })
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -')
      .optional(),
    /** How "monitor for resolution" probes; defaults every 5 minutes, 3 healthy in a row, up to 4 hours. */
    monitor: monitorInputSchema.optional(),
  })
  .strict();
export type IncidentInput = z.input<typeof incidentInputSchema>;

export const parseIncidentInput = (raw: unknown) => parseInput(incidentInputSchema, raw, 'incidentResponse');

export interface AlertFiring {
  summary: string;
  severity?: IncidentSeverity;
  /** How many firings this signal stands for: a receiver coalesces re-fires into one signal. Absent: one. */
  firings?: number;
}

/** Most firings one signal may stand for; a larger or malformed count is taken as one. */
export const MAX_FIRINGS_PER_SIGNAL = 1_000_000;

/** The firings a signal stands for, from a payload that may be hostile. */
export function firingsOf(firing: AlertFiring | undefined): number {
  const n = firing?.firings;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_FIRINGS_PER_SIGNAL ? n : 1;
}

export interface AlertResolution {
  /** When the alert stopped firing, as Alertmanager reports it. */
  endsAt?: string;
}

export function incidentWorkflowId(fingerprint: string): string {
  return `incident-${fingerprint}`;
}

/** Every firing of the alert, the first included; sent with signal-with-start by alert receivers. */
export const alertSignal = defineSignal<[AlertFiring]>('alert');

/** The alert stopped firing; recorded on the incident's timeline and in its status. */
export const alertResolvedSignal = defineSignal<[AlertResolution]>('alertResolved');

export interface IncidentStatus {
  severity: IncidentSeverity;
  service: string;
  summary: string;
  step: string;
  openedAt: string;
  acknowledgeBy: string;
  acknowledgedBy?: string;
  alertFirings: number;
  /** When the alert that opened the incident was reported resolved. */
  alertResolvedAt?: string;
  escalationTier: number;
  rootCause?: string;
  quickFix?: string;
  resolvedByMonitoring?: boolean;
  postMortem?: string;
  gates: GateStatus[];
  /** The latest events; the audit log keeps them all. */
  timeline: TimelineEvent[];
  /** Events older than the timeline shows. */
  earlierEvents: number;
}

export type IncidentResult = Omit<IncidentStatus, 'gates'> & {
  closedAt: string;
  documentation?: string;
  followUps?: string;
};

export const incidentStatusQuery = defineQuery<IncidentStatus>('status');
