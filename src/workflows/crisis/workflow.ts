/**
 * WedSync wedding-day crisis protocol, seed 002 "Issue 4: Wedding Day Crisis Management Failure",
 * EMERGENCY PROTOCOL:
 *   Immediate Actions (0-5 minutes): 1. send emergency alert; 2. enable manual crisis management;
 *   3. notify affected couples (SELECT wedding_id, couple_email, crisis_type FROM active_crises
 *      WHERE status = 'ai_processing' AND created_at > NOW() - INTERVAL '1 hour').
 *   Follow-up Actions (5-30 minutes): deploy emergency wedding planners; activate vendor emergency network;
 *   escalate to executive team; begin crisis communication protocol.
 * A stage that misses its deadline escalates along the "AI System Escalation Chain" and the protocol goes on.
 * It ends when an authorised person resolves the crisis (gate "resolve").
 *
 * Start (the workflow ID must be wedding-crisis-<weddingId>-<crisisType>):
 *   temporal workflow start --type weddingDayCrisis --task-queue aiops-runbooks \
 *     --workflow-id wedding-crisis-wedding-17-vendor_cancellation \
 *     --input '{"weddingId":"wedding-17","crisisType":"vendor_cancellation","description":"florist cancelled","reportedBy":"wedding-support"}'
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AffectedCouple, CrisisAction } from '../../activities/crisis';
import { FailureType, invalidInput } from '../../common/failures';
import { WEDSYNC_ESCALATION_CHAIN } from '../../common/roster';
import { AuditTrail } from '../gates/audit-trail';
import { loadDirectory } from '../gates/directory';
import { Gatekeeper } from '../gates/gatekeeper';
import {
  CRISIS_TYPES,
  crisisStatusQuery,
  crisisWorkflowId,
  type CrisisResult,
  type CrisisStatus,
  type CrisisType,
  type StepState,
  type WeddingDayCrisisInput,
} from './messages';

const MINUTE = 60_000;
const STAGE1_DUE_MS = 5 * MINUTE;
const STAGE2_DUE_MS = 30 * MINUTE;

const FOLLOW_UP: { action: CrisisAction; label: string }[] = [
  { action: 'emergency-planners', label: 'Deploy Emergency Wedding Planners' },
  { action: 'vendor-network', label: 'Activate Vendor Emergency Network' },
  { action: 'executive-escalation', label: 'Escalate to Executive Team' },
  { action: 'crisis-communication', label: 'Begin Crisis Communication Protocol' },
];

const RESPONDERS = { roles: ['wedding-day-support', 'ai-ops', 'platform-oncall', 'cto'] };
const RESOLVERS = { roles: ['wedding-day-support', 'ai-ops', 'cto'] };

/** Crisis steps keep retrying until they succeed or the crisis is resolved: giving up is never the right call. */
const NON_RETRYABLE: string[] = [
  FailureType.InvalidInput,
  FailureType.NotAuthorized,
  FailureType.TargetNotFound,
  FailureType.BadUpstreamResponse,
];
const URGENT_RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: NON_RETRYABLE,
};

const urgent = proxyActivities<Activities>({ startToCloseTimeout: '15 seconds', retry: URGENT_RETRY });

/**
 * The protocol's short calls (two webhooks, one SELECT, one notification per couple, the four follow-up
 * endpoints) are tried once each as local activities: their results travel as markers in the completion of the
 * workflow task that ran them, so a crisis gets through both stages' calls in one workflow task instead of about
 * fifteen persisted server round trips, and with 500 crises at once on the dev server that is what decides the
 * latency (README "Benchmark"). Running one again is as safe as retrying the activity: every webhook carries a
 * per-crisis Idempotency-Key and a couple's row in crisis_notifications stops a second send; a worker that dies
 * mid-task loses the markers, and the next one repeats the calls.
 * One attempt only: a call that fails for a reason worth retrying goes on as the `urgent` activity, so retries
 * keep the server's backoff, show as attempts in the UI and never hold a workflow task open, and the stage
 * deadlines see the same attempts as before (localRetryThreshold has nothing left to decide). The 2-second
 * bound (waiting for a slot included) keeps a workflow task's groups of calls, three in a row at most, well
 * inside the 8 seconds after which the worker must heartbeat the task; a heartbeat is the only way a signal can
 * land between a group's results (see tryLocally). A slower endpoint simply gets the activity.
 */
const firstTry = proxyLocalActivities<Activities>({ scheduleToCloseTimeout: '2 seconds', retry: { maximumAttempts: 1 } });

