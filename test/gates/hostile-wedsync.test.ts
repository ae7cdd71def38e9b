/**
 * Hostile decisions at the gates of WedSync's gated procedures: the manual failover and failback of the AI ingress
 * (src/workflows/failover/) and the engines' scale-up of highResponseTimesRemediation, against a Kubernetes namespace,
 * a demo API and health endpoints of this file's own, reached as their own tests reach them. Each gate is bombarded
 * and sent forged decisions while it waits; none decides it or fails a workflow task, and one valid decision then
 * takes the run where it should.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { startDemoApi, type DemoApi } from '../../scripts/lib/demo-api';
import { failbackAiIngress, failoverAiIngress, highResponseTimesRemediation } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import { HEALTHY_BODY } from '../helpers/http-receiver';
import {
  aiIngressBackend,
  aiIngressTo,
  createDeployment,
  kubeconfigPath,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

const ENGINES = ['ai-optimization-engine', 'ai-recommendation-engine'] as const;

describe('the WedSync gates against hostile decisions', () => {
  let cluster: TestCluster;
  let demo: DemoApi;
  const suite = runbookSuite('aiops_test_gates_wedsync', async (receiver, databaseUrl) => {
    cluster = await testCluster('aiops-gates-ws');
    demo = await startDemoApi(databaseUrl, 0, join(tmpdir(), `demo-api-gates-ws-${randomUUID()}.log`), {
      kubeconfig: kubeconfigPath(),
      aiNamespace: cluster.namespace,
    });
    receiver.route('/primary/health', () => ({ status: 200, body: HEALTHY_BODY }));
    receiver.route('/backup/health', () => ({ status: 200, body: HEALTHY_BODY }));
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      WEDSYNC_PRIMARY_HEALTH_URL: receiver.url('/primary/health'),
      WEDSYNC_BACKUP_HEALTH_URL: receiver.url('/backup/health'),
      WEDSYNC_METRICS_URL: `${demo.url}/ai/metrics/daily`,
    };
  });
  after(async () => {
    await demo?.close();
    await cluster?.destroy();
  });

  const backendNow = () => aiIngressBackend(cluster);

  suite.test(
    'failoverAiIngress and failbackAiIngress refuse them all; the approved failover switches, the refused failback does not',
    async () => {
      await aiIngressTo(cluster, 'ai-optimization-engine');
      const start = (workflow: typeof failoverAiIngress) =>
        suite.env.client.workflow.start(workflow, {
          taskQueue: suite.taskQueue,
          workflowId: uniqueId('hostile-ai-switch'),
          args: [{ requestedBy: 'oncall', reason: 'hostile drill' }],
        });

      const failover = await start(failoverAiIngress);
      await assaultGate(suite.env, failover, { gate: 'failover', by: 'platform' });
      assert.equal(await backendNow(), 'ai-optimization-engine', 'nothing sent switched the ingress');
      await failover.executeUpdate(decideUpdate, {
        args: [{ gate: 'failover', decision: 'approve', by: 'ai-lead', reason: 'backup checked' }],
      });
      const result = await failover.result();
      assert.equal(result.approvedBy, 'ai-lead');
      assert.equal(await backendNow(), 'ai-backup-services');
      assert.equal(await workflowTaskFailures(failover), 0);
      await replayOwnHistory(failover);

      const failback = await start(failbackAiIngress);
      await assaultGate(suite.env, failback, { gate: 'failback', by: 'ai-lead' });
      await failback.executeUpdate(decideUpdate, {
        args: [{ gate: 'failback', decision: 'reject', by: 'platform', reason: 'primary not proven yet' }],
      });
      await rejectsWithCause(failback.result(), /not approved by platform: primary not proven yet/);
      assert.equal(await backendNow(), 'ai-backup-services', 'the refused failback switched nothing');
      assert.ok(slackTexts(suite.receiver).some((t) => /not approved by platform/.test(t)));
      assert.equal(await workflowTaskFailures(failback), 0);
      await replayOwnHistory(failback);
    },
  );

  suite.test(
    'highResponseTimesRemediation refuses them all, then scales the engines once approved and is fast again',
    async () => {
      for (const name of ENGINES) await createDeployment(cluster, name, 3, `wedsync/${name}:1.0.0`);
      const res = await fetch(`${demo.url}/_local/conditions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'ai-optimization-engine', condition: 'slow' }),
      });
      assert.equal(res.status, 200, await res.text());
      const replicas = () =>
        Promise.all(
          ENGINES.map(
            async (name) =>
              (await cluster.apps.readNamespacedDeploymentScale({ name, namespace: cluster.namespace })).spec?.replicas,
          ),
        );
      const handle = await suite.env.client.workflow.start(highResponseTimesRemediation, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('hostile-ws-slow'),
        args: [{ requestedBy: 'oncall', severity: 'P2', settleSeconds: 60 }],
      });
      await assaultGate(suite.env, handle, { gate: 'scale-ai-engines', by: 'ai-lead' });
      assert.deepEqual(await replicas(), [3, 3], 'nothing sent scaled the engines');
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'scale-ai-engines', decision: 'approve', by: 'oncall', reason: 'go' }],
      });
      const result = await handle.result();
      assert.equal(result.outcome, 'fixed');
      assert.equal(result.after?.responseTimeMs, 250);
      assert.deepEqual(await replicas(), [10, 8]);
      assert.equal(await workflowTaskFailures(handle), 0);
      await replayOwnHistory(handle);
    },
  );
});
