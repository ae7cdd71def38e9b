import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { incidentResponse } from '../../src/workflows';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { nextBusinessDayStart } from '../../src/workflows/incident/business-time';
import {
  alertSignal,
  incidentStatusQuery,
  incidentWorkflowId,
  type IncidentInput,
  type IncidentStatus,
} from '../../src/workflows/incident/messages';
import { testConfig } from '../helpers/deps';
import { CRISIS_PATHS, pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

describe('incidentResponse on the time-skipping server', () => {
  const suite = runbookSuite('aiops_test_incident');
  const test = suite.test;

  function open(input: Omit<IncidentInput, 'fingerprint'>, fingerprint = uniqueId('fp')) {
    const full = { ...input, fingerprint };
    return suite.env.client.workflow.signalWithStart(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [full],
      signal: alertSignal,
      signalArgs: [{ summary: input.summary }],
    });
  }

  const statusOf = (handle: WorkflowHandle, pred?: (s: IncidentStatus) => boolean) =>
    queryUntil(handle, incidentStatusQuery, pred);

  const ackGate = (s: IncidentStatus) => s.gates.find((g) => g.gate === 'acknowledge');

  for (const [severity, minutes, first, next] of [
    ['P0', 15, '@oncall @ai-lead', 'devops'],
    ['P1', 60, '@oncall', 'ai-team-lead'],
    ['P2', 240, '@oncall', 'ai-team-lead'],
  ] as const) {
    test(`${severity}: tells ${first} at once and escalates to ${next} only after ${minutes} minutes unacknowledged`, async () => {
      const mark = suite.receiver.requests.length;
      const handle = await open({ severity, service: 'ai-gateway-service', summary: `${severity} drill` });
      const opened = await statusOf(handle, (s) => !!ackGate(s));
      assert.equal(Date.parse(opened.acknowledgeBy) - Date.parse(opened.openedAt), minutes * 60_000);
      // The acknowledgement's clock does not wait for the message: it may arrive just after the gate opens.
      await waitUntil(
        'the first message',
        () => slackTexts(suite.receiver, mark),
        (texts) => texts.some((t) => t.startsWith(first) && t.includes(`${severity} drill`)),
      );
      const triggers = () => pagerDutyEvents(suite.receiver, mark).filter((e) => e.event_action === 'trigger');
      if (severity === 'P2') assert.deepEqual(triggers(), [], 'P2 is a Slack notification');
      else await waitUntil('the page', triggers, (t) => t.length === 1);

      await suite.env.sleep(`${minutes - 1} minutes`);
      assert.equal(ackGate(await handle.query(incidentStatusQuery))?.tierReached, 0);
      await suite.env.sleep('2 minutes');
      const escalated = await statusOf(handle, (s) => ackGate(s)?.tierReached === 1);
      assert.ok(ackGate(escalated)!.deciders.roles!.includes(next));

      // Someone from the escalated tier acknowledges.
      const acker = testConfig().roster.find((p) => p.roles.includes(next))!.id;
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'acknowledge', decision: 'approve', by: acker, reason: 'on it' }],
      });
      const acked = await statusOf(handle, (s) => s.step !== 'acknowledge');
      assert.equal(acked.acknowledgedBy, acker);
      await handle.terminate('drill over');
    });
  }

  test('P1 with Slack down: on-call is paged at once, the next tier under a key of its own, and the acknowledgement covers both', async () => {
    suite.receiver.route(CRISIS_PATHS.slack, { status: 500 });
    try {
      const mark = suite.receiver.requests.length;
      const handle = await open({ severity: 'P1', service: 'ai-gateway-service', summary: 'slack outage drill' });
      const triggers = () => pagerDutyEvents(suite.receiver, mark).filter((e) => e.event_action === 'trigger');
      await waitUntil('the first page', triggers, (t) => t.length === 1);
      assert.equal(triggers()[0].dedup_key, handle.workflowId);
      assert.match(triggers()[0].payload!.summary, /^\[On-Call Engineer\] /);

      await suite.env.sleep('61 minutes');
      await statusOf(handle, (s) => ackGate(s)?.tierReached === 1);
      await waitUntil("the second tier's page", triggers, (t) => t.length === 2);
      // PagerDuty folds a trigger with an open alert's key into that alert: the next tier needs a key of its own.
      assert.equal(triggers()[1].dedup_key, `${handle.workflowId}/tier-1`);
      assert.match(triggers()[1].payload!.summary, /^\[AI Team Lead\] .*escalated to you \(tier 1\)/);

      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'acknowledge', decision: 'approve', by: 'ai-lead', reason: 'on it' }],
      });
      const acks = await waitUntil(
        'both alerts acknowledged',
        () => pagerDutyEvents(suite.receiver, mark).filter((e) => e.event_action === 'acknowledge'),
        (a) => a.length === 2,
      );
      assert.deepEqual(acks.map((a) => a.dedup_key).sort(), [handle.workflowId, `${handle.workflowId}/tier-1`].sort());
      await handle.terminate('drill over');
    } finally {
      suite.receiver.route(CRISIS_PATHS.slack, { status: 202, body: {} });
    }
  });

  test('P1 with PagerDuty down: Slack is told once while the page is retried', async () => {
    suite.receiver.route(CRISIS_PATHS.pagerduty, { status: 503 });
    try {
      const mark = suite.receiver.requests.length;
      const handle = await open({ severity: 'P1', service: 'ai-gateway-service', summary: 'pagerduty outage drill' });
      const pageAttempts = () => suite.receiver.requests.slice(mark).filter((r) => r.path === CRISIS_PATHS.pagerduty);
      await waitUntil('three attempts to page', pageAttempts, (a) => a.length >= 3);
      assert.equal(slackTexts(suite.receiver, mark).filter((t) => t.includes('pagerduty outage drill')).length, 1);
      await handle.terminate('drill over');
    } finally {
      suite.receiver.route(CRISIS_PATHS.pagerduty, { status: 202, body: {} });
    }
  });

  test('P3: a ticket, nobody told, acknowledgement due at the start of the next business day', async () => {
    const mark = suite.receiver.requests.length;
    const handle = await open({ severity: 'P3', service: 'ai-gateway-service', summary: 'low cache hit rate' });
    const s = await statusOf(handle, (st) => !!ackGate(st));
    const hours = testConfig().businessHours;
    assert.equal(Date.parse(s.acknowledgeBy), nextBusinessDayStart(Date.parse(s.openedAt), hours));
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: hours.timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(s.acknowledgeBy));
    assert.match(local, /^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    assert.equal(suite.receiver.requests.length, mark, 'P3 sends no notification');

    await suite.env.sleep(Date.parse(s.acknowledgeBy) - Date.parse(s.openedAt) + 60_000);
    const escalated = await statusOf(handle, (st) => ackGate(st)?.tierReached === 1);
    assert.ok(ackGate(escalated)!.deciders.roles!.includes('ai-team-lead'));
    await handle.terminate('drill over');
  });

  test('a re-fired alert joins the open incident instead of opening another', async () => {
    const fingerprint = uniqueId('fp');
    const first = await open({ severity: 'P2', service: 'ai-gateway-service', summary: 'error rate 6%' }, fingerprint);
    const again = await open({ severity: 'P2', service: 'ai-gateway-service', summary: 'error rate 7%' }, fingerprint);
    assert.equal(again.signaledRunId, first.signaledRunId);
    const s = await statusOf(first, (st) => st.alertFirings === 2);
    assert.ok(s.timeline.some((e) => e.event === 'alert fired again (2): error rate 7%'));
    await first.terminate('drill over');
  });

  test('P1 runs the whole checklist to a post-mortem link', async () => {
    const mark = suite.receiver.requests.length;
    const handle = await open({
      severity: 'P1',
      service: 'ai-gateway-service',
      summary: 'gateway 5xx above 10%',
      monitor: { intervalSeconds: 300, healthyChecksRequired: 3, timeoutSeconds: 3600 },
    });
    await statusOf(handle, (s) => !!ackGate(s));
    const decide = (gate: string, extra: Record<string, string> = {}) =>
      handle.executeUpdate(decideUpdate, {
        args: [{ gate, decision: 'approve', by: 'oncall', reason: `${gate} done`, ...extra }],
      });

    await decide('acknowledge');
    await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'root-cause'));
    await handle.signal(decisionSignal, {
      gate: 'root-cause',
      decision: 'approve',
      by: 'oncall',
      reason: 'retry loop against the LLM provider',
    });
    await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'quick-fix'));
    await rejectsWithCause(decide('quick-fix', { choice: 'reboot-the-internet' }), /^choice: must be one of/);
    await decide('quick-fix', { choice: 'enable-cost-throttling' });
    // Monitoring: three healthy checks five minutes apart, on the time-skipping clock.
    await statusOf(handle, (s) => s.step === 'monitor');
    await suite.env.sleep('11 minutes');
    await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'document'));
    await decide('document');
    await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'follow-up'));
    await decide('follow-up');
    await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'post-mortem'));
    await assert.rejects(decide('post-mortem'), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String(err.cause?.message), /link: gate "post-mortem" needs an http\(s\) link/);
      return true;
    });
    await decide('post-mortem', { link: 'https://wiki.example.com/pm/gw-5xx' });
    const result = await handle.result();

    assert.equal(result.acknowledgedBy, 'oncall');
    assert.equal(result.rootCause, 'retry loop against the LLM provider');
    assert.equal(result.quickFix, 'enable-cost-throttling');
    assert.equal(result.resolvedByMonitoring, true);
    assert.equal(result.postMortem, 'https://wiki.example.com/pm/gw-5xx');
    const pd = pagerDutyEvents(suite.receiver, mark)
      .filter((e) => e.dedup_key === handle.workflowId)
      .map((e) => e.event_action);
    assert.deepEqual(pd, ['trigger', 'acknowledge', 'resolve']);

    const { rows } = await suite.deps.pool.query<{ step: string; action: string }>(
      'SELECT step, action FROM audit_log WHERE workflow_id = $1 ORDER BY id',
      [handle.workflowId],
    );
    const actions = rows.map((r) => `${r.step}:${r.action}`);
    for (const expected of [
      'incident:opened',
      'gate:acknowledge:decision-update',
      'gate:root-cause:decision-signal',
      'gate:post-mortem:decision-update',
      'incident:closed',
    ]) {
      assert.ok(actions.includes(expected), `${expected} missing from ${actions.join(', ')}`);
    }
  });

  test('P0: a gate nobody decides reminds its deciders every 30 minutes, each reminder audited', async () => {
    const mark = suite.receiver.requests.length;
    const handle = await open({ severity: 'P0', service: 'ai-gateway-service', summary: 'reminder drill' });
    await statusOf(handle, (s) => !!ackGate(s));
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: 'on it' }],
    });
    const atRootCause = await statusOf(handle, (s) => s.gates.some((g) => g.gate === 'root-cause'));
    const gate = atRootCause.gates.find((g) => g.gate === 'root-cause')!;
    assert.equal(Date.parse(gate.nextReminder!) - Date.parse(gate.openedAt), 30 * 60_000);
    await suite.env.sleep('61 minutes');
    const reminders = await waitUntil(
      'two reminders',
      () => slackTexts(suite.receiver, mark).filter((t) => /reminder \d+: still waiting/.test(t)),
      (texts) => texts.length >= 2,
    );
    assert.match(
      reminders[0],
      /reminder 1: still waiting 30 minute\(s\) for a decision: \[P0 ai-gateway-service\] record the root cause/,
    );
    const { rows } = await suite.deps.pool.query<{ outcome: string }>(
      `SELECT outcome FROM audit_log WHERE workflow_id = $1 AND step = 'gate:root-cause' AND action = 'reminded' ORDER BY id`,
      [handle.workflowId],
    );
    assert.deepEqual(rows.map((r) => r.outcome).slice(0, 2), ['reminder 1', 'reminder 2']);
    await handle.terminate('test over');
  });

  test('rejects a bad severity, naming the field', async () => {
    const handle = await suite.env.client.workflow.start(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('incident'),
      args: [{ severity: 'P9' as never, service: 'x', summary: 'y' }],
    });
    await assert.rejects(handle.result(), (err: Error & { cause?: Error }) => {
      assert.match(String(err.cause?.message), /^severity: must be one of P0, P1, P2, P3/);
      return true;
    });
  });
});