/** Marks the switch to firstTry; histories recorded before it replay with their activity commands. */
const LOCAL_FIRST_PATCH = 'crisis-calls-local-first';

/** Whether a failed local attempt should be handed to the retrying activity rather than fail its step. */
function worthRetrying(err: unknown): boolean {
  if (isCancellation(err)) return false;
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  return !(cause instanceof ApplicationFailure && (cause.nonRetryable || NON_RETRYABLE.includes(cause.type ?? '')));
}



function validate(raw: unknown): WeddingDayCrisisInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidInput('input', 'must be a JSON object');
  const { weddingId, crisisType, description, reportedBy, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw invalidInput(extra[0], 'is not a field of weddingDayCrisis input');
  if (typeof weddingId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(weddingId)) {
    throw invalidInput('weddingId', 'must be 1-64 characters of A-Z a-z 0-9 _ -');
  }
  if (typeof crisisType !== 'string' || !(CRISIS_TYPES as readonly string[]).includes(crisisType)) {
    throw invalidInput('crisisType', `must be one of ${CRISIS_TYPES.join(', ')}`);
  }
  if (description !== undefined && (typeof description !== 'string' || description.length > 2000)) {
    throw invalidInput('description', 'must be a string of at most 2000 characters');
  }
  if (reportedBy !== undefined && (typeof reportedBy !== 'string' || !reportedBy)) throw invalidInput('reportedBy', 'must be a non-empty string');
  return { weddingId, crisisType: crisisType as CrisisType, description: description as string | undefined, reportedBy: reportedBy as string | undefined };
}

