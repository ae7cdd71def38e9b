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
import { CancellationScope, isCancellation, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { invalidInput } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { loadDirectory } from '../policies';
import { LOCAL_FIRST_PATCH, PATH_DECIDED_FIRST_PATCH } from './local-first';
import {
  crisisStatusQuery,
  crisisWorkflowId,
  parseWeddingDayCrisisInput,
  type CrisisResult,
  type WeddingDayCrisisInput,
} from './messages';
import { CrisisRun } from './run';
import {
  FOLLOW_UP,
  STAGE1_STEPS,
  stage1ByActivities,
  stage1LocalFirst,
  stage2ByActivities,
  stage2LocalFirst,
} from './stages';

const RESOLVERS = { roles: ['wedding-day-support', 'ai-ops', 'cto'] };

export async function weddingDayCrisis(rawInput: WeddingDayCrisisInput): Promise<CrisisResult> {
  const input = parseWeddingDayCrisisInput(rawInput);
  const info = workflowInfo();
  const expectedId = crisisWorkflowId(input);
  if (info.workflowId !== expectedId) {
    // The ID is what makes a second start for the same crisis be refused; any other ID would allow duplicates.
    throw invalidInput('workflowId', `must be "${expectedId}" for this wedding and crisis type`);
  }
  // Which path the protocol takes is decided before the first await (PATH_DECIDED_FIRST_PATCH): see local-first.ts.
  const decidedFirst = patched(PATH_DECIDED_FIRST_PATCH);
  const crisisKey = info.workflowId;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, crisisKey);
  const run = new CrisisRun(input, crisisKey, audit, gates, Date.now(), [
    ...STAGE1_STEPS,
    ...FOLLOW_UP.map((f) => f.action),
  ]);
  const { state } = run;
  setHandler(crisisStatusQuery, () => run.status());

  run.event(
    `crisis opened: ${input.crisisType} at ${input.weddingId}${input.description ? ` (${input.description})` : ''}`,
  );
  audit.record({
    step: 'crisis',
    actor: input.reportedBy ?? 'workflow',
    action: 'opened',
    outcome: 'open',
    reason: input.description,
    details: { weddingId: input.weddingId, crisisType: input.crisisType },
  });
  gates.setRoster((await loadDirectory()).members);

  const protocol = async () => {
    const localFirst = decidedFirst || patched(LOCAL_FIRST_PATCH);
    await run.stage('stage1', localFirst ? stage1LocalFirst(run) : stage1ByActivities(run));
    state.stage = 'stage2';
    await run.stage('stage2', localFirst ? stage2LocalFirst(run) : stage2ByActivities(run));
    state.stage = 'awaiting-resolution';
  };

  // Telling the first tier runs beside stage 1: the protocol's own alert must not wait for it.
  const firstAlert = run.tell(0, `${input.crisisType} at ${input.weddingId}; emergency protocol started`);
  const protocolScope = new CancellationScope();
  const protocolRun = protocolScope.run(protocol);
  protocolRun.catch(() => undefined); // awaited below; a resolution may cancel it first

  let resolution;
  for (;;) {
    resolution = await gates.wait({
      name: 'resolve',
      prompt: `Resolve wedding-day crisis ${crisisKey}`,
      deciders: RESOLVERS,
    });
    if (resolution.decision === 'approve') break;
    run.event(`resolution refused by ${resolution.by}: ${resolution.reason}`);
  }
  if (state.stage !== 'awaiting-resolution') {
    run.event('resolved before the protocol finished: remaining steps cancelled');
    protocolScope.cancel();
  }
  try {
    await protocolRun;
  } catch (err) {
    if (!isCancellation(err)) throw err;
  }

  await firstAlert;
  state.stage = 'resolved';
  run.event(`resolved by ${resolution.by}: ${resolution.reason}`);
  audit.record({
    step: 'crisis',
    actor: resolution.by,
    action: 'resolved',
    outcome: 'resolved',
    reason: resolution.reason,
    durationMs: Date.now() - run.startedMs,
  });
  // Bounded retries: a wrong URL must not keep a resolved crisis open.
  const unresolved = await CancellationScope.nonCancellable(() =>
    gates.pager.update('resolve', `crisis ${crisisKey} resolved`),
  );
  for (const reason of unresolved) run.event(`PagerDuty resolve failed; resolve the alert by hand: ${reason}`);
  await gates.settled();
  await audit.flush();
  const { stage: _stage, ...rest } = state;
  return {
    ...rest,
    elapsedMs: Date.now() - run.startedMs,
    resolvedBy: resolution.by,
    resolution: resolution.reason,
    resolvedAt: new Date().toISOString(),
  };
}
