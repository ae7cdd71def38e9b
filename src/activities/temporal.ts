/**
 * Temporal activities: what the Temporal server knows about our schedules, for workflows that report on them
 * (the daily reviews say which runs were skipped, since Temporal itself raises nothing when one is).
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { runningTakeovers } from '../client/takeovers';
import { invalidInput } from '../contracts/failures';
import type { SkippedRunsSummary } from '../contracts/schedules';
import { findSkippedRuns } from '../schedules/skipped';
import { reportedScheduleIds } from '../schedules/table';

/** What the worker passes in, so that `createActivities(deps)` can spread these like the other factories. */
export interface TemporalDeps {
  temporalClient: Client;
}

/** `scheduleIds` defaults to the table less the schedules whose skips are expected; tests pass their own. */
export function createTemporalActivities(client: Client, scheduleIds: string[] = reportedScheduleIds()) {
  return {
    /** The platform-wide crisis takeovers running on this worker's task queue, oldest first. */
    async runningTakeovers(): Promise<string[]> {
      return runningTakeovers(client, Context.current().info.taskQueue);
    },

    /**
     * Runs skipped since `since` (ISO time), per schedule. Read-only, so any retry is safe; a slot whose run
     * may still be starting is left out and appears in the next report instead.
     */
    async reportSkippedRuns(input: { since: string } | { hours: number }): Promise<SkippedRunsSummary[]> {
      // `hours` counts back from this worker's clock, which is the one the server's schedule times are compared with.
      if (input && 'hours' in input) {
        if (!Number.isInteger(input.hours) || input.hours < 1 || input.hours > 24 * 90)
          throw invalidInput('hours', 'must be a whole number from 1 to 2160');
        input = { since: new Date(Date.now() - input.hours * 3_600_000).toISOString() };
      }
      const since = typeof input?.since === 'string' ? new Date(input.since) : undefined;
      if (!since || Number.isNaN(since.getTime())) throw invalidInput('since', 'must be an ISO timestamp');
      if (since.getTime() > Date.now()) throw invalidInput('since', 'must not be in the future');
      const summaries: SkippedRunsSummary[] = [];
      for (const scheduleId of scheduleIds) {
        const r = await findSkippedRuns(client, scheduleId, since);
        summaries.push({
          scheduleId,
          registered: r.registered,
          skippedOverlap: r.skippedOverlap,
          missedCatchup: r.missedCatchup,
          ...(r.lastSkippedAt ? { lastSkippedAt: r.lastSkippedAt } : {}),
        });
      }
      return summaries;
    },
  };
}
