/**
 * The protocol's short calls (two webhooks, one SELECT, one notification per couple, the four follow-up
 * endpoints) are tried once each as local activities: their results travel as markers in the completion of the
 * workflow task that ran them, so a crisis gets through both stages' calls in one workflow task instead of about
 * fifteen persisted server round trips (README "Benchmark"). Running one again is as safe as retrying the
 * activity: every webhook carries a per-crisis Idempotency-Key and a couple's row in crisis_notifications stops a
 * second send; a worker that dies mid-task loses the markers, and the next one repeats the calls.
 * One attempt only: a call that fails for a reason worth retrying goes on as the `urgent` activity, so retries
 * keep the server's backoff, show as attempts in the UI and never hold a workflow task open, and the stage
 * deadlines see the same attempts as before. The 2-second bound (waiting for a slot included) keeps a workflow
 * task's groups of calls, three in a row at most, well inside the 8 seconds after which the worker must heartbeat
 * the task; a heartbeat is the only way a signal can land between a group's results (see `tryLocally`). A slower
 * endpoint simply gets the activity.
 */
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { UNTIL_DONE } from '../policies';
import type { CrisisRun } from './run';

/** Marks the switch to local first tries; histories recorded before it replay with their activity commands. */
export const LOCAL_FIRST_PATCH = 'crisis-calls-local-first';

/**
 * Marks local first tries decided in the workflow's first activation. LOCAL_FIRST_PATCH was asked for after the
 * directory's local activity, and a workflow task can be completed by heartbeat after Core has recorded a local
 * activity's marker but before the workflow has seen its result: the patch marker then lands in the next task, while
 * a replay resolves the local activity, and asks for the patch, inside the earlier one, where the marker is not yet
 * known, so it takes the old path and fails (a worker killed during stage 1 left such histories). A patch asked for
 * before the first await is always in the first task. Histories with LOCAL_FIRST_PATCH still replay through it.
 */
export const PATH_DECIDED_FIRST_PATCH = 'crisis-path-decided-first';

/** Whether a failed local attempt should be handed to the retrying activity rather than fail its step. */
function worthRetrying(err: unknown): boolean {
  if (isCancellation(err)) return false;
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const nonRetryable = UNTIL_DONE.nonRetryableErrorTypes ?? [];
  return !(cause instanceof ApplicationFailure && (cause.nonRetryable || nonRetryable.includes(cause.type ?? '')));
}

/** The local attempt's result, or the retrying activity's when the attempt failed for a reason worth retrying. */
export async function orActivity<T>(
  run: CrisisRun,
  name: string,
  attempt: PromiseSettledResult<T>,
  activity: () => Promise<T>,
): Promise<T> {
  if (attempt.status === 'fulfilled') return attempt.value;
  if (!worthRetrying(attempt.reason)) throw attempt.reason;
  const failure = attempt.reason as Error & { cause?: Error };
  run.event(`${name}: local attempt failed (${failure.cause?.message ?? failure.message}); retrying as an activity`);
  return activity();
}

/**
 * Tries each call once as a local activity, all at once. On replay a local activity's result comes back right
 * after it was scheduled, on a first run whenever the call finished: so while the group runs nothing else may
 * schedule work (the audit trail is drained first), and callers look at the results only once all have settled.
 */
export async function tryLocally<T extends readonly unknown[] | []>(run: CrisisRun, start: () => T) {
  await run.audit.flush();
  const settled = await Promise.allSettled(start());
  // A signal that got in while the group ran may have started an audit write: let it finish first here too.
  await run.audit.flush();
  return settled;
}
