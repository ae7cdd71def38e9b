import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { sundayMaintenanceWindow } from '../../src/workflows';
import type { SundayWindowResult } from '../../src/workflows/sunday-window/messages';
import type { HttpReceiver } from '../helpers/http-receiver';
import { createDeployment, playDeploymentController, testCluster, type TestCluster } from '../helpers/kube';
import { DAILY_METRICS, maintenanceSettings, REDIS_DB } from '../helpers/maintenance';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, uniqueId } from '../helpers/temporal';

describe('the Sunday window against its clock', () => {
  const suite = runbookSuite('aiops_test_sunday', (r, databaseUrl) =>
    maintenanceSettings(r, { databaseUrl, redisDb: REDIS_DB.sundayWindow }),
  );

  suite.test('a window started too late for a step defers it and reports what remains', async () => {
    const { env, taskQueue } = suite;
    const now = await env.currentTimeMs();
    const result = await env.client.workflow.execute(sundayMaintenanceWindow, {
      taskQueue,
      workflowId: uniqueId('late-window'),
      // Eight minutes left: too little for the model (30) or the database (10), enough for the cache (5).
      args: [{ windowEnd: new Date(now + 8 * 60_000).toISOString() }],
    });
    assert.deepEqual(
      result.steps.map((s) => [s.step, s.status]),
      [
        ['model-update', 'skipped'],
        ['database', 'deferred'],
        ['cache', 'done'],
      ],
    );
    assert.match(result.steps[1].detail, /^8 min left of the window; needs 10$/);
    assert.deepEqual(result.remaining, ['database']);
    assert.ok(Date.parse(result.finishedAt) <= now + 8 * 60_000);
  });

  suite.test('refuses a step it does not know, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(sundayMaintenanceWindow, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('bad-window'),
        args: [{ skip: ['model-update', 'defrag'] as never }],
      }),
      /^skip\.1: must be one of model-update, database, cache$/,
    );
  });
});

describe("the Sunday window's model update", () => {
  let cluster: TestCluster;
  let receiver: HttpReceiver;
  const suite = runbookSuite('aiops_test_sunday_model', async (r, databaseUrl) => {
    receiver = r;
    cluster = await testCluster('aiops-model');
    return maintenanceSettings(
      r,
      { databaseUrl, redisDb: REDIS_DB.sundayWindow },
      { K8S_AI_NAMESPACE: cluster.namespace, AI_MODEL_VERSION: '2.0.0', MODEL_MIN_ACCURACY: '0.9' },
    );
  });
  after(async () => cluster?.destroy());

  async function modelClusterReady(version: string) {
    for (const name of ['ai-optimization-engine', 'ai-recommendation-engine']) {
      await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
      await createDeployment(cluster, name, 2);
    }
    await cluster.core
      .deleteNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace })
      .catch(() => undefined);
    await cluster.core.createNamespacedConfigMap({
      namespace: cluster.namespace,
      body: { metadata: { name: 'ai-model-config' }, data: { 'model.version': version, threshold: '0.8' } },
    });
  }

  const modelStep = (r: SundayWindowResult) => r.steps.find((s) => s.step === 'model-update')!;
  const runWindow = async (skip: string[]) =>
    suite.env.client.workflow.execute(sundayMaintenanceWindow, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('window'),
      args: [{ skip: skip as never }],
    });

  suite.test('deploys the configured version, restarts the engines and keeps it when it validates', async () => {
    await modelClusterReady('1.0.0');
    const controller = playDeploymentController(cluster);
    try {
      const result = await runWindow(['database', 'cache']);
      assert.equal(modelStep(result).status, 'done', modelStep(result).detail);
      assert.equal(modelStep(result).detail, 'model 1.0.0 → 2.0.0; accuracy 0.91');
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.deepEqual(cm.data, { 'model.version': '2.0.0', threshold: '0.8' });
      const d = await cluster.apps.readNamespacedDeployment({
        name: 'ai-recommendation-engine',
        namespace: cluster.namespace,
      });
      assert.ok(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    } finally {
      await controller.stop();
    }
  });

  suite.test('rolls the model back when its accuracy is below the floor', async () => {
    await modelClusterReady('1.0.0');
    receiver.route('/ai/metrics/daily', { status: 200, body: { ...DAILY_METRICS, accuracy_rate: 0.62 } });
    const controller = playDeploymentController(cluster);
    try {
      const result = await runWindow(['database', 'cache']);
      assert.equal(modelStep(result).status, 'rolled-back');
      assert.match(
        modelStep(result).detail,
        /^model 2\.0\.0 rolled back to 1\.0\.0: ValidationFailed: accuracy 0\.62 is below 0\.9$/,
      );
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.deepEqual(cm.data, { 'model.version': '1.0.0', threshold: '0.8' });
      assert.deepEqual(result.remaining, []);
    } finally {
      receiver.route('/ai/metrics/daily', { status: 200, body: DAILY_METRICS });
      await controller.stop();
    }
  });
});
