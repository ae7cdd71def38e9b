import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startAlertReceiver, type AlertReceiver } from '../../src/alerts/receiver';
import { ALERT_ROUTES } from '../../src/alerts/routes';
import { crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { incidentWorkflowId } from '../../src/workflows/incident/messages';
import { devServerEnv, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const TOKEN = 'test-alert-token-0123456789';
const fingerprint = () => randomBytes(8).toString('hex');

function alert(fp: string, status: 'firing' | 'resolved' = 'firing', alertname = 'WedSyncErrorRateHigh') {
  return {
    status,
    labels: { alertname, service: 'ai-optimization-engine', severity: 'P1' },
    annotations: { summary: `error rate over 1% (${fp})` },
    startsAt: '2026-11-25T10:00:00Z',
    endsAt: status === 'resolved' ? '2026-11-25T10:05:00Z' : '0001-01-01T00:00:00Z',
    fingerprint: fp,
  };
}

const webhook = (alerts: unknown[], status = 'firing') => ({
  version: '4',
  status,
  receiver: 'aiops-runbooks',
  alerts,
});

async function post(r: AlertReceiver, body: unknown, token: string | null = TOKEN) {
  const res = await fetch(r.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The signals a workflow received, by name, with their first argument. */
async function signalsOf(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const s = e.workflowExecutionSignaledEventAttributes;
    if (!s) return [];
    const payload = s.input?.payloads?.[0];
    return [
      {
        name: s.signalName,
        arg: payload ? defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload) : undefined,
      },
    ];
  });
}

describe('the Alertmanager webhook receiver', () => {
  let env: TestWorkflowEnvironment;
  let receiver: AlertReceiver;
  const logged: Record<string, unknown>[] = [];
  // No worker polls this queue: the test reads what reached each workflow from its history.
  const taskQueue = uniqueId('alerts');

  before(async () => {
    env = await devServerEnv({ own: true });
    receiver = await startAlertReceiver({
      client: env.client,
      taskQueue,
      token: TOKEN,
      host: '127.0.0.1',
      port: 0,
      refireFlushMs: 3_600_000,
      // A loaded machine's dev server may take seconds per start; the 503 path has its own test.
      deliveryTimeoutMs: 30_000,
      log: (entry) => logged.push(entry),
    });
  });
  after(async () => {
    await receiver?.close();
    await env?.teardown();
  });

  it('refuses a request without the token or with a wrong one, and starts nothing', async () => {
    const fp = fingerprint();
    assert.equal((await post(receiver, webhook([alert(fp)]), null)).status, 401);
    assert.equal((await post(receiver, webhook([alert(fp)]), 'wrong-token-of-the-same-length-x')).status, 401);
    assert.equal((await post(receiver, webhook([alert(fp)]), `${TOKEN}x`)).status, 401);
    await assert.rejects(env.client.workflow.getHandle(incidentWorkflowId(fp)).describe(), /not found/i);
  });

  it('answers 400 naming what is wrong with a malformed payload', async () => {
    const bad = await post(receiver, '{"version": "4", "alerts": [');
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /^payload: not JSON/);
    const v3 = await post(receiver, { ...webhook([alert(fingerprint())]), version: '3' });
    assert.equal(v3.status, 400);
    assert.match(String(v3.body.error), /^version: must be "4"/);
    const noName = alert(fingerprint()) as Record<string, unknown>;
    noName.labels = { service: 'x' };
    const missing = await post(receiver, webhook([noName]));
    assert.equal(missing.status, 400);
    assert.match(String(missing.body.error), /^alerts\.0\.labels: must have an alertname/);
    const badFp = await post(receiver, webhook([{ ...alert('zz'), fingerprint: 'not hex!' }]));
    assert.match(String(badFp.body.error), /^alerts\.0\.fingerprint: must be the alert fingerprint/);
  });

  it('logs an alert no runbook handles and answers 202 without starting anything', async () => {
    const fp = fingerprint();
    const res = await post(receiver, webhook([alert(fp, 'firing', 'SomethingNobodyHandles')]));
    assert.equal(res.status, 202);
    assert.equal(res.body.unrouted, 1);
    assert.ok(logged.some((l) => l.fingerprint === fp && l.alertname === 'SomethingNobodyHandles'));
    await assert.rejects(env.client.workflow.getHandle(incidentWorkflowId(fp)).describe(), /not found/i);
  });

  it('starts one incident per alert of a 1,000-alert webhook, and a re-sent webhook starts none', async () => {
    const fps = Array.from({ length: 1000 }, fingerprint);
    const first = await post(receiver, webhook(fps.map((fp) => alert(fp))));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.delivered, 1000);
    const again = await post(receiver, webhook(fps.map((fp) => alert(fp))));
    assert.equal(again.status, 200);
    assert.equal(again.body.coalesced, 1000);

    // Counted from the server (its visibility store trails the starts a little): one run per fingerprint.
    const countRuns = async () => {
      let runs = 0;
      for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
        if (wf.workflowId.startsWith('incident-') && fps.includes(wf.workflowId.slice('incident-'.length))) runs += 1;
      }
      return runs;
    };
    assert.equal(await waitUntil('1,000 runs visible', countRuns, (n) => n >= 1000, 30_000), 1000);
    const sample = await signalsOf(env.client, incidentWorkflowId(fps[17]));
    assert.deepEqual(
      sample.map((s) => s.name),
      ['alert'],
    );
  });

  it('folds re-fires into one signal carrying their count, and signals the resolution', async () => {
    const fp = fingerprint();
    assert.equal((await post(receiver, webhook([alert(fp)]))).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await post(receiver, webhook([alert(fp)]))).body.coalesced, 1);
    await receiver.flush();
    const resolved = await post(receiver, webhook([alert(fp, 'resolved')], 'resolved'));
    assert.equal(resolved.status, 200);
    const signals = await signalsOf(env.client, incidentWorkflowId(fp));
    assert.deepEqual(
      signals.map((s) => [s.name, s.arg?.firings]),
      [
        ['alert', undefined],
        ['alert', 5],
        ['alertResolved', undefined],
      ],
    );
    assert.equal(signals[2].arg?.endsAt, '2026-11-25T10:05:00Z');
  });

  it("hands the crisis manager's alert to the crisis protocol, keyed by the fingerprint", async () => {
    const fp = fingerprint();
    const res = await post(receiver, webhook([alert(fp, 'firing', 'WedSyncCrisisManagerDown')]));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const signals = await signalsOf(env.client, crisisWorkflowId({ failure: fp }));
    assert.deepEqual(
      signals.map((s) => [s.name, s.arg?.fingerprint, s.arg?.status]),
      [['alert', fp, 'firing']],
    );
  });

  it('never starts a workflow for a resolved alert it has no run for', async () => {
    const fp = fingerprint();
    const res = await post(receiver, webhook([alert(fp, 'resolved')], 'resolved'));
    assert.equal(res.status, 200);
    await assert.rejects(env.client.workflow.getHandle(incidentWorkflowId(fp)).describe(), /not found/i);
  });

  it('answers 503 while Temporal cannot be reached, so Alertmanager sends the alerts again', async () => {
    // Nothing listens on port 1: every call fails as unavailable.
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '500ms' });
    const cut = await startAlertReceiver({
      client: new Client({ connection }),
      taskQueue,
      token: TOKEN,
      host: '127.0.0.1',
      port: 0,
      deliveryTimeoutMs: 2_000,
      log: () => undefined,
    });
    try {
      const res = await post(cut, webhook([alert(fingerprint())]));
      assert.equal(res.status, 503);
      assert.equal(res.body.failed, 1);
    } finally {
      await cut.close();
      await connection.close();
    }
  });

  it('has a route for every alert rule, and a rule for every route', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { parse } = await import('yaml');
    const dir = join(__dirname, '..', '..', '..', 'monitoring', 'rules');
    const rules = readdirSync(dir).flatMap((f) => {
      const doc = parse(readFileSync(join(dir, f), 'utf8')) as {
        groups: { rules: { alert: string; labels: Record<string, string> }[] }[];
      };
      return doc.groups.flatMap((g) => g.rules);
    });
    assert.deepEqual(rules.map((r) => r.alert).sort(), ALERT_ROUTES.map((r) => r.alertname).sort());
    for (const rule of rules) {
      const route = ALERT_ROUTES.find((r) => r.alertname === rule.alert)!;
      assert.equal(rule.labels.runbook, route.runbook.kind, rule.alert);
      if (route.runbook.kind === 'incident') {
        assert.equal(rule.labels.severity, route.runbook.severity, rule.alert);
        assert.equal(rule.labels.service, route.runbook.service, rule.alert);
      }
    }
  });
});
