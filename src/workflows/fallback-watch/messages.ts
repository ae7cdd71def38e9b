/** aiFallbackWatch's input, the state it carries across continueAsNew, and its status query. */
import { defineQuery } from '@temporalio/workflow';
import { isoTime, optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';

/** Rounds one run makes before it continues as new: a round is a timer and an activity, about a dozen events. */
export const DEFAULT_ROUNDS_PER_RUN = 500;

export const aiFallbackWatchInputSchema = optionalObject({
  /** Seconds between probes of the AI service while the breaker is closed. */
  intervalSeconds: wholeNumber(1, 3600).default(10),
  /** Seed 002 AIServiceCircuitBreaker(failure_threshold=5): consecutive failed probes that open the breaker. */
  failureThreshold: wholeNumber(1, 100).default(5),
  /** Seed 002 timeout=60: seconds the breaker stays open before one half-open probe. */
  openSeconds: wholeNumber(1, 3600).default(60),
  /** Rounds per run before continueAsNew (tests set it low to see the hand-over). */
  roundsPerRun: wholeNumber(1, 5000).default(DEFAULT_ROUNDS_PER_RUN),
});
export type AiFallbackWatchInput = z.input<typeof aiFallbackWatchInputSchema>;
export type FallbackWatchSettings = z.output<typeof aiFallbackWatchInputSchema>;
export const parseAiFallbackWatchInput = (raw: unknown) =>
  parseInput(aiFallbackWatchInputSchema, raw, 'aiFallbackWatch');

export const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

const count = wholeNumber(0, Number.MAX_SAFE_INTEGER);

/** What one run hands the next: the breaker, its failure count and whether the fallback is on. Checked like input. */
export const fallbackWatchStateSchema = z
  .object({
    breaker: z.enum(BREAKER_STATES),
    consecutiveFailures: count,
    /** When the breaker last opened: the half-open probe is due openSeconds after it. */
    openedAt: isoTime.optional(),
    /** Whether the fallback is known to be on (its endpoint answered); differs from the breaker until it does. */
    fallbackEnabled: z.boolean(),
    /** Breaker transitions over every run; numbers each fallback call's Idempotency-Key. */
    transitions: count,
    rounds: count,
    continuedAsNew: count,
  })
  .strict();
export type FallbackWatchState = z.output<typeof fallbackWatchStateSchema>;
export const parseFallbackWatchState = (raw: unknown) =>
  parseInput(fallbackWatchStateSchema, raw, 'aiFallbackWatch state');

export const initialFallbackWatchState = (): FallbackWatchState => ({
  breaker: 'closed',
  consecutiveFailures: 0,
  fallbackEnabled: false,
  transitions: 0,
  rounds: 0,
  continuedAsNew: 0,
});

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  at: string;
  reason: string;
}

export interface FallbackWatchStatus extends FallbackWatchState {
  settings: FallbackWatchSettings;
  lastProbe?: { healthy: boolean; detail: string; at: string };
  /** This run's transitions, newest last (the audit log has them all). */
  recentTransitions: BreakerTransition[];
  /** Why the last fallback switch failed, while it stays unswitched. */
  fallbackProblem?: string;
}

export const fallbackWatchStatusQuery = defineQuery<FallbackWatchStatus>('status');
