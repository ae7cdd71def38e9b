/**
 * The AI service's circuit breaker and the rule-based fallback, seed 002 "Failover Procedures, Automatic Failover"
 * (AIServiceCircuitBreaker: failure_threshold=5, timeout=60, states CLOSED, OPEN, HALF_OPEN) and "Activate Fallback
 * Mode" (`curl -X POST https://api.wedsync.com/ai/fallback/enable`).
 *
 * Closed: the AI service (WEDSYNC_PRIMARY_HEALTH_URL) is probed every `intervalSeconds`; `failureThreshold` failed
 * probes in a row open the breaker. Open: the fallback is switched on and the AI service is left alone for
 * `openSeconds`. Then half-open: one probe; healthy closes the breaker and switches the fallback off, failed opens it
 * again for another `openSeconds`. Every transition is written to the audit log and told to people (the opening
 * pages; the closing resolves that page). A fallback switch that fails is tried again each round until its endpoint
 * answers; the status shows why meanwhile. It runs for ever, continuing as new with the breaker's state every
 * `roundsPerRun` rounds or when the server suggests it; the schedule `wedsync-ai-fallback-watch` (overlap SKIP)
 * restarts it within minutes if it ever stops.
 *
 *   temporal workflow start --type aiFallbackWatch --task-queue aiops-runbooks --workflow-id ai-fallback-watch \
 *     --input '{"intervalSeconds": 10, "failureThreshold": 5, "openSeconds": 60}'
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { checkService } from '../common/service-health';
import { settle } from '../common/settle';
import { AuditTrail } from '../gates/audit-trail';
import { Pager } from '../gates/pager';
import { changes, probeOnce } from '../policies';
import {
  fallbackWatchStatusQuery,
  initialFallbackWatchState,
  parseAiFallbackWatchInput,
  parseFallbackWatchState,
  type AiFallbackWatchInput,
  type BreakerState,
  type FallbackWatchStatus,
} from './messages';

/** Who hears of the breaker: seed 002's AI operations and platform on-call. */
const FALLBACK_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };
const KEPT_TRANSITIONS = 20;

export async function aiFallbackWatch(rawInput: AiFallbackWatchInput = {}, carried?: unknown): Promise<never> {
  const settings = parseAiFallbackWatchInput(rawInput);
  const state = carried === undefined ? initialFallbackWatchState() : parseFallbackWatchState(carried);
  const info = workflowInfo();
  const run: Pick<FallbackWatchStatus, 'lastProbe' | 'recentTransitions' | 'fallbackProblem'> = {
    recentTransitions: [],
  };
  setHandler(fallbackWatchStatusQuery, (): FallbackWatchStatus => ({
    ...state,
    ...run,
    recentTransitions: [...run.recentTransitions],
    settings,
  }));
  const audit = new AuditTrail();
  const pager = new Pager(`ai-fallback-${info.workflowId}`);

  const transition = async (to: BreakerState, reason: string) => {
    const from = state.breaker;
    const at = new Date().toISOString();
    state.breaker = to;
    state.transitions += 1;
    if (to === 'open') state.openedAt = at;
    run.recentTransitions.push({ from, to, at, reason });
    run.recentTransitions.splice(0, Math.max(0, run.recentTransitions.length - KEPT_TRANSITIONS));
    audit.record({
      step: 'circuit-breaker',
      actor: 'workflow',
      action: `${from}->${to}`,
      outcome: to,
      reason,
      details: { consecutiveFailures: state.consecutiveFailures, transition: state.transitions },
    });
    const message = `[ai-fallback] circuit breaker ${from} → ${to}: ${reason} (workflow ${info.workflowId})`;
    if (from === 'closed' && to === 'open') {
      await pager.tell({
        audience: FALLBACK_AUDIENCE,
        urgency: 'page',
        severity: 'critical',
        dedupKey: pager.dedupKey,
        message: `${message}; rule-based fallback switched on`,
      });
    } else {
      await pager.tell({
        audience: FALLBACK_AUDIENCE,
        urgency: 'message',
        severity: to === 'closed' ? 'info' : 'warning',
        dedupKey: pager.dedupKey,
        message,
      });
      if (to === 'closed') await pager.update('resolve', `${message}; rule-based fallback switched off`);
    }
  };

  /** The fallback follows the breaker: on unless closed. A switch that fails is tried again next round. */
  const syncFallback = async () => {
    const wanted = state.breaker !== 'closed';
    if (state.fallbackEnabled === wanted) return;
    const switched = await settle(
      changes.setFallbackMode({
        enabled: wanted,
        // One key per transition: a retried call, or this run's successor repeating it, is the same call.
        key: `${info.workflowId}/fallback/${state.transitions}`,
        reason: `circuit breaker ${state.breaker}`,
      }),
    );
    if (switched.state === 'ok') {
      state.fallbackEnabled = wanted;
      run.fallbackProblem = undefined;
    } else {
      run.fallbackProblem = switched.state === 'failed' ? switched.error : switched.reason;
    }
    audit.record({
      step: 'fallback',
      actor: 'workflow',
      action: wanted ? 'enable' : 'disable',
      outcome: switched.state === 'ok' ? 'switched' : 'failed',
      reason: run.fallbackProblem,
    });
  };

  for (let roundsThisRun = 0; ;) {
    if (roundsThisRun >= settings.roundsPerRun || workflowInfo().continueAsNewSuggested) {
      await audit.flush();
      await condition(allHandlersFinished);
      return continueAsNew<typeof aiFallbackWatch>(rawInput, { ...state, continuedAsNew: state.continuedAsNew + 1 });
    }
    if (state.breaker === 'open') {
      // Left alone while open; the fallback switch is tried again each interval until it has answered.
      const due = Date.parse(state.openedAt!) + settings.openSeconds * 1000;
      await sleep(
        Math.max(1, Math.min(due - Date.now(), state.fallbackEnabled ? Infinity : settings.intervalSeconds * 1000)),
      );
      if (Date.now() < due) {
        await syncFallback();
        continue;
      }
      await transition('half-open', `open for ${settings.openSeconds} s: one probe`);
    } else if (state.rounds > 0) {
      await sleep(settings.intervalSeconds * 1000);
    }
    roundsThisRun += 1;
    state.rounds += 1;
    const probe = await checkService('primary', probeOnce);
    run.lastProbe = probe;
    if (probe.healthy) {
      state.consecutiveFailures = 0;
      if (state.breaker === 'half-open') await transition('closed', `half-open probe healthy (${probe.detail})`);
    } else {
      state.consecutiveFailures += 1;
      if (state.breaker === 'half-open') await transition('open', `half-open probe failed: ${probe.detail}`);
      else if (state.consecutiveFailures >= settings.failureThreshold)
        await transition('open', `${state.consecutiveFailures} failed probes in a row, the last: ${probe.detail}`);
    }
    await syncFallback();
  }
}
