/**
 * Kubernetes activities: every `kubectl` step of the runbooks. Each module under kubernetes/ covers one kind
 * of object; @kubernetes/client-node is ESM-only, so it is loaded with a dynamic import and stays out of the
 * workflow bundle.
 */
import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { AppConfig } from '../config';
import { apisFor, type KubernetesDeps } from './kubernetes/client';
import { createCanaryActivities } from './kubernetes/canary';
import { createConfigMapActivities } from './kubernetes/configmaps';
import { createIngressActivities } from './kubernetes/ingress';
import { createJobActivities } from './kubernetes/jobs';
import { createPodActivities } from './kubernetes/pods';
import { createRolloutActivities } from './kubernetes/rollout';

export type { KubernetesDeps } from './kubernetes/client';
export { kubernetesFailure } from './kubernetes/client';

/** Builds a KubeConfig from configuration, or null when neither KUBECONFIG nor in-cluster config is set. */
export async function loadKubeConfig(cfg: AppConfig['kubernetes']): Promise<KubeConfig | null> {
  if (!cfg.kubeconfig && !cfg.inCluster) return null;
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (cfg.inCluster) kc.loadFromCluster();
  else kc.loadFromFile(cfg.kubeconfig!);
  return kc;
}

export function createKubernetesActivities(deps: KubernetesDeps) {
  const apis = apisFor(deps);
  return {
    ...createPodActivities(deps, apis),
    ...createRolloutActivities(deps, apis),
    ...createIngressActivities(deps, apis),
    ...createConfigMapActivities(deps, apis),
    ...createJobActivities(deps, apis),
    ...createCanaryActivities(deps, apis),
  };
}
