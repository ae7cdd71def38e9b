/**
 * The protocol's stages as runs from before platform scope took them (seed 002 Issue 4, EMERGENCY PROTOCOL), kept
 * so their histories replay: one activity per call (before LOCAL_FIRST_PATCH) and local first tries (local-first.ts).
 * Stage 2 is the same today, with deadlines on its gates (`stage2ByActivities` given a gate policy).
 *   Immediate Actions (0-5 minutes): emergency alert; manual crisis mode; notify the affected couples.
 *   Follow-up Actions (5-30 minutes): the four actions, each confirmed done by a responder.
 */
import type { AffectedCouple, CrisisAction } from '../../contracts/crisis';
import type { GateSpec } from '../../contracts/gates';
import { firstTry, urgent } from '../policies';
import { orActivity, tryLocally } from './local-first';
import type { CrisisRun } from './run';

export const STAGE1_STEPS = ['emergency-alert', 'manual-mode', 'notify-couples'];

export const FOLLOW_UP: { action: CrisisAction; label: string }[] = [
  { action: 'emergency-planners', label: 'Deploy Emergency Wedding Planners' },
  { action: 'vendor-network', label: 'Activate Vendor Emergency Network' },
  { action: 'executive-escalation', label: 'Escalate to Executive Team' },
  { action: 'crisis-communication', label: 'Begin Crisis Communication Protocol' },
];

/** The seed's query: crises the AI was processing in the last hour. */
const TAKEOVER_WINDOW = { withinMinutes: 60 };
const RESPONDERS = { roles: ['wedding-day-support', 'ai-ops', 'platform-oncall', 'cto'] };

export const alertRequest = (run: CrisisRun) => ({
  crisisKey: run.crisisKey,
  weddingId: run.input.weddingId,
  crisisType: run.input.crisisType,
  failure: run.input.failure,
});
const actionRequest = (run: CrisisRun, action: CrisisAction) => ({
  crisisKey: run.crisisKey,
  action,
  weddingId: run.input.weddingId,
});

function couplesFound(run: CrisisRun, couples: AffectedCouple[]): void {
  run.state.couples.found = couples.length;
  run.countCouples();
  run.event(`${couples.length} affected couple(s) found`);
}

function coupleNotified(run: CrisisRun, c: AffectedCouple, result: { alreadySent: boolean }): void {
  run.state.couples[result.alreadySent ? 'alreadyTold' : 'notified'] += 1;
  run.countCouples();
  run.audit.record({
    step: 'notify-couples',
    actor: 'workflow',
    action: 'couple-notified',
    outcome: result.alreadySent ? 'already-sent' : 'sent',
    details: { activeCrisisId: c.activeCrisisId, weddingId: c.weddingId },
  });
}

export function stage1ByActivities(run: CrisisRun) {
  const { crisisKey } = run;
  return Promise.all([
    run.step('emergency-alert', () => urgent.sendEmergencyAlert(alertRequest(run))),
    run.step('manual-mode', () => urgent.enableManualCrisisMode({ crisisKey })),
    run.step('notify-couples', async () => {
      const couples = await urgent.findAffectedCouples(TAKEOVER_WINDOW);
      couplesFound(run, couples);
      await Promise.all(
        couples.map(async (c) =>
          coupleNotified(run, c, await urgent.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId })),
        ),
      );
    }),
  ]);
}

export async function stage1LocalFirst(run: CrisisRun) {
  const { crisisKey } = run;
  const began = Date.now();
  for (const name of STAGE1_STEPS) run.state.steps[name] = 'running';
  const [alert, manual, found] = await tryLocally(run, () => [
    firstTry.sendEmergencyAlert(alertRequest(run)),
    firstTry.enableManualCrisisMode({ crisisKey }),
    firstTry.findAffectedCouples(TAKEOVER_WINDOW),
  ]);
  const sends =
    found.status === 'fulfilled'
      ? await tryLocally(run, () =>
          found.value.map((c) => firstTry.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId })),
        )
      : [];
  await Promise.all([
    run.step(
      'emergency-alert',
      () => orActivity(run, 'emergency-alert', alert, () => urgent.sendEmergencyAlert(alertRequest(run))),
      began,
    ),
    run.step(
      'manual-mode',
      () => orActivity(run, 'manual-mode', manual, () => urgent.enableManualCrisisMode({ crisisKey })),
      began,
    ),
    run.step(
      'notify-couples',
      async () => {
        const couples = await orActivity(run, 'notify-couples', found, () =>
          urgent.findAffectedCouples(TAKEOVER_WINDOW),
        );
        couplesFound(run, couples);
        await Promise.all(
          couples.map(async (c, i) => {
            const activity = () => urgent.notifyCouple({ crisisKey, activeCrisisId: c.activeCrisisId });
            coupleNotified(
              run,
              c,
              await (sends[i] ? orActivity(run, `notify-couples ${c.activeCrisisId}`, sends[i], activity) : activity()),
            );
          }),
        );
      },
      began,
    ),
  ]);
}

/** Deadlines, escalation and reminders of a confirmation gate (runs from before platform scope had none). */
export type GatePolicy = Pick<GateSpec, 'tierTimeoutMs' | 'escalation' | 'onExhausted' | 'remindEveryMs' | 'pageKey'>;

/** A follow-up action, once its endpoint was called: waits until a responder confirms it is done. */
async function confirmed(run: CrisisRun, action: CrisisAction, label: string, policy?: GatePolicy): Promise<void> {
  run.state.steps[action] = 'awaiting-confirmation';
  const where = run.input.weddingId ?? `crisis manager failure ${run.input.failure}`;
  for (;;) {
    const outcome = await run.gates.wait({
      name: `confirm-${action}`,
      prompt: `Confirm "${label}" is done for ${where}`,
      deciders: RESPONDERS,
      ...policy,
      ...(policy?.escalation ? { pageKey: `${run.crisisKey}/confirm-${action}` } : {}),
    });
    if (outcome.decision === 'approve') break;
    run.event(`${action} not confirmed by ${outcome.by}: ${outcome.reason}`);
  }
}

export function stage2ByActivities(run: CrisisRun, policy?: GatePolicy) {
  return Promise.all(
    FOLLOW_UP.map(({ action, label }) =>
      run.step(action, async () => {
        await urgent.startCrisisAction(actionRequest(run, action));
        await confirmed(run, action, label, policy);
      }),
    ),
  );
}

export async function stage2LocalFirst(run: CrisisRun) {
  const began = Date.now();
  for (const { action } of FOLLOW_UP) run.state.steps[action] = 'running';
  const starts = await tryLocally(run, () =>
    FOLLOW_UP.map(({ action }) => firstTry.startCrisisAction(actionRequest(run, action))),
  );
  await Promise.all(
    FOLLOW_UP.map(({ action, label }, i) =>
      run.step(
        action,
        async () => {
          await orActivity(run, action, starts[i], () => urgent.startCrisisAction(actionRequest(run, action)));
          await confirmed(run, action, label);
        },
        began,
      ),
    ),
  );
}
