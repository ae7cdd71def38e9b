/**
 * WedSync's response time as the local stack stands in for it (seed 002 Issue 1, High Response Times): the average
 * `/ai/metrics/daily` reports follows the condition `ai-optimization-engine` is switched into (`POST /_local/conditions`;
 * `slow` is 12 s). Scaling the engines up to the seed's counts (`kubectl scale`: optimization 10, recommendation 8,
 * read from the Deployments when a cluster is configured) clears `slow`; set with `"sticky": true` it survives.
 */
import type { AppsV1Api } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { figuresFor, type DemoConditions } from './demo-conditions';

const ENGINE = 'ai-optimization-engine';
/** seed 002 Issue 1, Solution 1: the replica counts that carry the load. */
const CAPACITY: Record<string, number> = { 'ai-optimization-engine': 10, 'ai-recommendation-engine': 8 };

export interface WedSyncLoadDemoOptions {
  kubeconfig?: string;
  /** Where WedSync's AI engines run (K8S_AI_NAMESPACE). Absent, scaling is not seen and `slow` stays. */
  aiNamespace?: string;
}

/** A Deployment's desired replicas; undefined when unknown. */
function replicaReader(options: WedSyncLoadDemoOptions): (name: string) => Promise<number | undefined> {
  if (!options.kubeconfig || !options.aiNamespace) return async () => undefined;
  const { kubeconfig, aiNamespace: namespace } = options;
  let apps: Promise<AppsV1Api> | undefined;
  return async (name) => {
    apps ??= import('@kubernetes/client-node').then((k8s) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc.makeApiClient(k8s.AppsV1Api);
    });
    try {
      return (await (await apps).readNamespacedDeploymentScale({ name, namespace })).spec?.replicas;
    } catch {
      return undefined;
    }
  };
}

export function wedsyncLoad(conditions: DemoConditions, options: WedSyncLoadDemoOptions) {
  const replicas = replicaReader(options);
  return {
    /** The AI service's average response time now, after clearing a `slow` the engines were scaled out of. */
    async responseTimeMs(): Promise<number> {
      if (conditions.get(ENGINE) === 'slow') {
        const counts = await Promise.all(Object.keys(CAPACITY).map((name) => replicas(name)));
        const scaled = Object.values(CAPACITY).every((wanted, i) => (counts[i] ?? 0) >= wanted);
        if (scaled) conditions.fix(ENGINE, ['slow']);
      }
      return Math.round(figuresFor(conditions.get(ENGINE)).responseTimeSeconds * 1000);
    },
  };
}
