import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { Redis } from 'ioredis';
import { eveningPerformanceReview, maintenanceChecklist, morningHealthCheck, sundayMaintenanceWindow } from '../../src/workflows';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { checklistStatusQuery, type ChecklistResult } from '../../src/workflows/checklists/messages';
import type { SundayWindowResult } from '../../src/workflows/sunday-window/messages';
import type { HttpReceiver } from '../helpers/http-receiver';
import { createDeployment, playDeploymentController, testCluster, type TestCluster } from '../helpers/kube';
import { loadOptimizations, maintenanceDatabase, redisUrlFor } from '../helpers/maintenance';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, uniqueId } from '../helpers/temporal';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Redis DB index no other suite uses. */
const REDIS_DB = 12;

const METRICS = { requests: 1200, response_time_ms: 800, accuracy_rate: 0.91, availability: 0.9995, error_rate: 0.002, queue_length: 3 };

/** The WedSync endpoints the maintenance runbooks read, on the suite's receiver. */
async function maintenanceSettings(r: HttpReceiver, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  r.route('/ai/metrics/daily', { status: 200, body: METRICS });
  r.route('/api/cost-optimization/budget/status', { status: 200, body: { spent: 300, budget: 1000 } });
  return {
    WEDSYNC_METRICS_URL: r.url('/ai/metrics/daily'),
    COST_STATUS_URL: r.url('/api/cost-optimization/budget/status'),
    CACHE_WARMUP_URLS: r.url('/ai/metrics/daily'),
    DATABASE_URL: await maintenanceDatabase('aiops_test_window'),
    REDIS_URL: redisUrlFor(REDIS_DB),
    ...extra,
  };
}

describe('a simulated week of maintenance on the time-skipping server', () => {
  const suite = runbookSuite((r) => maintenanceSettings(r));

  suite.test('runs every daily check, the weekly checklist and the Sunday window, the window inside its two hours', async () => {
    const { env, taskQueue } = suite;
    const redis = new Redis(redisUrlFor(REDIS_DB));
    try {
      await redis.flushdb();
      await redis.mset('ai:rec:1', 'x', 'ai:rec:2', 'x', 'session:9', 'keep');
      await loadOptimizations(suite.deps.pool, 2_000);

      const start = new Date(await env.currentTimeMs());
      const monday = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + (((8 - start.getUTCDay()) % 7) || 7));
      const at = async (ms: number) => {
        const now = await env.currentTimeMs();
        if (ms > now) await env.sleep(ms - now);
      };
      // A plain client waits for results without skipping time: the clock moves only at `at`, so the weekly
      // checklist's 3-day deadline cannot overtake the days in between.
      const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
      const run = <A extends unknown[], T>(workflow: (...args: A) => Promise<T>, args: A, id: string): Promise<T> =>
        plain.workflow.execute(workflow, { taskQueue, workflowId: uniqueId(id), args });

      const daily: ChecklistResult[] = [];
      const mornings: { status: string }[] = [];
      const evenings: { capacity: { action: string; reason: string } }[] = [];
      let sunday: SundayWindowResult | undefined;
      let weekly: WorkflowHandleWithFirstExecutionRunId<typeof maintenanceChecklist> | undefined;

      for (let day = 0; day < 7; day++) {
        const midnight = monday + day * DAY;
        if (day === 6) {
          await at(midnight + 2 * HOUR);
          sunday = await run(sundayMaintenanceWindow, [{}], 'sunday');
        }
        await at(midnight + 8 * HOUR);
        if (day === 0) {
          weekly = await env.client.workflow.start(maintenanceChecklist, { taskQueue, workflowId: uniqueId('weekly'), args: [{ cadence: 'weekly' }] });
          await queryUntil(weekly, checklistStatusQuery, (s) => s.gates.some((g) => g.gate === 'analyze-cost-trends'));
          await weekly.signal(decisionSignal, { gate: 'analyze-cost-trends', decision: 'approve', by: 'ai-lead', reason: 'spend flat week on week' });
        }
        daily.push(await run(maintenanceChecklist, [{ cadence: 'daily' }], 'daily'));
        await at(midnight + 9 * HOUR);
        mornings.push(await run(morningHealthCheck, [{}], 'morning'));
        await at(midnight + 18 * HOUR);
        evenings.push(await run(eveningPerformanceReview, [{}], 'evening'));
      }

      assert.equal(daily.length, 7);
      for (const d of daily) {
        assert.deepEqual(d.items.map((i) => i.id), ['review-overnight-alerts', 'report-skipped-runs', 'check-cost-anomalies', 'verify-backup', 'review-error-rates']);
        assert.notEqual(d.items.find((i) => i.id === 'report-skipped-runs')?.status, 'failed');
        assert.equal(d.items.find((i) => i.id === 'check-cost-anomalies')?.status, 'ok');
        assert.equal(d.items.find((i) => i.id === 'review-error-rates')?.status, 'ok');
      }
      assert.deepEqual(mornings.map((m) => m.status), Array(7).fill('healthy'));
      assert.equal(evenings.length, 7);
      // The fixture has ten optimisations a day and one in the latest 24 hours: a drop the review points out.
      for (const e of evenings) {
        assert.equal(e.capacity.action, 'scale-down');
        assert.match(e.capacity.reason, /^requests are 90% below the average/);
      }

      // The weekly checklist: automatic items checked at once, people's tasks done or missed by their 3-day deadline.
      const week = await weekly!.result();
      const status = Object.fromEntries(week.items.map((i) => [i.id, i.status]));
      assert.equal(status['analyze-cost-trends'], 'done');
      assert.equal(status['review-theological-alignment'], 'missed');
      assert.equal(status['update-documentation'], 'missed');
      assert.equal(status['review-ai-metrics'], 'ok');
      const closedAfter = Date.parse(week.finishedAt) - (monday + 8 * HOUR);
      assert.ok(closedAfter >= 3 * DAY && closedAfter < 3 * DAY + 60_000, `the missed tasks closed at their 3-day deadline, not ${closedAfter} ms`);

      assert.ok(sunday);
      const sundayStart = monday + 6 * DAY + 2 * HOUR;
      // Started by hand rather than by the schedule, the window counts from the run's start: 04:00 give or take the start-up.
      assert.ok(Math.abs(Date.parse(sunday.windowEnd) - (sundayStart + 2 * HOUR)) < 5_000, sunday.windowEnd);
      assert.ok(Date.parse(sunday.finishedAt) <= Date.parse(sunday.windowEnd));
      assert.deepEqual(sunday.steps.map((s) => [s.step, s.status]), [['model-update', 'skipped'], ['database', 'done'], ['cache', 'done']]);
      assert.deepEqual(sunday.remaining, []);
      assert.deepEqual((await redis.keys('*')).sort(), ['session:9']);
    } finally {
      redis.disconnect();
    }
  });

  suite.test('a window started too late for a step defers it and reports what remains', async () => {
    const { env, taskQueue } = suite;
    const now = await env.currentTimeMs();
    const result = await env.client.workflow.execute(sundayMaintenanceWindow, {
      taskQueue,
      workflowId: uniqueId('late-window'),
      // Eight minutes left: too little for the model (30) or the database (10), enough for the cache (5).
      args: [{ windowEnd: new Date(now + 8 * 60_000).toISOString() }],
    });
    assert.deepEqual(result.steps.map((s) => [s.step, s.status]), [['model-update', 'skipped'], ['database', 'deferred'], ['cache', 'done']]);
    assert.match(result.steps[1].detail, /^8 min left of the window; needs 10$/);
    assert.deepEqual(result.remaining, ['database']);
    assert.ok(Date.parse(result.finishedAt) <= now + 8 * 60_000);
  });
});

