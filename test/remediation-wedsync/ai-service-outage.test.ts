/**
 * aiServiceOutageRemediation against the API server (a namespace of this file's own for seed 002's `ai-services`)
 * and a demo API of this file's own, switched into each outage the local stack can simulate: the engine down and
 * back after a restart; down until the failover (approved at its gate); the failover refused, so the rule-based
 * fallback; and nothing working, which pages.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { startDemoApi, type DemoApi } from '../../scripts/lib/demo-api';
import { FailureType } from '../../src/contracts/failures';
import { aiServiceOutageRemediation } from '../../src/workflows';
import { ingressSwitchStatusQuery } from '../../src/workflows/failover/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  aiServiceOutageStatusQuery,
  type AiServiceOutageInput,
  type AiServiceOutageResult,
} from '../../src/workflows/remediation-wedsync/ai-service-outage/messages';
import {
  aiIngressTo,
  createDeployment,
  createPod,
  kubeconfigPath,
  playDeploymentController,
  startNodeLogEndpoint,
  testCluster,
  type NodeLogEndpoint,
  type TestCluster,
} from '../helpers/kube';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

const ENGINE = 'ai-optimization-engine';
const BACKUP = 'ai-backup-services';
const POD = `${ENGINE}-5d8f-x1`;

describe('aiServiceOutageRemediation (seed 002 Issue 3)', () => {
  let cluster: TestCluster;
  let node: NodeLogEndpoint;
  let demo: DemoApi;
  const suite = runbookSuite('aiops_test_ws_ai_outage', async (_receiver, databaseUrl) => {
    cluster = await testCluster('aiops-ws-outage');
    node = await startNodeLogEndpoint(cluster);
    demo = await startDemoApi(databaseUrl, 0, join(tmpdir(), `demo-api-ws-outage-${randomUUID()}.log`), {
      kubeconfig: kubeconfigPath(),
      aiNamespace: cluster.namespace,
    });
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      WEDSYNC_PRIMARY_HEALTH_URL: `${demo.url}/ai/health`,
      WEDSYNC_BACKUP_HEALTH_URL: `${demo.url}/ai/backup/health`,
      WEDSYNC_FALLBACK_ENABLE_URL: `${demo.url}/ai/fallback/enable`,
      WEDSYNC_FALLBACK_DISABLE_URL: `${demo.url}/ai/fallback/disable`,
      WEDSYNC_PROVIDER_STATUS_URL: `${demo.url}/v1/models`,
    };
  });
  after(async () => {
    await demo?.close();
    await node?.stop();
    await cluster?.destroy();
  });
  const input: AiServiceOutageInput = { requestedBy: 'oncall', settleSeconds: 30, rolloutTimeoutSeconds: 120 };

  async function setCondition(service: string, condition: string, sticky = false) {
    const res = await fetch(`${demo.url}/_local/conditions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service, condition, sticky }),
    });
    if (!res.ok) throw new Error(`setting ${service} ${condition}: ${res.status} ${await res.text()}`);
  }

  /**
   * The engine as seed 002 has it (no earlier test's restart stamp), one pod with a log, the ingress on the engine,
   * the fallback off; then the engine and the backup switched into the conditions the test needs.
   */
  async function outage(engine: { condition: string; sticky?: boolean }, backup = 'healthy') {
    const namespace = cluster.namespace;
    await cluster.apps.deleteNamespacedDeployment({ name: ENGINE, namespace }).catch(() => undefined);
    await cluster.core.deleteNamespacedPod({ name: POD, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await cluster.networking.deleteNamespacedIngress({ name: 'ai-ingress', namespace }).catch(() => undefined);
    await createDeployment(cluster, ENGINE, 2);
    for (let i = 0; i < 50; i++) {
      const gone = await cluster.core.readNamespacedPod({ name: POD, namespace }).then(
        () => false,
        () => true,
      );
      if (gone) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await createPod(cluster, POD, { node: node.node, labels: { app: ENGINE } });
    node.setLog(namespace, POD, 'run', ['serving on :8080', 'ERROR model server: CUDA out of memory', 'shutting down']);
    await aiIngressTo(cluster, ENGINE);
    await fetch(`${demo.url}/ai/fallback/disable`, { method: 'POST', body: '{}' });
    await setCondition(ENGINE, engine.condition, engine.sticky);
    await setCondition(BACKUP, backup);
  }

  const start = (raw: AiServiceOutageInput = input) =>
    suite.env.client.workflow.start(aiServiceOutageRemediation, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('ws-ai-outage'),
      args: [raw],
    });
  /**
   * Runs the workflow while the test plays the deployment controller; `during` acts while it runs. A test that decides
   * a gate waits by querying, and time skips only while a client waits for a result: such a test settles for 2 s.
   */
  async function run(during?: (handle: WorkflowHandle) => Promise<void>) {
    const controller = playDeploymentController(cluster);
    try {
      const handle = await start(during ? { ...input, settleSeconds: 2 } : input);
      await during?.(handle);
      return { handle, result: (await handle.result()) as AiServiceOutageResult };
    } finally {
      await controller.stop();
    }
  }
  /** Waits for the failover child's gate and decides it there, the way an operator would. */
  async function decideFailover(handle: WorkflowHandle, decision: 'approve' | 'reject') {
    const st = await queryUntil(handle, aiServiceOutageStatusQuery, (s) => !!s.failoverWorkflowId, 30_000);
    assert.equal(st.step, 'failover');
    assert.deepEqual(
      st.steps.map((s) => `${s.step}: ${s.outcome}`),
      ['restart: unhealthy-after'],
      'the restart was tried first',
    );
    const child = suite.env.client.workflow.getHandle(st.failoverWorkflowId!);
    await queryUntil(child, ingressSwitchStatusQuery, (s) => s.step === 'awaiting-approval', 30_000);
    await child.executeUpdate(decideUpdate, {
      args: [{ gate: 'failover', decision, by: 'ai-lead', reason: `${decision} in test` }],
    });
  }
  const restartedAt = async () =>
    (await cluster.apps.readNamespacedDeployment({ name: ENGINE, namespace: cluster.namespace })).spec?.template
      .metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
  const backendNow = async () =>
    (await cluster.networking.readNamespacedIngress({ name: 'ai-ingress', namespace: cluster.namespace })).spec!
      .rules![0].http!.paths[0].backend.service!.name;
  const fallbackEnabled = async () =>
    ((await (await fetch(`${demo.url}/ai/fallback/status`)).json()) as { enabled: boolean }).enabled;
  /** This run's PagerDuty triggers: those under its dedup key. */
  const pagesOf = (workflowId: string) =>
    pagerDutyEvents(suite.receiver)
      .filter((e) => e.event_action === 'trigger' && e.dedup_key.startsWith(`ai-outage-${workflowId}`))
      .map((e) => e.payload?.summary ?? '');
  const ours = (texts: string[], workflowId: string) => texts.filter((t) => t.includes(`(workflow ${workflowId})`));

  suite.test('restart fixes it: the engine restarted, the endpoint healthy again, nothing failed over', async () => {
    await outage({ condition: 'down' });
    const { handle, result } = await run();
    assert.equal(result.state, 'restarted');
    assert.deepEqual(
      result.steps.map((s) => `${s.step}: ${s.outcome}`),
      ['restart: done'],
    );
    assert.equal(result.before.healthy, false);
    assert.match(result.before.detail, /HTTP 503/);
    assert.equal(result.after?.healthy, true);
    assert.ok(await restartedAt(), 'the engine was restarted');
    assert.equal(await backendNow(), ENGINE);
    assert.equal(await fallbackEnabled(), false);
    // The diagnosis: the namespace's pods, the engine's pod and its log, the endpoint, the external dependency.
    assert.ok(result.findings.some((f) => new RegExp(`^pods in ${cluster.namespace}: 1, 1 not ready`).test(f)));
    assert.ok(result.findings.includes(`pod ${POD}: Running, not ready, 0 restarts`));
    assert.ok(
      result.findings.includes(`logs of ${POD}: 1 error lines of 3, last: ERROR model server: CUDA out of memory`),
    );
    assert.ok(
      result.findings.some((f) => /^external dependency .*\/v1\/models answering \(HTTP 200, .*2 models\)/.test(f)),
    );
    const told = ours(slackTexts(suite.receiver), handle.workflowId);
    assert.ok(told.some((t) => /AI endpoint down .*restarting ai-optimization-engine/.test(t)));
    assert.ok(told.some((t) => /ai-optimization-engine restarted; the AI endpoint is healthy again/.test(t)));
    assert.deepEqual(pagesOf(handle.workflowId), []);
    const status = await handle.query(aiServiceOutageStatusQuery);
    assert.equal(status.state, 'restarted');
    await replayOwnHistory(handle);
  });

  suite.test('restart does not fix it: the failover, approved at its own gate, brings the AI back', async () => {
    await outage({ condition: 'down', sticky: true });
    const { handle, result } = await run(async (h) => {
      await decideFailover(h, 'approve');
    });
    assert.equal(result.state, 'failed-over');
    assert.deepEqual(
      result.steps.map((s) => `${s.step}: ${s.outcome}`),
      ['restart: unhealthy-after', 'failover: done'],
    );
    assert.match(result.steps[1].detail, /ingress ai-ingress on ai-backup-services:80 \(approved by ai-lead\)/);
    assert.ok(await restartedAt());
    assert.equal(await backendNow(), BACKUP);
    assert.equal(await fallbackEnabled(), false, 'no fallback once the failover worked');
    assert.equal(result.after?.healthy, true);
    assert.equal((await handle.query(aiServiceOutageStatusQuery)).state, 'failed-over');
    assert.deepEqual(pagesOf(handle.workflowId), []);
    await replayOwnHistory(handle);
  });

  suite.test('failover refused at its gate: the rule-based fallback is switched on, the ingress left', async () => {
    await outage({ condition: 'down', sticky: true });
    const { handle, result } = await run(async (h) => {
      await decideFailover(h, 'reject');
    });
    assert.equal(result.state, 'fallback-on');
    assert.deepEqual(
      result.steps.map((s) => `${s.step}: ${s.outcome}`),
      ['restart: unhealthy-after', 'failover: refused', 'fallback: on'],
    );
    assert.match(result.steps[1].detail, /not approved by ai-lead/);
    assert.equal(await backendNow(), ENGINE);
    assert.equal(await fallbackEnabled(), true);
    const status = await handle.query(aiServiceOutageStatusQuery);
    assert.equal(status.state, 'fallback-on');
    assert.equal(status.failoverWorkflowId, undefined);
    assert.ok(
      ours(slackTexts(suite.receiver), handle.workflowId).some((t) => /rule-based fallback switched on/.test(t)),
    );
    assert.deepEqual(pagesOf(handle.workflowId), []);
    await replayOwnHistory(handle);
  });

  suite.test('backup down too: the failover refuses it before anyone is asked, the fallback goes on', async () => {
    await outage({ condition: 'down', sticky: true }, 'down');
    const { handle, result } = await run();
    assert.equal(result.state, 'fallback-on');
    assert.deepEqual(
      result.steps.map((s) => `${s.step}: ${s.outcome}`),
      ['restart: unhealthy-after', 'failover: unhealthy', 'fallback: on'],
    );
    assert.equal(await backendNow(), ENGINE);
    assert.equal(await fallbackEnabled(), true);
    await replayOwnHistory(handle);
  });

  suite.test(
    'everything fails: restart, failover and fallback, and the responders are paged P0',
    async () => {
      await outage({ condition: 'down', sticky: true }, 'down');
      const { handle, result } = await run();
      assert.equal(result.state, 'still-down');
      assert.deepEqual(
        result.steps.map((s) => `${s.step}: ${s.outcome}`),
        ['restart: unhealthy-after', 'failover: unhealthy', 'fallback: failed'],
      );
      assert.match(result.steps[2].detail, /fallback endpoint refused/);
      assert.equal(await fallbackEnabled(), false);
      const paged = pagesOf(handle.workflowId);
      assert.equal(paged.length, 1);
      assert.match(paged[0], /P0, Level 4 emergency: AI service still down after restart, failover and fallback/);
      const trigger = pagerDutyEvents(suite.receiver).find((e) => e.payload?.summary === paged[0]) as {
        payload?: { severity?: string };
      };
      assert.equal(trigger.payload?.severity, 'critical');
      assert.equal((await handle.query(aiServiceOutageStatusQuery)).state, 'still-down');
      await replayOwnHistory(handle);
    },
    {
      setFallbackMode: async () => {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: 'fallback endpoint refused the connection',
          nonRetryable: true,
        });
      },
    },
  );

  suite.test('a healthy AI endpoint changes nothing', async () => {
    await outage({ condition: 'healthy' });
    const { handle, result } = await run();
    assert.equal(result.state, 'not-needed');
    assert.deepEqual(result.steps, []);
    assert.equal(await restartedAt(), undefined);
    assert.equal(await backendNow(), ENGINE);
    await replayOwnHistory(handle);
  });

  suite.test('refuses bad input naming the field', async () => {
    const handle = await start({ ...input, deployment: 'Engine!' });
    await rejectsWithCause(handle.result(), /^deployment: must be a Kubernetes name/);
    const other = await start({ ...input, settleSeconds: -1 });
    await rejectsWithCause(other.result(), /^settleSeconds: /);
    await replayOwnHistory(handle);
  });
});
