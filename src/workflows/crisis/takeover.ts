/**
 * Immediate Actions (0-5 minutes) at platform scope: the emergency alert, manual crisis mode, taking over every
 * crisis the AI was processing, and telling each affected couple once.
 *
 * Couples are told in batches by a heartbeating activity with many sends in flight, not one activity (or child
 * workflow) per couple: ten thousand couples are then a handful of activities and a few dozen history events, where
 * one per couple would be tens of thousands of events, past what one workflow's history should hold, and a fan-out
 * to children would cost every couple a workflow of its own. What makes a batch safe to retry is in the database
 * (activities/couples.ts): the workflow carries counts and the id to go on from, never a list of couples.
 */
import { condition, isCancellation, patched, sleep } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { notifyCouples, urgent } from '../policies';
import type { CrisisRun } from './run';
import { alertRequest } from './stages';

export const TAKEOVER_STEPS = ['emergency-alert', 'manual-mode', 'take-over', 'notify-couples'];

/** Couples per batch: a batch's progress shows in the status, and a retried batch repeats at most this many sends. */
export const COUPLE_BATCH = 2000;
/** How long the takeover waits for manual mode to be on before it sweeps anyway. */
const MANUAL_MODE_WAIT = '3 seconds';
/** Passes over the couples whose notice failed, after the first pass over all. */
const RETRY_PASSES = 3;
const RETRY_AFTER = '20 seconds';

/**
 * Marks runs that go on sending the failed notices after the step's passes, while the crisis is open. Runs from
 * before stopped there, so a notification service down for longer than a minute left its couples untold for good.
 * Asked when stage 1 begins, in the first workflow task, like the crisis's other patches.
 */
export const NOTICES_UNTIL_TOLD_PATCH = 'notices-until-told';

const MINUTE = 60_000;
/**
 * The later passes over the failed notices: a minute after the step fails, then every two minutes, for a day. A
 * couple told two minutes after the service is back is soon enough to matter on the day; a day of passes (about 11
 * history events each) is about 8,000 events, and after a day the wedding is over and nobody is helped by a late
 * notice.
 */
export const LATER_PASSES = { firstAfterMs: MINUTE, everyMs: 2 * MINUTE, forMs: 24 * 60 * MINUTE };

/** The waits before each later pass, in order. */
export function laterPassDelays(): number[] {
  const { firstAfterMs, everyMs, forMs } = LATER_PASSES;
  const delays = [firstAfterMs];
  for (let waited = firstAfterMs; waited + everyMs <= forMs; waited += everyMs) delays.push(everyMs);
  return delays;
}

/** Marks the crises the AI was processing as handled by this run; returns how many this sweep took. */
async function takeOver(run: CrisisRun, withinMinutes: number): Promise<number> {
  const { takenOver, total } = await urgent.takeOverCrises({
    crisisKey: run.crisisKey,
    weddingId: run.input.weddingId,
    withinMinutes,
  });
  run.state.couples.found = total;
  run.countCouples();
  run.event(`${takenOver} active crisis(es) taken over and marked handled manually (${total} in all)`);
  run.audit.record({
    step: 'take-over',
    actor: 'workflow',
    action: 'taken-over',
    outcome: String(takenOver),
    details: { total, weddingId: run.input.weddingId },
  });
  return takenOver;
}

/**
 * How a pass counts: `first` over every crisis; `retry` (the step's passes) over the failed notices, whose failures
 * it counts again from zero; `later` over the failed notices too, taking those it tells off the failed count, and
 * recording a batch only when it told someone, since a day of passes against a dead service says nothing new.
 */
type Pass = 'first' | 'retry' | 'later';

/** One pass over the run's crises in batches, from after `afterId`; returns the last id reached. */
async function tellCouples(run: CrisisRun, afterId: number, pass: Pass = 'first'): Promise<number> {
  const counts = run.state.couples;
  for (;;) {
    const from = afterId;
    const batch = await notifyCouples({
      crisisKey: run.crisisKey,
      afterId,
      limit: COUPLE_BATCH,
      retryFailed: pass !== 'first',
    });
    counts.notified += batch.notified;
    counts.alreadyTold += batch.alreadyTold;
    if (pass === 'later') counts.failed = Math.max(0, counts.failed - batch.notified - batch.alreadyTold);
    else counts.failed += batch.failed;
    run.countCouples();
    afterId = batch.lastId;
    if (pass !== 'later' || batch.notified + batch.alreadyTold > 0) {
      if (batch.failed > 0) run.event(`${batch.failed} couple notice(s) failed: ${batch.firstError}`);
      run.audit.record({
        step: 'notify-couples',
        actor: 'workflow',
        action: pass === 'first' ? 'batch' : 'batch-retried',
        outcome: batch.failed > 0 ? 'partly-failed' : 'done',
        reason: batch.firstError,
        details: { afterId: from, ...batch, firstError: undefined },
      });
    }
    if (batch.done) return afterId;
  }
}

/** Alerts coalesce: at most one sweep in this long, however many alerts arrive. */
const SWEEP_GAP = '1 minute';