describe('the Sunday window\'s model update', () => {
  let cluster: TestCluster;
  let receiver: HttpReceiver;
  const suite = runbookSuite(async (r) => {
    receiver = r;
    cluster = await testCluster('aiops-model');
    return maintenanceSettings(r, { K8S_AI_NAMESPACE: cluster.namespace, AI_MODEL_VERSION: '2.0.0', MODEL_MIN_ACCURACY: '0.9' });
  });
  after(async () => cluster?.destroy());

  async function modelClusterReady(version: string) {
    for (const name of ['ai-optimization-engine', 'ai-recommendation-engine']) {
      await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
      await createDeployment(cluster, name, 2);
    }
    await cluster.core.deleteNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace }).catch(() => undefined);
    await cluster.core.createNamespacedConfigMap({ namespace: cluster.namespace, body: { metadata: { name: 'ai-model-config' }, data: { 'model.version': version, threshold: '0.8' } } });
  }

  const modelStep = (r: SundayWindowResult) => r.steps.find((s) => s.step === 'model-update')!;
  const runWindow = async (skip: string[]) =>
    suite.env.client.workflow.execute(sundayMaintenanceWindow, { taskQueue: suite.taskQueue, workflowId: uniqueId('window'), args: [{ skip: skip as never }] });

  suite.test('deploys the configured version, restarts the engines and keeps it when it validates', async () => {
    await modelClusterReady('1.0.0');
    const controller = playDeploymentController(cluster);
    try {
      const result = await runWindow(['database', 'cache']);
      assert.equal(modelStep(result).status, 'done', modelStep(result).detail);
      assert.equal(modelStep(result).detail, 'model 1.0.0 → 2.0.0; accuracy 0.91');
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.deepEqual(cm.data, { 'model.version': '2.0.0', threshold: '0.8' });
      const d = await cluster.apps.readNamespacedDeployment({ name: 'ai-recommendation-engine', namespace: cluster.namespace });
      assert.ok(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    } finally {
      await controller.stop();
    }
  });

  suite.test('rolls the model back when its accuracy is below the floor', async () => {
    await modelClusterReady('1.0.0');
    receiver.route('/ai/metrics/daily', { status: 200, body: { ...METRICS, accuracy_rate: 0.62 } });
    const controller = playDeploymentController(cluster);
    try {
      const result = await runWindow(['database', 'cache']);
      assert.equal(modelStep(result).status, 'rolled-back');
      assert.match(modelStep(result).detail, /^model 2\.0\.0 rolled back to 1\.0\.0: ValidationFailed: accuracy 0\.62 is below 0\.9$/);
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.deepEqual(cm.data, { 'model.version': '1.0.0', threshold: '0.8' });
      assert.deepEqual(result.remaining, []);
    } finally {
      receiver.route('/ai/metrics/daily', { status: 200, body: METRICS });
      await controller.stop();
    }
  });
});
