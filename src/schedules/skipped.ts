/**
 * Which scheduled runs did not happen, and why. Temporal only counts skips (`numActionsSkippedOverlap`,
 * `numActionsMissedCatchupWindow`, lifetime totals); it never says which slot was skipped. So we rebuild it:
 * the server lists the times the spec matched in the window (ListScheduleMatchingTimes, the same cron code the
 * scheduler runs, so no second cron parser of ours can disagree with it), we take away the times a run was
 * started for, and a missing time is an overlap skip if one of the schedule's runs was open at that moment.
 * What is left is a missed catch-up window, or a time the schedule was paused (Temporal counts neither that
 * nor anything about it); the lifetime counters decide how many of those are real skips.
 */
import Long from 'long';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export type SkipReason = 'overlap' | 'missedCatchup';

export interface SkippedRun {
  /** The slot's time as the spec gives it (ISO). */
  scheduledAt: string;
  reason: SkipReason;
}

export interface SkippedRunsReport {
  scheduleId: string;
  registered: boolean;
  /** The window actually examined: from the later of `since` and the schedule's creation, to a moment ago. */
  from: string;
  to: string;
  skippedOverlap: number;
  missedCatchup: number;
  lastSkippedAt?: string;
  /** Every skipped slot in the window, oldest first. */
  skipped: SkippedRun[];
  /**
   * Slots that neither started nor count as skips: the schedule was paused then, or the run's record is gone
   * (closed runs outlive the namespace's retention only in the counters).
   */
  notStarted: string[];
  /** The server's lifetime counters, for comparison across windows. */
  totals: { actionsTaken: number; skippedOverlap: number; missedCatchup: number };
}

export interface ScheduleRun {
  startedAt: Date;
  /**
   * The slot the run was started for. A loaded scheduler starts a run after its slot, and the slots it
   * processes meanwhile are skipped because of that run: it counts as open from its slot.
   */
  scheduledAt?: Date;
  /** Undefined while the run is open. */
  closedAt?: Date;
}

export interface SlotEvidence {
  /** Times the spec matched in the window. */
  expected: Date[];
  /** Scheduled times runs were started for (by the spec, a backfill or a trigger). */
  taken: Date[];
  /** The schedule's runs that may have been open in the window. */
  runs: ScheduleRun[];
  /** Lifetime counters: more skips than these cannot have happened. */
  counters: { skippedOverlap: number; missedCatchup: number };
}

// Scheduled times are whole seconds; comparing seconds keeps a millisecond of rounding from hiding a match.
const second = (d: Date) => Math.floor(d.getTime() / 1000);

/** The pure half of the report: sorts the window's missing slots into overlap, missed catch-up and not started. */
export function classifySlots(evidence: SlotEvidence): { skipped: SkippedRun[]; notStarted: Date[] } {
  const taken = new Set(evidence.taken.map(second));
  const missing = evidence.expected.filter((t) => !taken.has(second(t))).sort((a, b) => a.getTime() - b.getTime());
  const overlap: Date[] = [];
  const other: Date[] = [];
  for (const t of missing) {
    const open = evidence.runs.some((r) => {
      const opened = r.scheduledAt && r.scheduledAt < r.startedAt ? r.scheduledAt : r.startedAt;
      return opened <= t && (r.closedAt === undefined || r.closedAt > t);
    });
    (open ? overlap : other).push(t);
  }
  // A slot that fell while the schedule was paused looks like either kind; the counters cap each kind and the
  // newest slots are kept, since older ones are the likelier to predate a pause or a spec change.
  const keepNewest = (times: Date[], max: number) => ({
    kept: times.slice(Math.max(0, times.length - max)),
    dropped: times.slice(0, Math.max(0, times.length - max)),
  });
  const o = keepNewest(overlap, evidence.counters.skippedOverlap);
  const c = keepNewest(other, evidence.counters.missedCatchup);
  const skipped = [
    ...o.kept.map((t): SkippedRun => ({ scheduledAt: t.toISOString(), reason: 'overlap' })),
    ...c.kept.map((t): SkippedRun => ({ scheduledAt: t.toISOString(), reason: 'missedCatchup' })),
  ].sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
  const notStarted = [...o.dropped, ...c.dropped].sort((a, b) => a.getTime() - b.getTime());
  return { skipped, notStarted };
}

