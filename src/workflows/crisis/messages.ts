/** weddingDayCrisis's input, signals, status and result, and the workflow ID rule. Imported by clients and tests. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { CRISIS_TYPES, TAKEOVER_ID_PREFIX, WEDDING_SCOPE_INFIX } from '../../contracts/crisis';
import type { GateStatus } from '../../contracts/gates';
import { oneOf, parseInput, wholeNumber, z } from '../../contracts/input';
import type { TimelineEvent } from '../../contracts/timeline';

export { CRISIS_TYPES, type CrisisType } from '../../contracts/crisis';

const WEDDING_ID = z
  .string({ message: 'must be 1-64 characters of A-Z a-z 0-9 _ -' })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const DESCRIPTION = z
  .string({ message: 'must be a string of at most 2000 characters' })
  .max(2000, 'must be a string of at most 2000 characters');
const REPORTED_BY = z
  .string({ message: 'must be a non-empty string' })
  .min(1, 'must be a non-empty string')
  .max(200, 'must be at most 200 characters');

/** What names one failure of the AI crisis manager: an alert's fingerprint, or the time the failure was detected. */
export const FAILURE_PATTERN = /^[A-Za-z0-9:._-]{1,100}$/;
const FAILURE_MESSAGE =
  'must name the crisis manager failure in 1-100 characters of A-Z a-z 0-9 : . _ - (an alert fingerprint, or the detection time such as 2026-11-28T14:05:00Z)';

/**
 * The protocol is what people do when the AI crisis manager itself fails (seed 002 Issue 4): one run takes over
 * every crisis the AI was processing, across all weddings, or one wedding's when `weddingId` is given.
 */
export const weddingDayCrisisInputSchema = z
  .object({
    failure: z.string({ message: FAILURE_MESSAGE }).regex(FAILURE_PATTERN, FAILURE_MESSAGE),
    /** Limits the takeover to this wedding's active crises. */
    weddingId: WEDDING_ID.optional(),
    /** The seed's window: crises the AI took on in the last hour. */
    withinMinutes: wholeNumber(1, 24 * 60).default(60),
    description: DESCRIPTION.optional(),
    /** Roster id or system that reported the failure (the crisis-manager watch, an alert receiver, a person). */
    reportedBy: REPORTED_BY.optional(),
  })
  .strict();
export type WeddingDayCrisisInput = z.input<typeof weddingDayCrisisInputSchema>;
export type CrisisInput = z.output<typeof weddingDayCrisisInputSchema>;

export const parseWeddingDayCrisisInput = (raw: unknown) =>
  parseInput(weddingDayCrisisInputSchema, raw, 'weddingDayCrisis');

/**
 * One run per failure (and per wedding when the takeover is limited to one): a second start for the same failure
 * is refused by the server, and an alert for it joins the running one by signal-with-start.
 */
export function crisisWorkflowId(input: Pick<WeddingDayCrisisInput, 'failure' | 'weddingId'>): string {
  return `${TAKEOVER_ID_PREFIX}${input.failure}${input.weddingId ? `${WEDDING_SCOPE_INFIX}${input.weddingId}` : ''}`;
}

/** The input of runs started before the protocol took over at platform scope: one wedding and crisis type. */
export const legacyCrisisInputSchema = z
  .object({
    weddingId: WEDDING_ID,
    crisisType: oneOf(CRISIS_TYPES),
    description: DESCRIPTION.optional(),
    reportedBy: REPORTED_BY.optional(),
  })
  .strict();
export type LegacyCrisisInput = z.output<typeof legacyCrisisInputSchema>;
export const legacyCrisisWorkflowId = (input: LegacyCrisisInput) =>
  `wedding-crisis-${input.weddingId}-${input.crisisType}`;

/** An alert about the same failure, sent by signal-with-start from an alert receiver; it joins the running protocol. */
export interface CrisisAlert {
  fingerprint: string;
  status?: 'firing' | 'resolved';
  summary?: string;
  startsAt?: string;
}
export const crisisAlertSignal = defineSignal<[CrisisAlert]>('alert');

export type StepState = 'pending' | 'running' | 'awaiting-confirmation' | 'done' | 'failed' | 'cancelled';

export interface StageStatus {
  dueBy: string;
  completedAt?: string;
  missedDeadline: boolean;
}

export type StageName = 'stage1' | 'stage2';

/** The couples taken over, as counts: a run may reach tens of thousands, and no list of them belongs in history. */
export interface CoupleCounts {
  /** Active crises this run took over (marked handled manually). */
  found: number;
  /** Couples this run told. */
  notified: number;
  /** Couples told before, by this run's earlier attempt or another run: not told again. */
  alreadyTold: number;
  /** Couples whose notification failed on the last pass. */
  failed: number;
  /** Taken over and not yet told or failed. */
  remaining: number;
}

export interface CrisisStatus {
  crisisKey: string;
  /** The crisis manager failure this run takes over for (absent on runs from before platform scope). */
  failure?: string;
  /** Set when the takeover is limited to one wedding. */
  weddingId?: string;
  stage: StageName | 'awaiting-resolution' | 'resolved';
  startedAt: string;
  elapsedMs: number;
  stages: Record<StageName, StageStatus>;
  steps: Record<string, StepState>;
  couples: CoupleCounts;
  /** Alerts about this failure received while the protocol ran. */
  alerts: number;
  /** 0 = the chain's first tier (AI Operations) was told; higher = escalated that far. */
  escalationTier: number;
  gates: GateStatus[];
  /** The latest events; the audit log keeps them all. */
  timeline: TimelineEvent[];
  /** Events older than the timeline shows. */
  earlierEvents: number;
}

export interface CrisisResult extends Omit<CrisisStatus, 'gates' | 'stage'> {
  resolvedBy: string;
  resolution: string;
  resolvedAt: string;
}

export const crisisStatusQuery = defineQuery<CrisisStatus>('status');