/**
 * Once stage 1 is through, an alert about a failure (a new one joining this run, or the same one firing again)
 * sweeps again: crises that reached the AI since are taken over and their couples told. Runs until cancelled.
 */
export async function sweepOnAlerts(run: CrisisRun, withinMinutes: number, alertsWaiting: () => number) {
  let seen = alertsWaiting();
  for (;;) {
    await condition(() => alertsWaiting() > seen);
    seen = alertsWaiting();
    try {
      const found = run.state.couples.found;
      if ((await takeOver(run, withinMinutes)) > 0) run.toldThrough = await tellCouples(run, run.toldThrough);
      tellTheRestLater(run);
      run.event(`swept again on an alert: ${run.state.couples.found - found} more crisis(es) taken over`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      run.event(`sweep on an alert failed: ${failureText(err)}`);
    }
    await sleep(SWEEP_GAP);
  }
}

/**
 * Starts the later passes over the failed notices unless they are running or nothing failed (runs with
 * NOTICES_UNTIL_TOLD_PATCH only): after the step's own passes, and after a sweep on an alert.
 */
function tellTheRestLater(run: CrisisRun): void {
  if (!run.noticesUntilTold || run.laterPasses || run.state.couples.failed === 0) return;
  run.laterPasses = laterPasses(run)
    .catch(() => undefined)
    .finally(() => {
      run.laterPasses = undefined;
    });
}

/**
 * Sends the failed notices again while the crisis is open, and marks the step done once every couple is told. A day
 * on, the last tier is told the passes stopped.
 */
async function laterPasses(run: CrisisRun): Promise<void> {
  const counts = run.state.couples;
  const began = Date.now();
  const delays = laterPassDelays();
  let told = 0;
  for (let pass = 0; pass < delays.length; pass++) {
    await sleep(delays[pass]);
    const toldBefore = counts.notified + counts.alreadyTold;
    try {
      await tellCouples(run, 0, 'later');
    } catch (err) {
      if (isCancellation(err)) throw err;
      run.event(`a later pass over the failed notices failed: ${failureText(err)}`);
    }
    told += counts.notified + counts.alreadyTold - toldBefore;
    if (counts.failed === 0) {
      const minutes = Math.round((Date.now() - began) / MINUTE);
      if (run.state.steps['notify-couples'] === 'failed') run.state.steps['notify-couples'] = 'done';
      run.event(`notify-couples done: the last ${told} couple(s) told on a later pass, ${minutes} minute(s) on`);
      run.audit.record({
        step: 'notify-couples',
        actor: 'workflow',
        action: 'step',
        outcome: 'done',
        reason: `the last ${told} couple(s) told on later pass ${pass + 1}`,
        durationMs: Date.now() - run.startedMs,
      });
      return;
    }
  }
  await run.escalate(
    `${counts.failed} couple(s) still not told after ${LATER_PASSES.forMs / (60 * MINUTE)} hours of passes; the passes stopped, call them by hand (couple_notifications, status 'failed', notified_by '${run.crisisKey}')`,
  );
}

export function stage1Takeover(run: CrisisRun, withinMinutes: number) {
  const { crisisKey } = run;
  let manualModeSettled = false;
  const counts = run.state.couples;
  run.noticesUntilTold = patched(NOTICES_UNTIL_TOLD_PATCH);
  return Promise.all([
    run.step('emergency-alert', () => urgent.sendEmergencyAlert(alertRequest(run))),
    run
      .step('manual-mode', () => urgent.enableManualCrisisMode({ crisisKey }))
      .finally(() => {
        manualModeSettled = true;
      }),
    (async () => {
      // Manual mode normally answers within moments: waiting that long makes one sweep enough. A slow one is not
      // waited for, and a second sweep once it is on catches the crises that reached the AI meanwhile.
      const manualModeFirst = await condition(() => manualModeSettled, MANUAL_MODE_WAIT);
      await run.step('take-over', async () => void (await takeOver(run, withinMinutes)));
      if (run.state.steps['take-over'] !== 'done') {
        run.state.steps['notify-couples'] = 'failed';
        return;
      }
      await run.step('notify-couples', async () => {
        run.toldThrough = await tellCouples(run, 0);
        if (!manualModeFirst) {
          await condition(() => manualModeSettled);
          if ((await takeOver(run, withinMinutes)) > 0) run.toldThrough = await tellCouples(run, run.toldThrough);
        }
        for (let pass = 1; counts.failed > 0 && pass <= RETRY_PASSES; pass++) {
          await sleep(RETRY_AFTER);
          counts.failed = 0;
          await tellCouples(run, 0, 'retry');
        }
        if (counts.failed > 0) {
          throw new Error(
            `${counts.failed} couple(s) could not be told after ${RETRY_PASSES + 1} passes; call them by hand (couple_notifications, status 'failed', notified_by '${crisisKey}')${run.noticesUntilTold ? `; the workflow sends again every ${LATER_PASSES.everyMs / MINUTE} minutes while the crisis is open, and a couple it reaches turns "sent"` : ''}`,
          );
        }
      });
      tellTheRestLater(run);
    })(),
  ]);
}