const toTimestamp = (d: Date) => ({
  seconds: Long.fromNumber(Math.floor(d.getTime() / 1000)),
  nanos: (d.getTime() % 1000) * 1e6,
});
const fromTimestamp = (ts: { seconds?: Long | number | null; nanos?: number | null }) =>
  new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** Slots whose run could still be starting are left to the next report. */
const SETTLE_MS = 2_000;
/** Enough for years of daily runs; a report is about a window, not the whole history. */
const MAX_RUNS = 5_000;

async function matchingTimes(client: Client, scheduleId: string, from: Date, to: Date): Promise<Date[]> {
  if (to <= from) return [];
  const res = await client.workflowService.listScheduleMatchingTimes({
    namespace: client.options.namespace,
    scheduleId,
    startTime: toTimestamp(from),
    endTime: toTimestamp(to),
  });
  return (res.startTime ?? []).map(fromTimestamp).filter((t) => t >= from && t <= to);
}

async function runsOf(client: Client, scheduleId: string, from: Date): Promise<{ runs: ScheduleRun[]; taken: Date[] }> {
  const quoted = scheduleId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const query = `TemporalScheduledById = '${quoted}' AND (ExecutionStatus = 'Running' OR CloseTime >= '${from.toISOString()}')`;
  const runs: ScheduleRun[] = [];
  const taken: Date[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const scheduledAt = wf.typedSearchAttributes.get(SCHEDULED_START);
    runs.push({ startedAt: wf.startTime, scheduledAt, closedAt: wf.closeTime });
    if (scheduledAt) taken.push(scheduledAt);
    if (runs.length >= MAX_RUNS) break;
  }
  return { runs, taken };
}

function emptyReport(scheduleId: string, from: Date, to: Date): SkippedRunsReport {
  return {
    scheduleId,
    registered: false,
    from: from.toISOString(),
    to: to.toISOString(),
    skippedOverlap: 0,
    missedCatchup: 0,
    skipped: [],
    notStarted: [],
    totals: { actionsTaken: 0, skippedOverlap: 0, missedCatchup: 0 },
  };
}

/** The skipped runs of one schedule between `since` and `until` (default: now). */
export async function findSkippedRuns(
  client: Client,
  scheduleId: string,
  since: Date,
  until: Date = new Date(),
): Promise<SkippedRunsReport> {
  if (Number.isNaN(since.getTime())) throw new TypeError('since: not a valid time');
  if (Number.isNaN(until.getTime())) throw new TypeError('until: not a valid time');
  let description: ScheduleDescription;
  try {
    description = await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return emptyReport(scheduleId, since, until);
    throw err;
  }
  const { info } = description;
  const from = new Date(Math.max(since.getTime(), info.createdAt.getTime()));
  const to = new Date(Math.min(until.getTime(), Date.now() - SETTLE_MS));

  const [expected, visible] = await Promise.all([
    matchingTimes(client, scheduleId, from, to),
    runsOf(client, scheduleId, from),
  ]);
  // Visibility lags the scheduler a little: its own recent actions are authoritative for what just started.
  const running = new Set(info.runningActions.map((a) => a.workflow.workflowId));
  const openRecent = info.recentActions
    .filter((a) => running.has(a.action.workflow.workflowId))
    .map((a): ScheduleRun => ({ startedAt: a.takenAt, scheduledAt: a.scheduledAt }));
  const { skipped, notStarted } = classifySlots({
    expected,
    taken: [...visible.taken, ...info.recentActions.map((a) => a.scheduledAt)],
    runs: [...visible.runs, ...openRecent],
    counters: { skippedOverlap: info.numActionsSkippedOverlap, missedCatchup: info.numActionsMissedCatchupWindow },
  });
  return {
    scheduleId,
    registered: true,
    from: from.toISOString(),
    to: to.toISOString(),
    skippedOverlap: skipped.filter((s) => s.reason === 'overlap').length,
    missedCatchup: skipped.filter((s) => s.reason === 'missedCatchup').length,
    lastSkippedAt: skipped.at(-1)?.scheduledAt,
    skipped,
    notStarted: notStarted.map((t) => t.toISOString()),
    totals: {
      actionsTaken: info.numActionsTaken,
      skippedOverlap: info.numActionsSkippedOverlap,
      missedCatchup: info.numActionsMissedCatchupWindow,
    },
  };
}
