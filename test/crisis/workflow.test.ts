import assert from 'node:assert/strict';
import { beforeEach, describe } from 'node:test';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId, type CrisisStatus } from '../../src/workflows/crisis/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { CRISIS_PATHS, pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';

const FOLLOW_UPS = ['emergency-planners', 'vendor-network', 'executive-escalation', 'crisis-communication'];

describe('weddingDayCrisis on the time-skipping server with real PostgreSQL', () => {
  const suite = runbookSuite('aiops_test_crisis');
  const test = suite.test;

  let couples: number[];
  beforeEach(async () => {
    await suite.deps.pool.query('DELETE FROM active_crises');
    const { rows } = await suite.deps.pool.query<{ id: string }>(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at) VALUES
         ('w-1', 'a@example.com', 'vendor_cancellation', 'ai_processing', now() - interval '5 minutes'),
         ('w-2', 'b@example.com', 'weather', 'ai_processing', now() - interval '50 minutes'),
         ('w-3', 'c@example.com', 'venue', 'ai_processing', now() - interval '2 hours'),
         ('w-4', 'd@example.com', 'venue', 'resolved', now() - interval '1 minute')
       RETURNING id`,
    );
    couples = rows.slice(0, 2).map((r) => Number(r.id)); // the seed's query: ai_processing, last hour
  });

  function start(weddingId: string, crisisType = 'vendor_cancellation') {
    const input = { weddingId, crisisType: crisisType as 'vendor_cancellation', reportedBy: 'wedding-support' };
    return suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
    });
  }

  const waitForStatus = (handle: WorkflowHandle, pred?: (s: CrisisStatus) => boolean) =>
    queryUntil(handle, crisisStatusQuery, pred);

  const confirm = (gate: string, by = 'wedding-support') => ({
    gate,
    decision: 'approve' as const,
    by,
    reason: 'done, confirmed by phone',
  });

  test('runs stage 1 within 5 minutes, escalates stage 2 at 30 minutes, and ends when resolved', async () => {
    const weddingId = uniqueId('w').slice(0, 40);
    const handle = await start(weddingId);
    const afterStage1 = await waitForStatus(
      handle,
      (s) => s.stage === 'stage2' && FOLLOW_UPS.every((a) => s.steps[a] === 'awaiting-confirmation'),
    );
    assert.equal(afterStage1.stages.stage1.missedDeadline, false);
    assert.deepEqual([...afterStage1.couplesNotified].sort(), [...couples].sort());
    assert.equal(suite.receiver.callsTo(CRISIS_PATHS.alert) >= 1, true);
    const alert = JSON.parse(suite.receiver.requests.find((r) => r.path === CRISIS_PATHS.alert)!.body);
    assert.equal(alert.type, 'ai_crisis_failure');
    assert.equal(alert.severity, 'critical');

    // Nobody confirms the follow-up actions: at 30 minutes the crisis goes to the chain's next tier.
    const beforeDeadline = suite.receiver.requests.length;
    await suite.env.sleep('31 minutes');
    const late = await waitForStatus(handle, (s) => s.stages.stage2.missedDeadline);
    assert.equal(late.escalationTier, 1);
    const escalations = pagerDutyEvents(suite.receiver, beforeDeadline).filter((e) => e.event_action === 'trigger');
    assert.equal(escalations.length, 1, JSON.stringify(escalations));
    // Each tier is paged under a key of its own, so PagerDuty does not fold it into the first tier's alert.
    assert.equal(escalations[0].dedup_key, `${handle.workflowId}/tier-2`);
    assert.match(
      escalations[0].payload!.summary,
      /^\[Platform Engineering on-call\] .*escalated to you \(tier 2\): Wedding-day crisis \S+: stage2 missed its deadline/,
    );
    assert.ok(late.elapsedMs >= 30 * 60_000, `elapsed ${late.elapsedMs}`);
    // Platform Engineering is reached by PagerDuty alone (no Slack handle on the roster).
    assert.deepEqual(slackTexts(suite.receiver, beforeDeadline), []);

    for (const action of FOLLOW_UPS) await handle.executeUpdate(decideUpdate, { args: [confirm(`confirm-${action}`)] });
    await waitForStatus(handle, (s) => s.stage === 'awaiting-resolution');
    await handle.signal(decisionSignal, confirm('resolve', 'cto'));
    const result = await handle.result();
    assert.equal(result.resolvedBy, 'cto');
    assert.ok(result.stages.stage2.missedDeadline);
    assert.ok(result.timeline.some((e) => e.event.startsWith('stage2 complete (late)')));
    assert.equal(result.timeline.at(-1)!.event, 'resolved by cto: done, confirmed by phone');
  });

  test('escalates when stage 1 misses its 5-minute deadline and keeps going', async () => {
    // The alert endpoint is down until the deadline has passed, however many attempts that takes.
    let outage = true;
    suite.receiver.route(CRISIS_PATHS.alert, () => (outage ? { status: 503 } : { status: 202, body: {} }));
    try {
      const handle = await start(uniqueId('w').slice(0, 40), 'weather');
      await suite.env.sleep('6 minutes');
      const s = await waitForStatus(handle, (st) => st.stages.stage1.missedDeadline);
      assert.equal(s.escalationTier, 1);
      // The alert keeps retrying through the outage and gets through.
      outage = false;
      await suite.env.sleep('10 minutes');
      const later = await waitForStatus(handle, (st) =>
        FOLLOW_UPS.every((a) => st.steps[a] === 'awaiting-confirmation'),
      );
      assert.equal(later.steps['emergency-alert'], 'done');
      assert.ok(later.timeline.some((e) => e.event.startsWith('emergency-alert: local attempt failed')));
      assert.ok(later.stages.stage1.completedAt);
      await handle.signal(decisionSignal, confirm('resolve'));
      const result = await handle.result();
      assert.ok(result.timeline.some((e) => e.event.includes('resolved before the protocol finished')));
    } finally {
      suite.receiver.route(CRISIS_PATHS.alert, { status: 202, body: {} });
    }
  });

  test('refuses an unauthorised decider through the update, ignores them through the signal, and audits both', async () => {
    const handle = await start(uniqueId('w').slice(0, 40), 'venue');
    // Decide while nothing but people is awaited, so no step is cut off mid-call.
    await waitForStatus(handle, (s) => FOLLOW_UPS.every((a) => s.steps[a] === 'awaiting-confirmation'));

    await assert.rejects(
      handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'resolve', decision: 'approve', by: 'devops', reason: 'looks fine' }],
      }),
      (err: Error) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String(err.cause?.message), /by: "devops" may not decide at gate "resolve"/);
        return true;
      },
    );
    await rejectsWithCause(
      handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'no-such-gate', decision: 'approve', by: 'cto', reason: 'x' }],
      }),
      /^gate "no-such-gate" is not open \(open: .*resolve/,
    );
    await handle.signal(decisionSignal, { gate: 'resolve', decision: 'approve', by: 'mallory', reason: 'let me in' });
    const still = await handle.query(crisisStatusQuery);
    assert.equal(still.stage, 'stage2');
    assert.ok(still.gates.some((g) => g.gate === 'resolve'));

    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'resolve', decision: 'approve', by: 'ai-ops', reason: 'vendor replaced' }],
    });
    const result = await handle.result();
    assert.equal(result.resolvedBy, 'ai-ops');

    const { rows } = await suite.deps.pool.query<{ actor: string; action: string; outcome: string; reason: string }>(
      `SELECT actor, action, outcome, reason FROM audit_log WHERE workflow_id = $1 AND step = 'gate:resolve' ORDER BY id`,
      [handle.workflowId],
    );
    assert.deepEqual(
      rows.filter((r) => r.action !== 'gate-opened').map((r) => [r.actor, r.action, r.outcome]),
      [
        ['mallory', 'decision-signal', 'rejected'],
        ['ai-ops', 'decision-update', 'approve'],
      ],
    );
    assert.match(rows.find((r) => r.actor === 'mallory')!.reason, /not on the roster/);
  });

  test('refuses a second start for the same crisis and a start under another workflow ID', async () => {
    const weddingId = uniqueId('w').slice(0, 40);
    const handle = await start(weddingId);
    await assert.rejects(start(weddingId), WorkflowExecutionAlreadyStartedError);

    const input = { weddingId, crisisType: 'weather' as const };
    const wrongId = await suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('crisis'),
      args: [input],
    });
    await assert.rejects(wrongId.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /^workflowId: must be "wedding-crisis-/);
      return true;
    });
    await waitForStatus(handle, (s) => FOLLOW_UPS.every((a) => s.steps[a] === 'awaiting-confirmation'));
    await handle.signal(decisionSignal, confirm('resolve'));
    await handle.result();
  });

  test('fails at once, without retry, on a crisis type that is not on the list', async () => {
    const input = { weddingId: 'w-x', crisisType: 'zombies' as never };
    const handle = await suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: 'wedding-crisis-w-x-zombies',
      args: [input],
    });
    await assert.rejects(handle.result(), (err: Error) => {
      assert.match(
        String((err as WorkflowFailedError).cause?.message),
        /^crisisType: must be one of vendor_cancellation/,
      );
      return true;
    });
  });
});
