import assert from 'node:assert/strict';
import { beforeEach, describe } from 'node:test';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DEMO_ROSTER } from '../../scripts/lib/local-stack';
import { WEDSYNC_ESCALATION_CHAIN } from '../../src/contracts/roster';
import { weddingDayCrisis } from '../../src/workflows';
import { laterPassDelays } from '../../src/workflows/crisis/takeover';
import {
  crisisAlertSignal,
  crisisStatusQuery,
  crisisWorkflowId,
  type CrisisStatus,
  type WeddingDayCrisisInput,
} from '../../src/workflows/crisis/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { CRISIS_PATHS, honourIdempotency, pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { withOperatorKeys } from '../helpers/operators';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';

const WEDSYNC_ROLES = new Set(WEDSYNC_ESCALATION_CHAIN.flatMap((tier) => tier.roles ?? []));
const FOLLOW_UPS = ['emergency-planners', 'vendor-network', 'executive-escalation', 'crisis-communication'];

describe('weddingDayCrisis on the time-skipping server with real PostgreSQL', () => {
  // Everyone on the WedSync chain is paged, so each escalation's PagerDuty key shows at the receiver.
  const suite = runbookSuite('aiops_test_crisis', () => ({
    AIOPS_ROSTER: JSON.stringify(
      withOperatorKeys(
        DEMO_ROSTER.map((m) => (m.roles.some((r) => WEDSYNC_ROLES.has(r)) ? { ...m, pagerduty: true } : m)),
      ),
    ),
  }));
  const test = suite.test;

  /** Ids of the crises the seed's query finds: ai_processing, within the last hour, at weddings w-1 and w-2. */
  let inWindow: number[];
  beforeEach(async () => {
    await suite.deps.pool.query('DELETE FROM active_crises');
    const { rows } = await suite.deps.pool.query<{ id: string }>(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at) VALUES
         ('w-1', 'a@example.com', 'vendor_cancellation', 'ai_processing', now() - interval '5 minutes'),
         ('w-2', 'b@example.com', 'weather', 'ai_processing', now() - interval '50 minutes'),
         ('w-1', 'e@example.com', 'venue', 'ai_processing', now() - interval '1 minute'),
         ('w-3', 'c@example.com', 'venue', 'ai_processing', now() - interval '2 hours'),
         ('w-4', 'd@example.com', 'venue', 'resolved', now() - interval '1 minute')
       RETURNING id`,
    );
    inWindow = rows.slice(0, 3).map((r) => Number(r.id));
  });

  function start(input: WeddingDayCrisisInput) {
    return suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
    });
  }
  const failure = () => uniqueId('failure');
  const lastAlert = () => JSON.parse(suite.receiver.requests.filter((r) => r.path === CRISIS_PATHS.alert).at(-1)!.body);

  const waitForStatus = (handle: WorkflowHandle, pred?: (s: CrisisStatus) => boolean) =>
    queryUntil(handle, crisisStatusQuery, pred);
  const inStage2 = (s: CrisisStatus) => FOLLOW_UPS.every((a) => s.steps[a] === 'awaiting-confirmation');

  const confirm = (gate: string, by = 'wedding-support') => ({
    gate,
    decision: 'approve' as const,
    by,
    reason: 'done, confirmed by phone',
  });

  const takenOverBy = async (workflowId: string) =>
    (
      await suite.deps.pool.query<{ id: string; status: string }>(
        'SELECT id, status FROM active_crises WHERE taken_over_by = $1 ORDER BY id',
        [workflowId],
      )
    ).rows;

  test('takes over every wedding’s crises in the window, tells each couple once, escalates stage 2 and its gates, reminds', async () => {
    const ledger = honourIdempotency(suite.receiver);
    const handle = await start({ failure: failure(), reportedBy: 'wedding-support' });
    const afterStage1 = await waitForStatus(handle, (s) => s.stage === 'stage2' && inStage2(s));
    assert.equal(afterStage1.stages.stage1.missedDeadline, false);
    assert.deepEqual(afterStage1.couples, { found: 3, notified: 3, alreadyTold: 0, failed: 0, remaining: 0 });
    assert.deepEqual(ledger, { told: inWindow.map((id) => `couple-notice/${id}`), repeats: 0 });
    // Marked handled manually, so the AI's recovery leaves them alone; the crisis outside the window is untouched.
    assert.deepEqual(
      (await takenOverBy(handle.workflowId)).map((r) => [Number(r.id), r.status]),
      inWindow.map((id) => [id, 'manual']),
    );
    const alert = lastAlert();
    assert.equal(alert.type, 'ai_crisis_failure');
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.scope, 'platform');

    // Nobody confirms: at 10 minutes each confirmation gate asks the chain's next tier, at 30 the stage escalates.
    const before = suite.receiver.requests.length;
    await suite.env.sleep('31 minutes');
    const late = await waitForStatus(handle, (s) => s.stages.stage2.missedDeadline);
    const triggers = pagerDutyEvents(suite.receiver, before).filter((e) => e.event_action === 'trigger');
    const keys = new Set(triggers.map((e) => e.dedup_key));
    assert.ok(keys.has(`${handle.workflowId}/tier-2`), [...keys].join());
    // The gates page under keys of their own: a gate's first tier under the crisis's tier-1 key would fold into
    // the alert AI Operations got when the crisis opened, and the people asked would never hear of it.
    for (const action of FOLLOW_UPS) assert.ok(keys.has(`${handle.workflowId}/confirm-${action}/tier-1`), action);
    assert.ok(!keys.has(`${handle.workflowId}/tier-1`));
    assert.ok(late.gates.filter((g) => g.gate.startsWith('confirm-')).every((g) => g.tierReached >= 2));
    assert.ok(late.timeline.some((e) => /stage2 missed its deadline/.test(e.event)));

    // Still late 10 minutes on: escalated again, to a tier further up, under a key PagerDuty has not seen.
    const tierAtDeadline = late.escalationTier;
    await suite.env.sleep('11 minutes');
    const again = await waitForStatus(handle, (s) => s.escalationTier > tierAtDeadline);
    assert.ok(again.timeline.some((e) => /stage2 still not complete/.test(e.event)));

    // Every tier asked at the confirmation gates: their deciders are now reminded every 10 minutes.
    await suite.env.sleep('25 minutes');
    const reminded = await waitForStatus(handle, (s) => s.gates.every((g) => g.nextReminder !== undefined));
    assert.ok(reminded.gates.some((g) => g.gate === 'resolve'));
    assert.ok(slackTexts(suite.receiver, before).some((t) => /reminder \d+: still waiting \d+ minute\(s\)/.test(t)));

    for (const action of FOLLOW_UPS) await handle.executeUpdate(decideUpdate, { args: [confirm(`confirm-${action}`)] });
    await waitForStatus(handle, (s) => s.stage === 'awaiting-resolution');
    await handle.signal(decisionSignal, confirm('resolve', 'cto'));
    const result = await handle.result();
    assert.equal(result.resolvedBy, 'cto');
    assert.ok(result.stages.stage2.missedDeadline);
    assert.equal(result.couples.notified, 3);
    const { rows } = await suite.deps.pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE workflow_id = $1 AND action IN ('reminded', 'taken-over', 'batch')`,
      [handle.workflowId],
    );
    for (const action of ['reminded', 'taken-over', 'batch'])
      assert.ok(
        rows.some((r) => r.action === action),
        action,
      );
  });

  test('a late stage 1 escalates through every tier and then tells the last tier again, each under a new key', async () => {
    let outage = true;
    suite.receiver.route(CRISIS_PATHS.alert, () => (outage ? { status: 503 } : { status: 202, body: {} }));
    try {
      const handle = await start({ failure: failure() });
      const before = suite.receiver.requests.length;
      // Deadline at 5 minutes, then again every 5: tiers 2, 3, 4, then tier 4 twice more.
      await suite.env.sleep('21 minutes');
      const late = await waitForStatus(handle, (s) => s.timeline.filter((e) => /stage1/.test(e.event)).length >= 4);
      assert.equal(late.escalationTier, 3);
      const keys = pagerDutyEvents(suite.receiver, before)
        .filter((e) => e.event_action === 'trigger')
        .map((e) => e.dedup_key.slice(handle.workflowId.length));
      for (const key of ['/tier-2', '/tier-3', '/tier-4', '/tier-4/2']) assert.ok(keys.includes(key), keys.join());
      assert.equal(new Set(keys).size, keys.length, `no key paged twice: ${keys.join()}`);
      outage = false;
      await waitForStatus(handle, (s) => s.stages.stage1.completedAt !== undefined);
      await handle.signal(decisionSignal, confirm('resolve'));
      const result = await handle.result();
      assert.ok(result.timeline.some((e) => e.event.includes('stage1 complete (late)')));
      // Resolving covers every key paged.
      const resolves = pagerDutyEvents(suite.receiver, before).filter((e) => e.event_action === 'resolve');
      assert.ok(resolves.some((e) => e.dedup_key === `${handle.workflowId}/tier-4/2`));
    } finally {
      suite.receiver.route(CRISIS_PATHS.alert, { status: 202, body: {} });
    }
  });

  test('two overlapping runs tell each couple once; a crisis that comes back is taken over again, not told again', async () => {
    const ledger = honourIdempotency(suite.receiver, 20);
    const first = await start({ failure: failure() });
    const second = await start({ failure: failure() });
    const [a, b] = await Promise.all([first, second].map((h) => waitForStatus(h, inStage2)));
    assert.equal(a.couples.found + b.couples.found, 3);
    assert.equal(a.couples.notified + b.couples.notified, 3);
    assert.equal(ledger.told.length, 3);
    assert.equal(ledger.repeats, 0);

    // The AI picks one crisis up again and fails again: a later run takes it over but does not tell the couple twice.
    await suite.deps.pool.query(`UPDATE active_crises SET status = 'ai_processing' WHERE id = $1`, [inWindow[0]]);
    const third = await start({ failure: failure() });
    const c = await waitForStatus(third, inStage2);
    assert.deepEqual(c.couples, { found: 1, notified: 0, alreadyTold: 1, failed: 0, remaining: 0 });
    assert.equal(ledger.told.length, 3);
    assert.deepEqual(
      (await takenOverBy(third.workflowId)).map((r) => r.status),
      ['manual'],
    );
    for (const h of [first, second, third]) await h.signal(decisionSignal, confirm('resolve'));
    await Promise.all([first, second, third].map((h) => h.result()));
  });

  test('an operator run for one wedding takes over that wedding’s crises only', async () => {
    const ledger = honourIdempotency(suite.receiver);
    const handle = await start({ failure: failure(), weddingId: 'w-1' });
    assert.match(handle.workflowId, /-wedding-w-1$/);
    const s = await waitForStatus(handle, inStage2);
    assert.equal(s.weddingId, 'w-1');
    assert.equal(s.couples.found, 2);
    assert.deepEqual(ledger.told.sort(), [inWindow[0], inWindow[2]].map((id) => `couple-notice/${id}`).sort());
    assert.deepEqual([lastAlert().scope, lastAlert().wedding_id], ['wedding', 'w-1']);
    await handle.signal(decisionSignal, confirm('resolve'));
    await handle.result();
  });

  test('a couple the service refuses is retried, counted failed and escalated, then told once on a later pass', async () => {
    const refused = `couple-notice/${inWindow[1]}`;
    suite.receiver.route(CRISIS_PATHS.couple, (req) =>
      req.headers['idempotency-key'] === refused ? { status: 503 } : { status: 202, body: {} },
    );
    try {
      const handle = await start({ failure: failure() });
      await suite.env.sleep('2 minutes');
      const s = await waitForStatus(handle, (st) => st.steps['notify-couples'] === 'failed');
      assert.deepEqual(s.couples, { found: 3, notified: 2, alreadyTold: 0, failed: 1, remaining: 0 });
      assert.ok(s.escalationTier >= 1);
      assert.ok(
        s.timeline.some((e) => /1 couple\(s\) could not be told after 4 passes; call them by hand/.test(e.event)),
      );
      // Every pass tried again, three quick tries each: four passes in the step, and the later ones since.
      const triesOf = (key: string) =>
        suite.receiver.requests.filter((r) => r.headers['idempotency-key'] === key).length;
      const tries = triesOf(refused);
      assert.ok(tries >= 12, `${tries} tries`);
      const notice = async () =>
        (
          await suite.deps.pool.query<{ status: string; last_error: string | null }>(
            'SELECT status, last_error FROM couple_notifications WHERE active_crisis_id = $1',
            [inWindow[1]],
          )
        ).rows[0];
      assert.equal((await notice()).status, 'failed');
      assert.match((await notice()).last_error ?? '', /answered 503/);

      // A day of quiet passes against a dead service stays far inside the history's 51,200 events.
      const eventsBefore = (await handle.fetchHistory()).events?.length ?? 0;
      await suite.env.sleep('10 minutes');
      const passes = Math.floor((triesOf(refused) - tries) / 3);
      assert.ok(passes >= 4, `${passes} later passes in 10 minutes`);
      const perPass = ((await handle.fetchHistory()).events!.length - eventsBefore) / passes;
      assert.ok(perPass * laterPassDelays().length < 20_000, `${perPass} events a pass`);
      await waitForStatus(handle, (st) => st.couples.failed === 1);

      // The service answers again: a later pass tells the couple, once, and the step is done.
      const answeredFrom = suite.receiver.requests.length;
      suite.receiver.route(CRISIS_PATHS.couple, { status: 202, body: {} });
      await suite.env.sleep('3 minutes');
      const told = await waitForStatus(handle, (st) => st.steps['notify-couples'] === 'done');
      assert.deepEqual(told.couples, { found: 3, notified: 3, alreadyTold: 0, failed: 0, remaining: 0 });
      assert.ok(told.timeline.some((e) => /the last 1 couple\(s\) told on a later pass/.test(e.event)));
      assert.equal((await notice()).status, 'sent');
      const answered = suite.receiver.requests
        .slice(answeredFrom)
        .filter((r) => r.headers['idempotency-key'] === refused);
      assert.equal(answered.length, 1, 'told once once the service answers');
      // Nothing more is sent once every couple is told.
      const sentOnce = triesOf(refused);
      await suite.env.sleep('10 minutes');
      assert.equal(triesOf(refused), sentOnce, 'a couple told is not sent to again');
      await handle.signal(decisionSignal, confirm('resolve'));
      await handle.result();
    } finally {
      suite.receiver.route(CRISIS_PATHS.couple, { status: 202, body: {} });
    }
  });

  test(
    'an audit log that cannot be written holds up neither the emergency alert nor stage 1',
    async () => {
      const before = suite.receiver.callsTo(CRISIS_PATHS.alert);
      const handle = await start({ failure: failure() });
      const s = await waitForStatus(handle, (st) => st.stages.stage1.completedAt !== undefined);
      assert.equal(s.stages.stage1.missedDeadline, false);
      assert.equal(suite.receiver.callsTo(CRISIS_PATHS.alert) - before, 1);
      const history = await handle.fetchHistory();
      const failedAudits = (history.events ?? []).filter(
        (e) => e.activityTaskFailedEventAttributes?.failure?.message === 'audit database down',
      );
      assert.equal(failedAudits.length, 0, 'a retrying activity records no failure until it gives up');
      await handle.terminate('test over');
    },
    {
      recordAudit: async () => {
        throw ApplicationFailure.create({ type: 'UpstreamUnavailable', message: 'audit database down' });
      },
    },
  );

  test('an alert for the same failure joins the run; a second start is refused; a wrong ID or input fails at once', async () => {
    const ledger = honourIdempotency(suite.receiver);
    const input = { failure: failure() };
    const handle = await start(input);
    await assert.rejects(start(input), WorkflowExecutionAlreadyStartedError);
    await suite.env.client.workflow.signalWithStart(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
      signal: crisisAlertSignal,
      signalArgs: [{ fingerprint: input.failure, status: 'firing', summary: 'crisis responses over 10 s' }],
    });
    const joined = await waitForStatus(handle, (s) => s.alerts === 1);
    assert.ok(joined.timeline.some((e) => e.event === `alert ${input.failure} firing: crisis responses over 10 s`));

    // Past stage 1, an alert (another failure joining, or this one firing again) sweeps again for new crises.
    await waitForStatus(handle, inStage2);
    const { rows } = await suite.deps.pool.query<{ id: string }>(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status) VALUES
         ('w-9', 'late@example.com', 'weather', 'ai_processing') RETURNING id`,
    );
    await handle.signal(crisisAlertSignal, { fingerprint: 'watch-2026', status: 'firing', summary: 'down again' });
    const swept = await waitForStatus(handle, (s) => s.couples.found === 4 && s.couples.remaining === 0);
    assert.deepEqual(swept.couples, { found: 4, notified: 4, alreadyTold: 0, failed: 0, remaining: 0 });
    assert.deepEqual(
      ledger.told,
      [...inWindow, Number(rows[0].id)].map((id) => `couple-notice/${id}`),
    );
    // A resolved alert is recorded and sweeps nothing.
    await handle.signal(crisisAlertSignal, { fingerprint: 'watch-2026', status: 'resolved' });
    const after = await waitForStatus(handle, (s) => s.alerts === 3);
    assert.equal(after.timeline.filter((e) => e.event.startsWith('swept again')).length, 1);

    const wrongId = await suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('crisis'),
      args: [{ failure: failure() }],
    });
    await assert.rejects(wrongId.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /^workflowId: must be "crisis-takeover-/);
      return true;
    });
    const oldShape = await suite.env.client.workflow.start(weddingDayCrisis, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('crisis'),
      args: [{ weddingId: 'w-x', crisisType: 'weather' } as never],
    });
    await assert.rejects(oldShape.result(), (err: Error) => {
      assert.match(String((err as WorkflowFailedError).cause?.message), /^failure: is required/);
      return true;
    });
    await waitForStatus(handle, inStage2);
    await handle.signal(decisionSignal, confirm('resolve'));
    await handle.result();
  });

  test('refuses an unauthorised decider through the update, ignores them through the signal, and audits both', async () => {
    const handle = await start({ failure: failure() });
    await waitForStatus(handle, inStage2);
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

    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'resolve', decision: 'approve', by: 'ai-ops', reason: 'crisis manager back' }],
    });
    assert.equal((await handle.result()).resolvedBy, 'ai-ops');
    const { rows } = await suite.deps.pool.query<{ actor: string; action: string; outcome: string; reason: string }>(
      `SELECT actor, action, outcome, reason FROM audit_log WHERE workflow_id = $1 AND step = 'gate:resolve' ORDER BY id`,
      [handle.workflowId],
    );
    // The refused update is written by the worker's audit sink, beside the workflow's own records, so its place
    // among them is not fixed.
    assert.deepEqual(
      rows
        .filter((r) => r.action !== 'gate-opened')
        .map((r) => [r.actor, r.action, r.outcome])
        .sort(),
      [
        ['ai-ops', 'decision-update', 'approve'],
        ['devops', 'decision-update', 'rejected'],
        ['mallory', 'decision-signal', 'rejected'],
      ],
    );
  });
});
