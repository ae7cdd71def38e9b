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
import { decideUpdate } from '../../src/workflows/gates/messages';
import { retrainingStatusQuery, type RetrainingResult } from '../../src/workflows/model-retraining/messages';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import { playDeploymentController, playJobController, testCluster, type TestCluster } from '../helpers/kube';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory } from '../helpers/temporal';
import {
  DEPLOYMENT,
  feedback,
  PRODUCTION,
  productionReady,
  retrainingSettings,
  startRetraining,
} from '../model-retraining/helpers';

describe('the model promotion gate against hostile decisions', () => {
  let cluster: TestCluster;
  let pool: Pool;
  const suite = runbookSuite('aiops_test_gates_retraining', async (_r, url) => {
    pool = new Pool({ connectionString: url });
    cluster = await testCluster('aiops-gates-rt');
    return retrainingSettings(cluster);
  });
  after(async () => {
    await pool?.end();
    await cluster?.destroy();
  });

  suite.test('modelRetraining refuses them all at promote-model, and the refusal keeps the current model', async () => {
    await productionReady(suite, cluster, pool);
    const deployments = playDeploymentController(cluster);
    const jobs = playJobController(cluster, suite.deps.s3, 0.91);
    try {
      const handle = await startRetraining(suite, 'hostile drill');
      const ab = await queryUntil(handle, retrainingStatusQuery, (s) => s.stage === 'ab-test' && !!s.ab, 30_000);
      // A clear win for the candidate at the first look, an hour on.
      await feedback(pool, PRODUCTION, 400, 320);
      await feedback(pool, ab.version, 400, 368);
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
