/** WedSync's two AI engines on the test's API server, in a condition its demo API plays. */
import assert from 'node:assert/strict';
import { createDeployment, type TestCluster } from './kube';

export const WEDSYNC_ENGINES = ['ai-optimization-engine', 'ai-recommendation-engine'] as const;

/**
 * Both engines made anew at 3 replicas, and the optimization engine switched into `condition` at the demo API
 * (`sticky`: it stays so however the engines are scaled).
 */
export async function freshWedsyncEngines(
  cluster: TestCluster,
  demoUrl: string,
  condition: string,
  sticky = false,
): Promise<void> {
  for (const name of WEDSYNC_ENGINES) {
    await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
    await createDeployment(cluster, name, 3, `wedsync/${name}:1.0.0`);
  }
  const res = await fetch(`${demoUrl}/_local/conditions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'ai-optimization-engine', condition, sticky }),
  });
  assert.equal(res.status, 200, await res.text());
}
