/**
 * The watch on the AI crisis manager that starts the wedding-day crisis protocol by itself. Seed 002 "Issue 4:
 * Wedding Day Crisis Management Failure", Symptoms: "Crisis response time >10 seconds"; "AI System Health": `curl
 * /ai/health` expects `"crisis_manager": "operational"`. The protocol is what people do when the crisis manager
 * itself fails, and its stage 1 has five minutes: nobody should have to notice the failure first.
 *
 * Every `intervalSeconds` it probes the crisis manager (`probeCrisisManager`). After `failuresToStart` failed probes
 * in a row it starts `weddingDayCrisis` as a child it abandons (the protocol outlives the watch's runs), with the
 * workflow ID `crisis-takeover-<detection time of the streak's first failed probe>`: the ID is the failure, so a
 * retried or replayed start joins the run already there instead of starting a second one; a platform-wide takeover
 * already running for another key (an alert's) is told of the failure instead. It starts no other
 * until the crisis manager has answered healthy `recoveriesToRearm` times in a row. It runs for ever, continuing as
 * new with its state every `roundsPerRun` rounds or when the server suggests it; the schedule
 * `wedsync-crisis-manager-watch` (overlap SKIP) restarts it within minutes if it ever stops.
 *
 * Start one by hand (the schedule normally does):
 *   temporal workflow start --type crisisManagerWatch --task-queue aiops-runbooks \
 *     --workflow-id crisis-manager-watch --input '{"intervalSeconds": 30, "failuresToStart": 3, "recoveriesToRearm": 3}'
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { failureText, isAlreadyStarted } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { probes } from '../policies';
import { crisisAlertSignal, crisisWorkflowId, type WeddingDayCrisisInput } from '../crisis/messages';
import { takeoverToJoin } from '../../contracts/crisis';
import {
  initialWatchState,
  parseCrisisManagerWatchInput,
  parseWatchState,
  watchStatusQuery,
  WATCH_REPORTER,
  type CrisisManagerWatchInput,
  type OpenCrisis,
  type WatchStatus,
} from './messages';

export async function crisisManagerWatch(rawInput: CrisisManagerWatchInput = {}, carried?: unknown): Promise<never> {
  const settings = parseCrisisManagerWatchInput(rawInput);
  const state = carried === undefined ? initialWatchState() : parseWatchState(carried);
  // What only this run knows; the query adds the carried state as the loop leaves it.
  const run: Pick<WatchStatus, 'lastProbe' | 'roundsThisRun'> = { roundsThisRun: 0 };
  setHandler(watchStatusQuery, (): WatchStatus => ({
    ...state,
    ...run,
    settings,
    armed: state.openCrisis === undefined,
  }));
  const audit = new AuditTrail();

  const startedAt = Date.now();
  for (let round = 1; ; round++) {
    if (round > 1) {
      // A fixed cadence from the run's start, so a slow probe does not stretch the interval.
      await sleep(Math.max(1, startedAt + (round - 1) * settings.intervalSeconds * 1000 - Date.now()));
      // Checked after the sleep, so the next run's first probe keeps the cadence.
      if (round > settings.roundsPerRun || workflowInfo().continueAsNewSuggested) {
        await audit.flush();
        await condition(allHandlersFinished);
        return continueAsNew<typeof crisisManagerWatch>(rawInput, {
          ...state,
          continuedAsNew: state.continuedAsNew + 1,
        });
      }
    }
    const at = new Date().toISOString();
    const verdict = await probes.probeCrisisManager();
    state.rounds += 1;
    run.roundsThisRun = round;
    run.lastProbe = { ...verdict, at };

    if (verdict.healthy) {
      state.consecutiveFailures = 0;
      state.failingSince = undefined;
      state.consecutiveHealthy += 1;
      if (state.openCrisis && state.consecutiveHealthy >= settings.recoveriesToRearm) {
        audit.record({
          step: 'recovered',
          actor: 'workflow',
          action: 'rearm',
          outcome: 'armed',
          reason: `crisis manager healthy ${state.consecutiveHealthy} times in a row`,
          details: { crisis: state.openCrisis.workflowId },
        });
        log.info('crisis manager recovered: a new failure starts a new protocol run', {
          crisis: state.openCrisis.workflowId,
        });
        state.openCrisis = undefined;
      }
    } else {
      state.consecutiveHealthy = 0;
      state.consecutiveFailures += 1;
      // The streak's first failure names it: the same failure keeps the same ID however many probes it lasts.
      state.failingSince ??= at;
      if (!state.openCrisis && state.consecutiveFailures >= settings.failuresToStart) {
        state.openCrisis = await startProtocol(state.failingSince, verdict.reason ?? 'crisis manager failed');
        if (state.openCrisis.outcome === 'started') state.crisesStarted += 1;
        audit.record({
          step: 'crisis',
          actor: 'workflow',
          action: 'start-protocol',
          outcome: state.openCrisis.outcome,
          reason: verdict.reason,
          details: {
            crisis: state.openCrisis.workflowId,
            consecutiveFailures: state.consecutiveFailures,
            failingSince: state.failingSince,
          },
        });
      }
    }
  }
}

/**
 * A platform-wide takeover already running (started by an alert, or by a watch whose state was lost) is told of
 * this failure instead of a second protocol starting: its alert signal makes it sweep again for the crises that
 * reached the AI since. Returns its workflow ID, or undefined when there is none or it cannot be told.
 */
async function joinRunningTakeover(ownId: string, failingSince: string, reason: string): Promise<string | undefined> {
  try {
    const running = takeoverToJoin(await probes.runningTakeovers(), ownId);
    if (!running || running === ownId) return undefined;
    await getExternalWorkflowHandle(running).signal(crisisAlertSignal, {
      fingerprint: failingSince,
      status: 'firing',
      summary: `crisis-manager watch: ${reason}`.slice(0, 200),
    });
    log.warn('crisis manager failed again: the running crisis protocol was told', { crisis: running, reason });
    return running;
  } catch (err) {
    // Not finding or not reaching it must not keep the protocol from starting.
    log.warn('no running crisis protocol could be told; starting one', { error: failureText(err) });
    return undefined;
  }
}

/**
 * Starts the protocol for the failure detected at `failingSince`, or joins the run with its ID. A run that ended
 * in failure may be started again (ALLOW_DUPLICATE_FAILED_ONLY); one that completed was that failure's protocol.
 */
async function startProtocol(failingSince: string, reason: string): Promise<OpenCrisis> {
  const input: WeddingDayCrisisInput = {
    failure: failingSince,
    reportedBy: WATCH_REPORTER,
    description: `crisis-manager watch: ${reason}`.slice(0, 2000),
  };
  const workflowId = crisisWorkflowId(input);
  const opened = { workflowId, failure: failingSince, at: new Date().toISOString() };
  const joined = await joinRunningTakeover(workflowId, failingSince, reason);
  if (joined) return { ...opened, workflowId: joined, outcome: 'joined' };
  try {
    // The protocol must outlive this run (continueAsNew) and the watch itself (a terminated watch): abandoned.
    await startChild('weddingDayCrisis', {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    log.warn('crisis manager failed: wedding-day crisis protocol started', { crisis: workflowId, reason });
    return { ...opened, outcome: 'started' };
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
    log.warn('crisis manager failed: the crisis protocol for this failure was already there', { crisis: workflowId });
    return { ...opened, outcome: 'joined' };
  }
}
