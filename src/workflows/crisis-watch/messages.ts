/** crisisManagerWatch's input, the state it carries across continueAsNew, and its status query. */
import { defineQuery } from '@temporalio/workflow';
import type { CrisisManagerVerdict } from '../../contracts/crisis-manager';
import { isoTime, optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';
import { FAILURE_PATTERN } from '../crisis/messages';

/**
 * Rounds one run makes before it continues as new with its state. A round is about a dozen history events (timer,
 * activity, workflow task), so 500 rounds stay near 6,500 events, an eighth of Temporal's limit, and the server may
 * suggest continuing earlier (`continueAsNewSuggested`), which the watch also obeys.
 */
export const DEFAULT_ROUNDS_PER_RUN = 500;

export const crisisManagerWatchInputSchema = optionalObject({
  /** Seconds between probes: 30 s with 3 failures finds a failure in about 1.5 minutes of the 5-minute stage 1. */
  intervalSeconds: wholeNumber(5, 3600).default(30),
  /** Consecutive failed probes that start the crisis protocol; more than one so a single slow answer does not. */
  failuresToStart: wholeNumber(1, 100).default(3),
  /** Consecutive healthy probes that count as recovered, after which a new failure starts a new protocol run. */
  recoveriesToRearm: wholeNumber(1, 100).default(3),
  /** Rounds per run before continueAsNew (tests set it low to see the hand-over). */
  roundsPerRun: wholeNumber(1, 5000).default(DEFAULT_ROUNDS_PER_RUN),
});
export type CrisisManagerWatchInput = z.input<typeof crisisManagerWatchInputSchema>;
export type WatchSettings = z.output<typeof crisisManagerWatchInputSchema>;

export const parseCrisisManagerWatchInput = (raw: unknown) =>
  parseInput(crisisManagerWatchInputSchema, raw, 'crisisManagerWatch');

const count = wholeNumber(0, Number.MAX_SAFE_INTEGER);

/** The crisis protocol run the watch started (or found already running) for the current failure. */
const openCrisisSchema = z
  .object({
    workflowId: z.string().max(200),
    failure: z.string().regex(FAILURE_PATTERN),
    at: isoTime,
    /** "joined": a run with that ID was already there (an earlier attempt of this watch, or an operator). */
    outcome: z.enum(['started', 'joined']),
  })
  .strict();
export type OpenCrisis = z.output<typeof openCrisisSchema>;

/**
 * What one run hands the next through continueAsNew: the streaks and the open crisis. It arrives as the second
 * argument, so it is checked like any input; a hand-written one cannot make the watch start a protocol twice.
 */
export const watchStateSchema = z
  .object({
    consecutiveFailures: count,
    consecutiveHealthy: count,
    /** Detection time of the first failed probe of the current failure streak; it names the failure. */
    failingSince: isoTime.optional(),
    /** Set from the protocol's start until the crisis manager has recovered; no second start meanwhile. */
    openCrisis: openCrisisSchema.optional(),
    crisesStarted: count,
    /** Rounds over every run of this watch. */
    rounds: count,
    /** Runs before this one (continueAsNew hand-overs). */
    continuedAsNew: count,
  })
  .strict();
export type WatchState = z.output<typeof watchStateSchema>;

export const parseWatchState = (raw: unknown) => parseInput(watchStateSchema, raw, 'crisisManagerWatch state');

export const initialWatchState = (): WatchState => ({
  consecutiveFailures: 0,
  consecutiveHealthy: 0,
  crisesStarted: 0,
  rounds: 0,
  continuedAsNew: 0,
});

export interface WatchStatus extends WatchState {
  settings: WatchSettings;
  /** True when a new failure streak may start a protocol run (no crisis open). */
  armed: boolean;
  lastProbe?: CrisisManagerVerdict & { at: string };
  /** Rounds made by this run (reset by continueAsNew). */
  roundsThisRun: number;
}

export const watchStatusQuery = defineQuery<WatchStatus>('status');

/** Who the protocol runs the watch starts name as their reporter. */
export const WATCH_REPORTER = 'crisis-manager-watch';