export async function weddingDayCrisis(rawInput: WeddingDayCrisisInput): Promise<CrisisResult> {
  const input = validate(rawInput);
  const info = workflowInfo();
  const expectedId = crisisWorkflowId(input);
  if (info.workflowId !== expectedId) {
    // The ID is what makes a second start for the same crisis be refused; any other ID would allow duplicates.
    throw invalidInput('workflowId', `must be "${expectedId}" for this wedding and crisis type`);
  }
  const crisisKey = info.workflowId;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, crisisKey);
  const startedMs = Date.now();
  const iso = (ms = Date.now()) => new Date(ms).toISOString();

  const state: Omit<CrisisStatus, 'gates' | 'elapsedMs'> = {
    crisisKey,
    weddingId: input.weddingId,
    crisisType: input.crisisType,
    stage: 'stage1',
    startedAt: iso(startedMs),
    stages: {
      stage1: { dueBy: iso(startedMs + STAGE1_DUE_MS), missedDeadline: false },
      stage2: { dueBy: iso(startedMs + STAGE2_DUE_MS), missedDeadline: false },
    },
    steps: Object.fromEntries(
      ['emergency-alert', 'manual-mode', 'notify-couples', ...FOLLOW_UP.map((f) => f.action)].map((s) => [s, 'pending' as StepState]),
    ),
    couplesAffected: [],
    couplesNotified: [],
    escalationTier: 0,
    timeline: [],
  };
  setHandler(crisisStatusQuery, () => ({ ...state, elapsedMs: Date.now() - startedMs, gates: gates.status() }));
  const event = (text: string) => state.timeline.push({ at: iso(), event: text });

  event(`crisis opened: ${input.crisisType} at ${input.weddingId}${input.description ? ` (${input.description})` : ''}`);
  audit.record({
    step: 'crisis',
    actor: input.reportedBy ?? 'workflow',
    action: 'opened',
    outcome: 'open',
    reason: input.description,
    details: { weddingId: input.weddingId, crisisType: input.crisisType },
  });
  const directory = await loadDirectory();
  gates.setRoster(directory.members);

  const tell = async (tierIndex: number, why: string) => {
    const tier = WEDSYNC_ESCALATION_CHAIN[Math.min(tierIndex, WEDSYNC_ESCALATION_CHAIN.length - 1)];
    event(`${tierIndex === 0 ? 'alerted' : 'escalated to'} tier ${tierIndex + 1} (${tier.roles?.join(', ')}): ${why}`);
    await gates.escalate({ name: 'crisis', prompt: `Wedding-day crisis ${crisisKey}: ${why}` }, tier, tierIndex + 1);
  };
  const escalate = async (why: string) => {
    state.escalationTier = Math.min(state.escalationTier + 1, WEDSYNC_ESCALATION_CHAIN.length - 1);
    await tell(state.escalationTier, why);
  };

  /** Runs one step, recording its state and duration; a failure escalates and lets the other steps go on. */
  const step = async (name: string, work: () => Promise<void>, began = Date.now()) => {
    state.steps[name] = 'running';
    try {
      await work();
      state.steps[name] = 'done';
      event(`${name} done`);
      audit.record({ step: name, actor: 'workflow', action: 'step', outcome: 'done', durationMs: Date.now() - began });
    } catch (err) {
      if (isCancellation(err)) {
        state.steps[name] = 'cancelled';
        throw err;
      }
      state.steps[name] = 'failed';
      const message = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      event(`${name} failed: ${message}`);
      audit.record({ step: name, actor: 'workflow', action: 'step', outcome: 'failed', reason: message, durationMs: Date.now() - began });
      await escalate(`${name} failed: ${message}`);
    }
  };

  /** Waits for a stage's work; if its deadline passes first, escalates once and keeps waiting. */
  const stage = async (name: 'stage1' | 'stage2', dueMs: number, work: Promise<unknown>) => {
    let finished = false;
    work.then(
      () => (finished = true),
      () => (finished = true),
    );
    const remaining = startedMs + dueMs - Date.now();
    if (remaining <= 0 || !(await condition(() => finished, remaining))) {
      state.stages[name].missedDeadline = true;
      audit.record({ step: name, actor: 'workflow', action: 'deadline', outcome: 'missed', reason: `due by ${state.stages[name].dueBy}` });
      await escalate(`${name} missed its deadline (${state.stages[name].dueBy})`);
    }
    await work;
    state.stages[name].completedAt = iso();
    event(`${name} complete${state.stages[name].missedDeadline ? ' (late)' : ''}`);
    audit.record({
      step: name,
      actor: 'workflow',
      action: 'stage',
      outcome: state.stages[name].missedDeadline ? 'complete-late' : 'complete',
      durationMs: Date.now() - startedMs,
    });
  };

  const alertRequest = { crisisKey, weddingId: input.weddingId, crisisType: input.crisisType };
  const couplesFound = (couples: AffectedCouple[]) => {
    state.couplesAffected = couples.map((c) => c.activeCrisisId);
    event(`${couples.length} affected couple(s) found`);
  };
  const coupleNotified = (c: AffectedCouple, result: { alreadySent: boolean }) => {
    state.couplesNotified.push(c.activeCrisisId);
    audit.record({
      step: 'notify-couples',
      actor: 'workflow',
      action: 'couple-notified',
      outcome: result.alreadySent ? 'already-sent' : 'sent',
      details: { activeCrisisId: c.activeCrisisId, weddingId: c.weddingId },
    });
  };

  /** The local attempt's result, or the retrying activity's when the attempt failed for a reason worth retrying. */
  const orActivity = async <T>(name: string, attempt: PromiseSettledResult<T>, activity: () => Promise<T>): Promise<T> => {
    if (attempt.status === 'fulfilled') return attempt.value;
    if (!worthRetrying(attempt.reason)) throw attempt.reason;
    const failure = attempt.reason as Error & { cause?: Error };
    event(`${name}: local attempt failed (${failure.cause?.message ?? failure.message}); retrying as an activity`);
    return activity();
  };

  /**
   * Tries each call once as a local activity, all at once. On replay a local activity's result comes back right
   * after it was scheduled, on a first run whenever the call finished: so while the group runs nothing else may
   * schedule work (the audit trail is drained first), and callers look at the results only once all have settled.
   */
  const tryLocally = async <T extends readonly unknown[] | []>(start: () => T) => {
    await audit.flush();
    const settled = await Promise.allSettled(start());
    // A signal that got in while the group ran may have started an audit write: let it finish first here too.
    await audit.flush();
    return settled;
  };

  /** Stage 1 as one activity per call, each retried by the server: the only path before LOCAL_FIRST_PATCH. */
  const stage1ByActivities = () =>
    Promise.all([
      step('emergency-alert', () => urgent.sendEmergencyAlert(alertRequest)),
      step('manual-mode', () => urgent.enableManualCrisisMode({ crisisKey })),
      step('notify-couples', async () => {
        const couples = await urgent.findAffectedCouples({ withinMinutes: 60 });
        couplesFound(couples);
        await Promise.all(
          couples.map(async (c) => coupleNotified(c, await urgent.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId }))),
        );
      }),
    ]);

  const stage1LocalFirst = async () => {
    const began = Date.now();
    for (const name of ['emergency-alert', 'manual-mode', 'notify-couples']) state.steps[name] = 'running';
    const [alert, manual, found] = await tryLocally(() => [
      firstTry.sendEmergencyAlert(alertRequest),
      firstTry.enableManualCrisisMode({ crisisKey }),
      firstTry.findAffectedCouples({ withinMinutes: 60 }),
    ]);
    const sends =
      found.status === 'fulfilled'
        ? await tryLocally(() => found.value.map((c) => firstTry.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId })))
        : [];
    await Promise.all([
      step('emergency-alert', () => orActivity('emergency-alert', alert, () => urgent.sendEmergencyAlert(alertRequest)), began),
      step('manual-mode', () => orActivity('manual-mode', manual, () => urgent.enableManualCrisisMode({ crisisKey })), began),
      step(
        'notify-couples',
        async () => {
          const couples = await orActivity('notify-couples', found, () => urgent.findAffectedCouples({ withinMinutes: 60 }));
          couplesFound(couples);
          await Promise.all(
            couples.map(async (c, i) => {
              const activity = () => urgent.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId });
              coupleNotified(c, await (sends[i] ? orActivity(`notify-couples ${c.activeCrisisId}`, sends[i], activity) : activity()));
            }),
          );
        },
        began,
      ),
    ]);
  };

  /** A follow-up action, once its endpoint was called: waits until a responder confirms it is done. */
  const confirmed = async (action: CrisisAction, label: string) => {
    state.steps[action] = 'awaiting-confirmation';
    for (;;) {
      const outcome = await gates.wait({
        name: `confirm-${action}`,
        prompt: `Confirm "${label}" is done for ${input.weddingId}`,
        deciders: RESPONDERS,
      });
      if (outcome.decision === 'approve') break;
      event(`${action} not confirmed by ${outcome.by}: ${outcome.reason}`);
    }
  };
  const actionRequest = (action: CrisisAction) => ({ crisisKey, action, weddingId: input.weddingId });

  const stage2ByActivities = () =>
    Promise.all(
      FOLLOW_UP.map(({ action, label }) =>
        step(action, async () => {
          await urgent.startCrisisAction(actionRequest(action));
          await confirmed(action, label);
        }),
      ),
    );

  const stage2LocalFirst = async () => {
    const began = Date.now();
    for (const { action } of FOLLOW_UP) state.steps[action] = 'running';
    const starts = await tryLocally(() => FOLLOW_UP.map(({ action }) => firstTry.startCrisisAction(actionRequest(action))));
    await Promise.all(
      FOLLOW_UP.map(({ action, label }, i) =>
        step(
          action,
          async () => {
            await orActivity(action, starts[i], () => urgent.startCrisisAction(actionRequest(action)));
            await confirmed(action, label);
          },
          began,
        ),
      ),
    );
  };

  const protocol = async () => {
    const localFirst = patched(LOCAL_FIRST_PATCH);
    await stage('stage1', STAGE1_DUE_MS, localFirst ? stage1LocalFirst() : stage1ByActivities());
    state.stage = 'stage2';
    await stage('stage2', STAGE2_DUE_MS, localFirst ? stage2LocalFirst() : stage2ByActivities());
    state.stage = 'awaiting-resolution';
  };

  // Telling the first tier runs beside stage 1: the protocol's own alert must not wait for it.
  const firstAlert = tell(0, `${input.crisisType} at ${input.weddingId}; emergency protocol started`);
  const protocolScope = new CancellationScope();
  const protocolRun = protocolScope.run(protocol);
  protocolRun.catch(() => undefined); // awaited below; a resolution may cancel it first

  let resolution;
  for (;;) {
    resolution = await gates.wait({ name: 'resolve', prompt: `Resolve wedding-day crisis ${crisisKey}`, deciders: RESOLVERS });
    if (resolution.decision === 'approve') break;
    event(`resolution refused by ${resolution.by}: ${resolution.reason}`);
  }
  if (state.stage !== 'awaiting-resolution') {
    event('resolved before the protocol finished: remaining steps cancelled');
    protocolScope.cancel();
  }
  try {
    await protocolRun;
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }

  await firstAlert;
  state.stage = 'resolved';
  event(`resolved by ${resolution.by}: ${resolution.reason}`);
  audit.record({ step: 'crisis', actor: resolution.by, action: 'resolved', outcome: 'resolved', reason: resolution.reason, durationMs: Date.now() - startedMs });
  await CancellationScope.nonCancellable(() =>
    urgent.updatePagerDuty({ action: 'resolve', dedupKey: crisisKey, summary: `crisis ${crisisKey} resolved` }),
  ).catch(() => event('PagerDuty resolve failed; resolve the alert by hand'));
  await audit.flush();
  const { stage: _stage, ...rest } = state;
  return { ...rest, elapsedMs: Date.now() - startedMs, resolvedBy: resolution.by, resolution: resolution.reason, resolvedAt: iso() };
}
