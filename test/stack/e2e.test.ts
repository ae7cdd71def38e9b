import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import type { HealthCheckReport } from '../../src/workflows/morning-health-check/report';
import { LOCAL_KUBECONFIG } from '../../scripts/lib/kube-local';
import { runningSession } from '../../scripts/lib/session';
import { temporalCli } from '../helpers/cli';

// These check what the start command promises a new user, against the stack it started.
describe('the stack started by npm start', () => {
  const config = loadConfig();
  let connection: Connection;

  before(async () => {
    assert.ok(runningSession(), 'no running npm start session: run the suite with `npm test`');
    connection = await Connection.connect({ address: config.temporal.address });
  });
  after(() => connection?.close());

  it('serves the Temporal Web UI on 127.0.0.1:8233', async () => {
    const res = await fetch('http://127.0.0.1:8233/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
  });

  it('has a worker polling the aiops-runbooks task queue', async () => {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: 'aiops-runbooks' },
      taskQueueType: 1,
    });
    assert.ok((res.pollers ?? []).length >= 1);
  });

  it('lists the health-check schedule in `temporal schedule list`', () => {
    const out = temporalCli(['schedule', 'list']);
    assert.match(out, /wedsync-morning-health-check/);
  });

  it('completes `temporal workflow execute` of the health check with a report', () => {
    const out = temporalCli([
      'workflow',
      'execute',
      '--type',
      'morningHealthCheck',
      '--task-queue',
      'aiops-runbooks',
      '--workflow-id',
      `e2e-health-check-${randomUUID()}`,
      '--input',
      '{}',
      '-o',
      'json',
      // The worker seals its payloads; the CLI opens them through the worker's codec server, as an operator's does.
      '--codec-endpoint',
      `http://${process.env.CODEC_SERVER_ADDRESS}`,
      '--codec-auth',
      `Bearer ${process.env.CODEC_SERVER_TOKEN}`,
    ]);
    const result = JSON.parse(out);
    assert.equal(result.status, 'COMPLETED');
    const report = result.closeEvent.workflowExecutionCompletedEventAttributes.result[0] as HealthCheckReport;
    // The CLI prints an empty list as null.
    assert.deepEqual(report.findings ?? [], []);
    assert.equal(report.status, 'healthy');
    assert.equal(report.kpis.length, 5);
    // The worker lists pods on the local API server (no kubelet, so none run there).
    assert.equal(report.checks.pods.state, 'ok');
    assert.deepEqual(report.checks.pods.state === 'ok' && report.checks.pods.result, {
      configured: true,
      namespace: 'ai-services',
      pods: null,
    });
  });

  it("runs a Kubernetes API server with seed 002's objects, reachable with the kubeconfig under .data/", async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(LOCAL_KUBECONFIG);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const list = await apps.listNamespacedDeployment({ namespace: 'ai-services' });
    assert.deepEqual(list.items.map((d) => d.metadata?.name).sort(), [
      'ai-optimization-engine',
      'ai-recommendation-engine',
    ]);
  });
});
