/**
 * What the tests that run modelRetraining share (its own test and the hostile decisions at its promotion gate):
 * the suite's settings, production as seed 002 has it, feedback rows as the engines write them, and a start.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import { modelRetraining } from '../../src/workflows';
import { monthOf, retrainingWorkflowId } from '../../src/workflows/model-retraining/messages';
import { createDeployment, type TestCluster } from '../helpers/kube';
import type { RunbookSuite } from '../helpers/runbook-suite';

/** The production model's version, as the ConfigMap names it. */
export const PRODUCTION = '2026-10-prod';
export const DEPLOYMENT = 'ai-recommendation-engine';

/** The suite's settings: the cluster's namespace, hourly A/B looks for at most three days, a 10 % canary. */
export const retrainingSettings = (cluster: TestCluster): NodeJS.ProcessEnv => ({
  K8S_AI_NAMESPACE: cluster.namespace,
  RETRAIN_AB_INTERVAL_MINUTES: '60',
  RETRAIN_AB_MAX_DAYS: '3',
  RETRAIN_CANARY_WEIGHT: '10',
});

/**
 * Production as seed 002 has it, made afresh: the engine, its ingress, the model ConfigMap; the feedback emptied but
 * for the month's training data (500 rows of the production model's feedback, two days old).
 */
export async function productionReady(suite: RunbookSuite, cluster: TestCluster, pool: Pool): Promise<void> {
  await pool.query('DELETE FROM ai_feedback');
  await pool.query(
    `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version, created_at)
     SELECT 10000 + g, 4, CASE WHEN g % 5 = 0 THEN 'rejected' ELSE 'accepted' END, $1, now() - interval '2 days'
       FROM generate_series(1, 500) g`,
    [PRODUCTION],
  );
  const namespace = cluster.namespace;
  for (const remove of [
    () => cluster.apps.deleteNamespacedDeployment({ name: DEPLOYMENT, namespace }),
    () => cluster.networking.deleteNamespacedIngress({ name: 'ai-ingress', namespace }),
    () => cluster.core.deleteNamespacedConfigMap({ name: 'ai-model-config', namespace }),
  ])
    await remove().catch(() => undefined);
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
export async function feedback(pool: Pool, version: string, total: number, accepted: number): Promise<void> {
  await pool.query(
    `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version)
     SELECT g, 4, CASE WHEN g <= $2 THEN 'accepted' ELSE 'rejected' END, $3 FROM generate_series(1, $1::int) g`,
    [total, accepted, version],
  );
}

/** Starts this month's retraining on the suite's worker, as `ai-lead` with `reason`. */
export async function startRetraining(
  suite: RunbookSuite,
  reason: string,
): Promise<WorkflowHandle<typeof modelRetraining>> {
  const month = monthOf(await suite.env.currentTimeMs());
  return suite.env.client.workflow.start(modelRetraining, {
    taskQueue: suite.taskQueue,
    workflowId: retrainingWorkflowId(month),
    args: [{ requestedBy: 'ai-lead', reason }],
  });
}
