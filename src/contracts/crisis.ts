/**
 * The wedding-day crisis protocol's shared vocabulary (seed 002, Issue 4): crisis types, the follow-up actions and
 * what the takeover query returns. Couples' addresses stay in the database: workflows see row ids only.
 */
import { invalidInput } from './failures';

export const CRISIS_TYPES = ['vendor_cancellation', 'venue', 'weather', 'ai_failure', 'transport', 'other'] as const;
export type CrisisType = (typeof CRISIS_TYPES)[number];

/** Follow-up Actions (5-30 minutes), each with its configured endpoint. */
export const CRISIS_ACTIONS = [
  'emergency-planners',
  'vendor-network',
  'executive-escalation',
  'crisis-communication',
] as const;
export type CrisisAction = (typeof CRISIS_ACTIONS)[number];

export interface AffectedCouple {
  activeCrisisId: number;
  weddingId: string;
  crisisType: string;
}

/**
 * How every platform-scope crisis run's workflow ID starts; one limited to a wedding has `-wedding-<id>` after the
 * failure (see crisisWorkflowId).
 */
export const TAKEOVER_ID_PREFIX = 'crisis-takeover-';
export const WEDDING_SCOPE_INFIX = '-wedding-';

/** The run a failure keyed `ownId` should reach: its own if running, else the oldest takeover running. */
export const takeoverToJoin = (running: string[], ownId: string): string | undefined =>
  running.includes(ownId) ? ownId : running[0];

const CRISIS_KEY = /^[A-Za-z0-9:/_.-]{1,200}$/;

/** The crisis key every crisis call carries; it is also the base of each call's Idempotency-Key. */
export function checkCrisisKey(crisisKey: unknown): string {
  if (typeof crisisKey !== 'string' || !CRISIS_KEY.test(crisisKey)) {
    throw invalidInput('crisisKey', 'must be 1-200 characters of A-Z a-z 0-9 : / _ . -');
  }
  return crisisKey;
}

/** Takes over the active crises the AI was processing: all weddings', or one wedding's. */
export interface TakeoverRequest {
  crisisKey: string;
  weddingId?: string;
  withinMinutes: number;
}

export interface TakeoverResult {
  /** Taken over by this call. */
  takenOver: number;
  /** Taken over by this run so far, this call included: a retried call counts what it had already taken. */
  total: number;
}

/** One batch of the run's taken-over crises, in id order after `afterId`. */
export interface CoupleBatchRequest {
  crisisKey: string;
  afterId: number;
  limit: number;
}

export interface CoupleBatchResult {
  /** The last id in the batch; the next batch starts after it. */
  lastId: number;
  /** No crisis is left after this batch: no batch follows. */
  done: boolean;
  notified: number;
  alreadyTold: number;
  failed: number;
  /** The first failure's reason, for the timeline. */
  firstError?: string;
}
