import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { Pool } from 'pg';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  retrainingStatusQuery,
  type RetrainingResult,
  type RetrainingStatus,
} from '../../src/workflows/model-retraining/messages';
import {
  playDeploymentController,
  playJobController as playJobsAndMetrics,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory } from '../helpers/temporal';
import {
  DEPLOYMENT,
  feedback as addFeedback,
  PRODUCTION,
  productionReady as makeProductionReady,
  retrainingSettings,
  startRetraining,
} from './helpers';

const CANDIDATE = `${DEPLOYMENT}-candidate`;
const CANARY_INGRESS = 'ai-ingress-candidate';

describe('monthly model retraining with an A/B rollout', () => {
  let cluster: TestCluster;
  let databaseUrl: string;
  let pool: Pool;
  const suite = runbookSuite('aiops_test_model_retraining', async (_r, url) => {
    databaseUrl = url;
    cluster = await testCluster('aiops-retrain');
    return retrainingSettings(cluster);
  });
  after(async () => {
    await pool?.end();
    await cluster?.destroy();
  });

  const productionReady = () => {
    pool ??= new Pool({ connectionString: databaseUrl });
    return makeProductionReady(suite, cluster, pool);
  };

  const playJobController = (accuracy: number, hold?: () => boolean) =>
    playJobsAndMetrics(cluster, suite.deps.s3, accuracy, hold);

  const start = () => startRetraining(suite, 'test');

  const status = (h: WorkflowHandle, pred: (s: RetrainingStatus) => boolean, ms = 30_000) =>
    queryUntil(h, retrainingStatusQuery, pred, ms);

  const feedback = (version: string, total: number, accepted: number) => addFeedback(pool, version, total, accepted);

  async function candidateObjects(): Promise<{ deployment: boolean; ingress?: string }> {
    const ns = cluster.namespace;
    const deployment = await cluster.apps
      .readNamespacedDeployment({ name: CANDIDATE, namespace: ns })
      .then(() => true)
      .catch(() => false);
    const ingress = await cluster.networking
      .readNamespacedIngress({ name: CANARY_INGRESS, namespace: ns })
      .then((i) => i.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight'])
      .catch(() => undefined);
    return { deployment, ingress };
  }

  /**
   * Waits until `count` activities of the type are running and have heartbeated (a long poll in flight, the case a
   * cancellation must reach), by the server's own record of the run's pending activities.
   */
  async function inFlight(h: WorkflowHandle, activityType: string, count = 1): Promise<void> {
    const running = async () =>
      ((await h.describe()).raw.pendingActivities ?? []).filter(
        (a) => a.activityType?.name === activityType && a.lastHeartbeatTime && Number(a.state) === 2,
      ).length;
    const until = Date.now() + 30_000;
    while ((await running()) < count && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await running(), count, `${count} ${activityType} running and heartbeating`);
  }

  /** The run's Jobs (training and evaluation) still on the API server. */
  async function jobsOf(version: string): Promise<string[]> {
    const jobs = await cluster.batch.listNamespacedJob({ namespace: cluster.namespace });
    return jobs.items.map((j) => j.metadata!.name!).filter((name) => name.includes(version.toLowerCase()));
  }

  /**
   * Cancels the run and checks what a cancellation must leave: the run closed as cancelled within the deadline
   * (polled: awaiting the result would let time jump), no candidate Deployment, no canary Ingress or weight, none of
   * the run's Jobs on the API server, the decision recorded; then replays the history.
   */
  async function cancelLeavesNothing(h: WorkflowHandle, version: string): Promise<void> {
    await h.cancel();
    const deadline = Date.now() + 60_000;
    let closed = (await h.describe()).status.name;
    while (closed === 'RUNNING' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      closed = (await h.describe()).status.name;
    }
    assert.equal(closed, 'CANCELLED');
    assert.deepEqual(await candidateObjects(), { deployment: false, ingress: undefined });
    assert.deepEqual(await jobsOf(version), []);
    assert.equal(await decided(version), 'cancelled');
    await replayOwnHistory(h);
  }

  async function decided(version: string): Promise<string | undefined> {
    const { rows } = await pool.query<{ decision: string }>('SELECT decision FROM model_versions WHERE version = $1', [
      version,
    ]);
    return rows[0]?.decision;
  }

  /** Runs to the A/B test, checks the candidate takes its weight, and writes the feedback of both arms. */
  async function toAbTest(h: WorkflowHandle, production: [number, number], candidate: [number, number]) {
    const s = await status(h, (x) => x.stage === 'ab-test' && x.ab !== undefined);
    assert.deepEqual(await candidateObjects(), { deployment: true, ingress: '10' });
    await feedback(PRODUCTION, ...production);
    await feedback(s.version, ...candidate);
    return s;
  }

  suite.test('promotes a candidate that wins the A/B test once a lead approves at the gate', async () => {
    await productionReady();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(0.91);
    try {
      const h = await start();
      const s = await toAbTest(h, [400, 320], [400, 368]);
      await suite.env.sleep('61 minutes');
      const atGate = await status(h, (x) => x.stage === 'promotion-gate' && x.gates.length === 1);
      assert.equal(atGate.ab!.last!.verdict, 'candidate-better');
      assert.deepEqual(
        [atGate.ab!.last!.control.trials, atGate.ab!.last!.candidate.trials, atGate.ab!.looks],
        [400, 400, 1],
      );
      assert.ok(Math.abs(atGate.ab!.last!.z!) >= atGate.ab!.last!.zBoundary!);
      assert.match(atGate.gates[0].prompt, /Acceptance 0\.92 \(368\/400\) vs 0\.8 \(320\/400\)/);
      await h.executeUpdate(decideUpdate, {
        args: [{ gate: 'promote-model', decision: 'approve', by: 'ai-lead', reason: 'clear win' }],
      });
      const result = (await h.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'promoted', result.reason);
      assert.equal(result.decidedBy, 'ai-lead');
      assert.equal(result.manifest!.rows, 500);
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.equal(cm.data!['model.version'], s.version);
      assert.equal(cm.data!['model.uri'], s.artifactsUri);
      assert.deepEqual(await candidateObjects(), { deployment: false, ingress: undefined });
      assert.equal(await decided(s.version), 'promoted');
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });

  suite.test('rolls a significantly worse candidate back at the first look, without asking', async () => {
    await productionReady();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(0.9);
    try {
      const h = await start();
      const s = await toAbTest(h, [400, 320], [400, 260]);
      const result = (await h.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'rolled-back', result.reason);
      assert.equal(result.ab!.looks, 1);
      assert.match(result.reason!, /significantly worse/);
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.equal(cm.data!['model.version'], PRODUCTION);
      assert.deepEqual(await candidateObjects(), { deployment: false, ingress: undefined });
      assert.equal(await decided(s.version), 'rolled-back');
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });

  suite.test('keeps the current model when three days of hourly looks find no difference', async () => {
    await productionReady();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(0.9);
    try {
      const h = await start();
      const s = await toAbTest(h, [400, 320], [400, 322]);
      const result = (await h.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'kept-current', result.reason);
      assert.equal(result.ab!.looks, 72);
      assert.equal(result.ab!.last!.verdict, 'continue');
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.equal(cm.data!['model.version'], PRODUCTION);
      assert.deepEqual(await candidateObjects(), { deployment: false, ingress: undefined });
      assert.equal(await decided(s.version), 'kept-current');
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });

  suite.test('rejects a model whose evaluation is below the accuracy floor before it takes any traffic', async () => {
    await productionReady();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(0.8);
    try {
      const h = await start();
      const result = (await h.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'rejected');
      assert.match(result.reason!, /^accuracy 0\.8 is below 0\.85/);
      assert.equal(result.ab, undefined);
      assert.deepEqual(await candidateObjects(), { deployment: false, ingress: undefined });
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });

  suite.test(
    'stops at the data-quality gate with the report, and a refusal there ends the run before training',
    async () => {
      await productionReady();
      // Every training row a duplicate of another: half the feedback is repeated.
      await pool.query(
        `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version, created_at)
       SELECT recommendation_id, rating, outcome, model_version, created_at FROM ai_feedback`,
      );
      const h = await start();
      const s = await status(h, (x) => x.gates.some((g) => g.gate === 'training-data-quality'));
      assert.equal(s.quality!.duplicateFeedback, 500);
      assert.equal(s.quality!.badRatio, 0.5);
      assert.match(s.gates[0].prompt, /50\.00 % duplicate feedback/);
      await h.executeUpdate(decideUpdate, {
        args: [{ gate: 'training-data-quality', decision: 'reject', by: 'ai-lead', reason: 'duplicates to fix first' }],
      });
      const result = (await h.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'rejected');
      assert.equal(result.reason, 'training data refused at the quality gate: duplicates to fix first');
      const jobs = await cluster.batch.listNamespacedJob({ namespace: cluster.namespace });
      assert.ok(!jobs.items.some((j) => j.metadata!.name!.includes(s.version)), 'no Job was created');
      assert.equal(await decided(s.version), 'rejected');
    },
  );

  suite.test('cancelled during the extract, it ends cancelled and leaves nothing behind', async () => {
    await productionReady();
    // The COPY waits behind a lock on ai_feedback: the extract is in flight, not finished, when the run is cancelled.
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ai_feedback IN ACCESS EXCLUSIVE MODE');
      const h = await start();
      const s = await status(h, (x) => x.stage === 'extract');
      const copyWaiting = async () =>
        (
          await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'COPY (%'`,
          )
        ).rows[0].n !== '0';
      const until = Date.now() + 30_000;
      while (!(await copyWaiting()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await copyWaiting(), 'the extract is waiting on the lock');
      await cancelLeavesNothing(h, s.version);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
  });

  suite.test('cancelled at the data-quality gate, it ends cancelled before any Job is created', async () => {
    await productionReady();
    await pool.query(
      `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version, created_at)
       SELECT recommendation_id, rating, outcome, model_version, created_at FROM ai_feedback`,
    );
    const h = await start();
    const s = await status(
      h,
      (x) => x.stage === 'data-quality' && x.gates.some((g) => g.gate === 'training-data-quality'),
    );
    await cancelLeavesNothing(h, s.version);
  });

  suite.test('cancelled while the models train, it deletes the training Jobs it started', async () => {
    await productionReady();
    // No Job ever finishes: both training runs are in flight when the run is cancelled.
    const jobs = playJobController(0.91, () => true);
    try {
      const h = await start();
      const s = await status(h, (x) => x.stage === 'train');
      const until = Date.now() + 30_000;
      while ((await jobsOf(s.version)).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual((await jobsOf(s.version)).sort(), [
        `retrain-${s.version}-optimization`,
        `retrain-${s.version}-recommendation`,
      ]);
      await inFlight(h, 'waitForJob', 2);
      await cancelLeavesNothing(h, s.version);
    } finally {
      await jobs.stop();
    }
  });

  suite.test('cancelled in staging, it removes the candidate that was rolling out', async () => {
    await productionReady();
    // No deployment controller: the candidate's rollout never finishes, so the run waits in staging.
    const jobs = playJobController(0.91);
    try {
      const h = await start();
      const s = await status(h, (x) => x.stage === 'staging');
      const until = Date.now() + 30_000;
      let objects = await candidateObjects();
      while (objects.ingress !== '0' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        objects = await candidateObjects();
      }
      assert.deepEqual(objects, { deployment: true, ingress: '0' });
      await cancelLeavesNothing(h, s.version);
    } finally {
      await jobs.stop();
    }
  });

  for (const stage of ['ab-test', 'promotion-gate'] as const) {
    suite.test(`cancelled at ${stage}, it leaves no candidate Deployment or canary weight behind`, async () => {
      await productionReady();
      const deployments = playDeploymentController(cluster);
      const jobs = playJobController(0.91);
      try {
        const h = await start();
        // The candidate is taking traffic in both stages: the cleanup has something to remove.
        await toAbTest(h, [400, 320], [400, stage === 'promotion-gate' ? 368 : 322]);
        if (stage === 'promotion-gate') await suite.env.sleep('61 minutes');
        const s = await status(h, (x) => x.stage === stage);
        await cancelLeavesNothing(h, s.version);
      } finally {
        await jobs.stop();
        await deployments.stop();
      }
    });
  }
});
