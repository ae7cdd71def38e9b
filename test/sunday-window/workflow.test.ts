import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Pool } from 'pg';
import { sundayMaintenanceWindow } from '../../src/workflows';
import type { SundayWindowResult } from '../../src/workflows/sunday-window/messages';
import { emptyPrefix, ensureBucket, keysUnder } from '../backup/helpers';
import type { HttpReceiver } from '../helpers/http-receiver';
import {
  createDeployment,
  playDeploymentController,
  playJobController,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { maintenanceSettings, REDIS_DB } from '../helpers/maintenance';
import { pagerDutyEvents } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

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
  const MODELS = 'aiops-test-sunday-models';
  const BACKUPS = 'aiops-test-sunday-backups';
  let cluster: TestCluster;
  let receiver: HttpReceiver;
  let pool: Pool;
  const suite = runbookSuite('aiops_test_sunday_model', async (r, databaseUrl) => {
    receiver = r;
    cluster = await testCluster('aiops-model');
    pool = new Pool({ connectionString: databaseUrl });
    return maintenanceSettings(
      r,
      { databaseUrl, redisDb: REDIS_DB.sundayWindow },
      {
        K8S_AI_NAMESPACE: cluster.namespace,
        MODEL_MIN_ACCURACY: '0.85',
        S3_BUCKET_MODELS: MODELS,
        S3_BUCKET_BACKUPS: BACKUPS,
      },
    );
  });
  after(async () => {
    await pool?.end();
    await cluster?.destroy();
  });

  const OLD = { 'optimization/weights.bin': 'old weights', 'recommendation/model.onnx': 'old model' };
  const NEW = { 'optimization/weights.bin': 'new weights', 'recommendation/model.onnx': 'new model' };

  /** A model_versions row as modelRetraining writes it for a promoted model. */
  async function promoted(version: string, daysAgo: number, accuracy: number): Promise<void> {
    await pool.query(
      `INSERT INTO model_versions (version, workflow_id, artifacts_uri, data_manifest, metrics, decision, decided_by,
                                   reason, decided_at)
       VALUES ($1, 'model-retraining-test', $2, $3, $4, 'promoted', 'ai-lead', 'test', now() - make_interval(days => $5))`,
      [
        version,
        `s3://${MODELS}/retraining/${version}/`,
        JSON.stringify({ key: `retraining/${version}/training-data.csv` }),
        JSON.stringify({ accuracy }),
        daysAgo,
      ],
    );
  }

  /**
   * The engines, the ConfigMap and the model bucket as a week after a promotion: model `served` (promoted ten days
   * ago, evaluated at 0.86) is served from the bucket's root with its marker; `newer` was promoted yesterday and
   * its artifacts and training data wait under retraining/.
   */
  async function promotedModelWaiting(): Promise<{ served: string; newer: string }> {
    const id = randomUUID().slice(0, 8);
    const served = `2026-09-${id}`;
    const newer = `2026-10-${id}`;
    await promoted(served, 10, 0.86);
    await promoted(newer, 1, 0.9);
    const { s3 } = suite.deps;
    for (const bucket of [MODELS, BACKUPS]) {
      await ensureBucket(s3, bucket);
      await emptyPrefix(s3, bucket, '');
    }
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: MODELS, Key, Body }));
    for (const [key, body] of Object.entries(OLD)) await put(key, body);
    await put(
      'serving.json',
      JSON.stringify({ version: served, artifactsUri: `s3://${MODELS}/retraining/${served}/models/` }),
    );
    for (const [key, body] of Object.entries(NEW)) await put(`retraining/${newer}/models/${key}`, body);
    await put(`retraining/${newer}/training-data.csv`, 'id,outcome\n1,accepted\n');
    for (const name of ['ai-optimization-engine', 'ai-recommendation-engine']) {
      await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
      await createDeployment(cluster, name, 2);
    }
    await cluster.core
      .deleteNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace })
      .catch(() => undefined);
    await cluster.core.createNamespacedConfigMap({
      namespace: cluster.namespace,
      body: { metadata: { name: 'ai-model-config' }, data: { 'model.version': served, threshold: '0.8' } },
    });
    // The Kubernetes activities poll every 100 ms here instead of seconds.
    (suite.deps as { pollIntervalMs?: number }).pollIntervalMs = 100;
    return { served, newer };
  }

  /** What the engines would load: every object at the bucket's root outside retraining/, with its content. */
  async function servedObjects(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const key of await keysUnder(suite.deps.s3, MODELS, '')) {
      if (key.startsWith('retraining/') || key === 'serving.json') continue;
      const res = await suite.deps.s3.send(new GetObjectCommand({ Bucket: MODELS, Key: key }));
      out[key] = await res.Body!.transformToString();
    }
    return out;
  }

  async function marker(): Promise<string> {
    const res = await suite.deps.s3.send(new GetObjectCommand({ Bucket: MODELS, Key: 'serving.json' }));
    return (JSON.parse(await res.Body!.transformToString()) as { version: string }).version;
  }

  const configMap = async () =>
    (await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace })).data;
  const evaluationJobs = async () =>
    (await cluster.batch.listNamespacedJob({ namespace: cluster.namespace })).items
      .map((j) => j.metadata!.name!)
      .filter((n) => n.startsWith('validate-serving-'));
  const modelStep = (r: SundayWindowResult) => r.steps.find((s) => s.step === 'model-update')!;
  const startWindow = () =>
    suite.env.client.workflow.start(sundayMaintenanceWindow, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('window'),
      args: [{ skip: ['database', 'cache'] }],
    });

  suite.test(
    'deploys the newest promoted model from its artifacts and keeps it when the evaluation passes',
    async () => {
      const { served, newer } = await promotedModelWaiting();
      const jobsBefore = await evaluationJobs();
      const deployments = playDeploymentController(cluster);
      const jobs = playJobController(cluster, suite.deps.s3, 0.9);
      const pagesBefore = receiver.requests.length;
      try {
        const h = await startWindow();
        const result = await h.result();
        assert.equal(modelStep(result).status, 'done', modelStep(result).detail);
        assert.equal(modelStep(result).detail, `model ${served} → ${newer}; evaluation accuracy 0.9`);
        assert.deepEqual(await servedObjects(), NEW);
        assert.equal(await marker(), newer);
        assert.deepEqual(await configMap(), {
          'model.version': newer,
          'model.uri': `s3://${MODELS}/`,
          threshold: '0.8',
        });
        // The evaluation ran as a Job on the served location, and its metrics are kept with the model's.
        const [evaluation] = (await evaluationJobs()).filter((n) => !jobsBefore.includes(n));
        const job = await cluster.batch.readNamespacedJob({ name: evaluation, namespace: cluster.namespace });
        const args = job.spec!.template.spec!.containers[0].args!;
        assert.equal(args[args.indexOf('--models') + 1], `s3://${MODELS}/`);
        assert.equal(args[args.indexOf('--data') + 1], `s3://${MODELS}/retraining/${newer}/training-data.csv`);
        assert.ok(
          (await keysUnder(suite.deps.s3, MODELS, `retraining/${newer}/`)).includes(
            `retraining/${newer}/training-data.csv`,
          ),
        );
        const engine = await cluster.apps.readNamespacedDeployment({
          name: 'ai-optimization-engine',
          namespace: cluster.namespace,
        });
        assert.ok(engine.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
        assert.deepEqual(pagerDutyEvents(receiver, pagesBefore), []);
        await replayOwnHistory(h);
      } finally {
        await jobs.stop();
        await deployments.stop();
      }
    },
  );

  suite.test('rolls back to the served model and pages when the evaluation is below the floor', async () => {
    const { served, newer } = await promotedModelWaiting();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(cluster, suite.deps.s3, 0.7);
    const pagesBefore = receiver.requests.length;
    try {
      const h = await startWindow();
      const result = await h.result();
      assert.equal(modelStep(result).status, 'rolled-back', modelStep(result).detail);
      assert.equal(
        modelStep(result).detail,
        `model ${newer} rolled back to ${served}: ValidationFailed: accuracy 0.7 is below 0.85 (floor 0.85; production 0.86 less 0.02)`,
      );
      assert.deepEqual(await servedObjects(), OLD);
      assert.equal(await marker(), served);
      assert.deepEqual(await configMap(), { 'model.version': served, threshold: '0.8' });
      assert.ok(
        (await keysUnder(suite.deps.s3, MODELS, `retraining/${newer}/`)).includes(
          `retraining/${newer}/training-data.csv`,
        ),
      );
      const pages = pagerDutyEvents(receiver, pagesBefore).filter((e) => e.event_action === 'trigger');
      assert.equal(pages.length, 1);
      assert.match(pages[0].payload!.summary, new RegExp(`model ${newer} rolled back to ${served}`));
      assert.deepEqual(result.remaining, []);
      await replayOwnHistory(h);
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });

  suite.test('skips the update, saying why, when the newest promoted model is already served', async () => {
    const { newer } = await promotedModelWaiting();
    await suite.deps.s3.send(
      new PutObjectCommand({
        Bucket: MODELS,
        Key: 'serving.json',
        Body: JSON.stringify({ version: newer, artifactsUri: `s3://${MODELS}/retraining/${newer}/models/` }),
      }),
    );
    const before = await configMap();
    const jobsBefore = await evaluationJobs();
    const h = await startWindow();
    const result = await h.result();
    assert.equal(modelStep(result).status, 'skipped');
    assert.match(modelStep(result).detail, new RegExp(`^model ${newer} \\(promoted [0-9T:.Z-]+\\) is already served$`));
    assert.deepEqual(await configMap(), before);
    assert.deepEqual(await servedObjects(), OLD);
    assert.deepEqual(await evaluationJobs(), jobsBefore);
    assert.deepEqual(result.remaining, []);
    await replayOwnHistory(h);
  });
});
