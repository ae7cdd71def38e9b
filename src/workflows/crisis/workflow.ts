/**
 * WedSync wedding-day crisis protocol, seed 002 "Issue 4: Wedding Day Crisis Management Failure": what people do
 * when the AI crisis manager itself fails. EMERGENCY PROTOCOL:
 *   Immediate Actions (0-5 minutes): 1. send emergency alert; 2. enable manual crisis management;
 *   3. notify affected couples (SELECT wedding_id, couple_email, crisis_type FROM active_crises
 *      WHERE status = 'ai_processing' AND created_at > NOW() - INTERVAL '1 hour'): every wedding's crises, taken over
 *      by this run and marked handled manually, each couple told once (takeover.ts).
 *   Follow-up Actions (5-30 minutes): deploy emergency wedding planners; activate vendor emergency network;
 *   escalate to executive team; begin crisis communication protocol; each confirmed done by a responder.
 * A stage that misses its deadline escalates along the "AI System Escalation Chain", and again while it stays late;
 * confirmation gates escalate too, and every open gate reminds its deciders. It ends when an authorised person
 * resolves the crisis (gate "resolve").
 *
 * One run per failure of the crisis manager (workflow ID crisis-takeover-<failure>, see crisisWorkflowId), started
 * by the crisis-manager watch, by an alert (signal-with-start of "alert"), or by an operator:
 *   temporal workflow start --type weddingDayCrisis --task-queue aiops-runbooks \
 *     --workflow-id crisis-takeover-2026-11-28T14:05:00Z \
 *     --input '{"failure":"2026-11-28T14:05:00Z","description":"crisis responses over 10 s","reportedBy":"wedding-support"}'
 * One wedding only: add "weddingId":"wedding-17" to the input and -wedding-wedding-17 to the workflow ID.
 */
import { patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { WEDSYNC_ESCALATION_CHAIN } from '../../contracts/roster';
import { invalidInput } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { loadDirectory } from '../policies';
import { legacyWeddingDayCrisis } from './legacy';
import {
  crisisAlertSignal,
  crisisStatusQuery,
  crisisWorkflowId,
  parseWeddingDayCrisisInput,
  type CrisisResult,
  type LegacyCrisisInput,
  type WeddingDayCrisisInput,
} from './messages';
import { runUntilResolved } from './resolution';
import { CrisisRun } from './run';
import { FOLLOW_UP, stage2ByActivities, type GatePolicy } from './stages';
import { stage1Takeover, sweepOnAlerts, TAKEOVER_STEPS } from './takeover';

/**
 * Marks runs that take over at platform scope: one run per crisis manager failure, each couple told once across
 * runs, batched notifications, normal activities only (no local first tries), reminders and repeated escalation.
 * Asked for before anything else, so it is always in the first workflow task (see local-first.ts for why).
 */
export const PLATFORM_SCOPE_PATCH = 'crisis-platform-scope';

const MINUTE = 60_000;
/** A late stage is escalated to the next tier again this often until it completes. */
const ESCALATE_AGAIN_MS = { stage1: 5 * MINUTE, stage2: 10 * MINUTE };
/** A follow-up action unconfirmed for 10 minutes goes up the chain a tier at a time; then its deciders are reminded. */
const CONFIRM_GATES: GatePolicy = {
  tierTimeoutMs: 10 * MINUTE,
  escalation: WEDSYNC_ESCALATION_CHAIN.slice(1),
  onExhausted: 'keep-waiting',
  remindEveryMs: 10 * MINUTE,
};
/** Nobody may forget to close a crisis: the resolvers are reminded every half hour. */
const RESOLVE_GATE: GatePolicy = { remindEveryMs: 30 * MINUTE };

export async function weddingDayCrisis(rawInput: WeddingDayCrisisInput): Promise<CrisisResult> {
  if (!patched(PLATFORM_SCOPE_PATCH)) return legacyWeddingDayCrisis(rawInput as unknown as LegacyCrisisInput);
  const input = parseWeddingDayCrisisInput(rawInput);
  const info = workflowInfo();
  const expectedId = crisisWorkflowId(input);
  if (info.workflowId !== expectedId) {
    // The ID is what makes a second start for the same failure be refused, or an alert join the running one.
    throw invalidInput(
      'workflowId',
      `must be "${expectedId}" for this failure${input.weddingId ? ' and wedding' : ''}`,
    );
  }
  const crisisKey = info.workflowId;
  const audit = new AuditTrail({ byActivity: true });
  const gates = new Gatekeeper(audit, crisisKey);
  const run = new CrisisRun(input, crisisKey, audit, gates, Date.now(), [
    ...TAKEOVER_STEPS,
    ...FOLLOW_UP.map((f) => f.action),
  ]);
  run.keyPerRepeat = true;
  setHandler(crisisStatusQuery, () => run.status());
  gates.onSignal(crisisAlertSignal, (alert) => run.alertReceived(alert));

  const scope = input.weddingId ? `wedding ${input.weddingId}` : 'all weddings';
  run.event(
    `crisis manager failure ${input.failure}: taking over ${scope}${input.description ? ` (${input.description})` : ''}`,
  );
  audit.record({
    step: 'crisis',
    actor: input.reportedBy ?? 'workflow',
    action: 'opened',
    outcome: 'open',
    reason: input.description,
    details: { failure: input.failure, weddingId: input.weddingId, withinMinutes: input.withinMinutes },
  });

  // Stage 1's calls are scheduled in the first workflow task, before the roster is read and beside the audit
  // writes and the first tier's page: nothing holds up the emergency alert.
  const protocol = async () => {
    await run.stage('stage1', stage1Takeover(run, input.withinMinutes), ESCALATE_AGAIN_MS.stage1);
    // Alerts from here on sweep again, until the crisis is resolved (a workflow may end with this loop waiting).
    void sweepOnAlerts(run, input.withinMinutes, () => run.firingAlerts).catch(() => undefined);
    run.state.stage = 'stage2';
    await run.stage('stage2', stage2ByActivities(run, CONFIRM_GATES), ESCALATE_AGAIN_MS.stage2);
    run.state.stage = 'awaiting-resolution';
  };
  const firstAlert = run.tell(0, `crisis manager failure ${input.failure} (${scope}); emergency protocol started`);
  return runUntilResolved(run, protocol, firstAlert, RESOLVE_GATE, async () =>
    gates.setRoster((await loadDirectory()).members),
  );
}
