import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { LOCAL_PORTS } from '../../scripts/lib/local-stack';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { MONITORING_DIR } from '../../scripts/lib/monitoring';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { queryUntil } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { signingInterceptor } from '../helpers/operators';

const PROMETHEUS = `http://127.0.0.1:${LOCAL_PORTS.prometheus}`;
const ALERTMANAGER = `http://127.0.0.1:${LOCAL_PORTS.alertmanager}`;
const DEMO_API = `http://127.0.0.1:${LOCAL_PORTS.demoApi}`;
const ALERT = 'WedSyncAccuracyLow';
const SERVICE = 'ai-recommendation-engine';

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function setCondition(service: string, condition: string): Promise<void> {
  const res = await fetch(`${DEMO_API}/_local/conditions`, {
    method: 'POST',
    body: JSON.stringify({ service, condition }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, await res.text());
}

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

describe('alerts start runbooks, end to end: Prometheus, Alertmanager, the receiver, the workflow', () => {
  let connection: Connection;
  let client: Client;
  let incident: WorkflowHandle | undefined;
  /** Every incident the test's alerts started (low accuracy also crosses the 85 % target's rule), ended afterwards. */
  const started: WorkflowHandle[] = [];
  const since = new Date();

  before(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    client = new Client({
      connection,
      namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
      interceptors: { workflow: [signingInterceptor()] },
      dataConverter: dataConverter(loadConfig()),
    });
  });
  after(async () => {
    await setCondition(SERVICE, 'healthy').catch(() => undefined);
    for (const h of started) await h.terminate('test over').catch(() => undefined);
    await connection?.close();
  });

  it('a service switched to low accuracy fires its rule, starts one incident, and the incident sees the alert resolve after the fix', async () => {
    await setCondition(SERVICE, 'low-accuracy');
    await waitUntil(
      `${ALERT} firing in Prometheus`,
      async () => (await getJson<{ data: { alerts: PromAlert[] } }>(`${PROMETHEUS}/api/v1/alerts`)).data.alerts,
      (alerts) => alerts.some((a) => a.labels.alertname === ALERT && a.state === 'firing'),
      150_000,
    );
    const held = await waitUntil(
      `${ALERT} in Alertmanager`,
      () =>
        getJson<{ fingerprint: string; status: { state: string } }[]>(
          `${ALERTMANAGER}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${ALERT}"`)}`,
        ),
      (alerts) => alerts.length === 1,
      60_000,
    );
    const workflowId = incidentWorkflowId(held[0].fingerprint);
    incident = client.workflow.getHandle(workflowId);
    started.push(incident);
    const warning = await waitUntil(
      'WedSyncAccuracyBelowTarget in Alertmanager',
      () =>
        getJson<{ fingerprint: string }[]>(
          `${ALERTMANAGER}/api/v2/alerts?filter=${encodeURIComponent('alertname="WedSyncAccuracyBelowTarget"')}`,
        ),
      (alerts) => alerts.length === 1,
      60_000,
    );
    started.push(client.workflow.getHandle(incidentWorkflowId(warning[0].fingerprint)));
    // The alert's fingerprint is the same on every run of this test: wait for the run this alert started.
    await waitUntil(
      'the incident started by the alert',
      () => incident!.describe().catch(() => undefined),
      (d) => d !== undefined && d.status.name === 'RUNNING' && d.startTime >= since,
      60_000,
    );
    const opened = await queryUntil(incident, incidentStatusQuery, (s) => s.alertFirings >= 1, 30_000);
    assert.equal(opened.severity, 'P2');
    assert.equal(opened.service, SERVICE);
    assert.match(opened.summary, /Recommendation acceptance 72% is under 80%/);

    // The on-call engineer acknowledges; then the service recovers (the fix).
    await incident.executeUpdate(decideUpdate, {
      args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: 'looking at the model' }],
    });
    await setCondition(SERVICE, 'healthy');
    const resolved = await waitUntil(
      'the incident told of the resolution',
      () => incident!.query(incidentStatusQuery),
      (s) => s.alertResolvedAt !== undefined,
      150_000,
    );
    assert.ok(resolved.timeline.some((e) => e.event.startsWith('alert resolved')));

    // One run for the alert, however often Alertmanager sent it.
    const runs: string[] = [];
    for await (const wf of client.workflow.list({
      query: `WorkflowId = '${workflowId}' AND StartTime >= '${since.toISOString()}'`,
    })) {
      runs.push(wf.runId);
    }
    assert.equal(runs.length, 1);
  });

  it('every dashboard panel query parses and names series that exist in Prometheus', async () => {
    const dir = join(MONITORING_DIR, 'dashboards');
    const queries = readdirSync(dir).flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      return dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `${file}: ${p.title}`, expr: t.expr })));
    });
    assert.ok(queries.length >= 15, `${queries.length} panel queries`);
    for (const { where, expr } of queries) {
      const answer = await getJson<{ status: string }>(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
      assert.equal(answer.status, 'success', `${where}: ${expr}`);
      for (const name of new Set(expr.match(/\b(?:ai|aiops|temporal)_[a-z_]+\b/g) ?? [])) {
        await waitUntil(
          `${where}: series ${name}`,
          async () =>
            (
              await getJson<{ data: unknown[] }>(
                `${PROMETHEUS}/api/v1/series?match[]=${encodeURIComponent(`{__name__="${name}"}`)}`,
              )
            ).data.length,
          (n) => n > 0,
          30_000,
        );
      }
    }
  });
});
