/**
 * Hostile decisions at the promotion gate of modelRetraining (src/workflows/model-retraining/), reached as its own
 * test reaches it: production in a Kubernetes namespace of this file's own, the Jobs and rollouts played, a
 * candidate that wins its A/B test on the feedback of this file's own database. The gate is bombarded and sent
 * forged decisions while it waits; none decides it or fails a workflow task, and the refusal that follows keeps the
 * current model and removes the candidate.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { Pool } from 'pg';
import { modelRetraining } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  monthOf,
  retrainingStatusQuery,
  retrainingWorkflowId,
  type RetrainingResult,
} from '../../src/workflows/model-retraining/messages';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import {
  createDeployment,
  playDeploymentController,
  playJobController,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory } from '../helpers/temporal';

const PRODUCTION = '2026-10-prod';
const DEPLOYMENT = 'ai-recommendation-engine';

describe('the model promotion gate against hostile decisions', () => {
  let cluster: TestCluster;
  let pool: Pool;
  const suite = runbookSuite('aiops_test_gates_retraining', async (_r, url) => {
    pool = new Pool({ connectionString: url });
    cluster = await testCluster('aiops-gates-rt');
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      RETRAIN_AB_INTERVAL_MINUTES: '60',
      RETRAIN_AB_MAX_DAYS: '3',
      RETRAIN_CANARY_WEIGHT: '10',
    };
  });
  after(async () => {
    await pool?.end();
    await cluster?.destroy();
  });

  /** Production as seed 002 has it (the engine, its ingress, the model ConfigMap) and a month of its feedback. */
  async function productionReady(): Promise<void> {
    await pool.query('DELETE FROM ai_feedback');
    await pool.query(
      `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version, created_at)
       SELECT 10000 + g, 4, CASE WHEN g % 5 = 0 THEN 'rejected' ELSE 'accepted' END, $1, now() - interval '2 days'
         FROM generate_series(1, 500) g`,
      [PRODUCTION],
    );
    const namespace = cluster.namespace;
    await createDeployment(cluster, DEPLOYMENT, 2);
    await cluster.networking.createNamespacedIngress({
      namespace,
      body: {
        metadata: { name: 'ai-ingress' },
        spec: {
          ingressClassName: 'nginx',
          rules: [
            {
              host: 'api.wedsync.test',
              http: {
                paths: [
                  { path: '/ai', pathType: 'Prefix', backend: { service: { name: DEPLOYMENT, port: { number: 80 } } } },
                ],
              },
            },
          ],
        },
      },
    });
    await cluster.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'ai-model-config' }, data: { 'model.version': PRODUCTION } },
    });
    // The Kubernetes activities poll every 100 ms here instead of 5 s.
    (suite.deps as { pollIntervalMs?: number }).pollIntervalMs = 100;
  }

  /** Feedback rows as the engines would write them: `accepted` of `total` for the model version. */
  const feedback = (version: string, total: number, accepted: number) =>
    pool.query(
      `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version)
       SELECT g, 4, CASE WHEN g <= $2 THEN 'accepted' ELSE 'rejected' END, $3 FROM generate_series(1, $1::int) g`,
      [total, accepted, version],
    );

  suite.test('modelRetraining refuses them all at promote-model, and the refusal keeps the current model', async () => {
    await productionReady();
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(cluster, suite.deps.s3, 0.91);
    try {
      const month = monthOf(await suite.env.currentTimeMs());
      const handle = await suite.env.client.workflow.start(modelRetraining, {
        taskQueue: suite.taskQueue,
        workflowId: retrainingWorkflowId(month),
        args: [{ requestedBy: 'ai-lead', reason: 'hostile drill' }],
      });
      const ab = await queryUntil(handle, retrainingStatusQuery, (s) => s.stage === 'ab-test' && !!s.ab, 30_000);
      // A clear win for the candidate at the first look, an hour on.
      await feedback(PRODUCTION, 400, 320);
      await feedback(ab.version, 400, 368);
      await suite.env.sleep('61 minutes');
      await assaultGate(suite.env, handle, { gate: 'promote-model', by: 'ai-lead' });
      assert.equal((await handle.query(retrainingStatusQuery)).stage, 'promotion-gate', 'nothing sent decided it');
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'promote-model', decision: 'reject', by: 'ai-lead', reason: 'wait for the exam season' }],
      });
      const result = (await handle.result()) as Extract<RetrainingResult, { decision: string }>;
      assert.equal(result.decision, 'kept-current', result.reason);
      assert.equal(result.reason, 'refused: wait for the exam season');
      assert.equal(result.decidedBy, 'ai-lead');
      const cm = await cluster.core.readNamespacedConfigMap({ name: 'ai-model-config', namespace: cluster.namespace });
      assert.equal(cm.data!['model.version'], PRODUCTION);
      const candidate = await cluster.apps
        .readNamespacedDeployment({ name: `${DEPLOYMENT}-candidate`, namespace: cluster.namespace })
        .then(() => true)
        .catch(() => false);
      assert.equal(candidate, false, 'the candidate is removed');
      assert.equal(await workflowTaskFailures(handle), 0);
      await replayOwnHistory(handle);
    } finally {
      await jobs.stop();
      await deployments.stop();
    }
  });
});
