/**
 * Kubernetes activities: every `kubectl` step of the runbooks. Each module under kubernetes/ covers one kind
 * of object; @kubernetes/client-node is ESM-only, so it is loaded with a dynamic import and stays out of the
 * workflow bundle.
 */
import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { AppConfig } from '../config';
import { invalidInput } from '../contracts/failures';
import { apisFor, kubernetesFailure, type KubeApisGetter, type KubernetesDeps } from './kubernetes/client';
import { createCanaryActivities } from './kubernetes/canary';
import { createConfigMapActivities } from './kubernetes/configmaps';
import { createIngressActivities } from './kubernetes/ingress';
import { createJobActivities } from './kubernetes/jobs';
import { createPodActivities } from './kubernetes/pods';
import { createRolloutActivities } from './kubernetes/rollout';
import { createScratchActivities, isScratchNamespace } from './kubernetes/scratch';

export type { KubernetesDeps } from './kubernetes/client';

/**
 * One set of a module's activities per namespace the runbooks act in: WedSync's AI namespace (K8S_AI_NAMESPACE,
 * its K8S_DEPLOYMENTS and K8S_CONFIGMAPS) and ScrollUniversity's (SCROLLUNIVERSITY_NAMESPACE, its deployments and
 * model ConfigMap). A call's optional `namespace` picks the set, absent the AI namespace's, so each namespace keeps
 * its own list of names it may act on and an input can reach no other. The one exception is a disaster recovery
 * drill's scratch namespace (kubernetes/scratch.ts): a namespace that carries the drill's label gets the AI
 * namespace's names, since the drill copied those objects there.
 */
function inNamespaces<T extends Record<string, (input: never) => Promise<unknown>>>(
  deps: KubernetesDeps,
  apis: KubeApisGetter,
  make: (deps: KubernetesDeps) => T,
): T {
  const home = make(deps);
  const su = deps.scrollUniversity;
  const sets = new Map<string, T>([[deps.aiNamespace, home]]);
  if (su && su.namespace !== deps.aiNamespace)
    sets.set(
      su.namespace,
      make({
        ...deps,
        aiNamespace: su.namespace,
        targets: { ...deps.targets, deployments: su.deployments, configMaps: [su.modelConfigMap] },
      }),
    );
  const scratch = new Map<string, T>();
  const setFor = async (namespace: unknown): Promise<T> => {
    const set = sets.get(namespace as string);
    if (set) return set;
    const known = `must be one of ${[...sets.keys()].join(', ')} or a drill's scratch namespace`;
    if (typeof namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
      throw invalidInput('namespace', known);
    if (
      !(await isScratchNamespace(apis, namespace).catch((err) =>
        Promise.reject(kubernetesFailure(`read namespace ${namespace}`, err)),
      ))
    )
      throw invalidInput('namespace', known);
    let made = scratch.get(namespace);
    if (!made) scratch.set(namespace, (made = make({ ...deps, aiNamespace: namespace })));
    return made;
  };
  return Object.fromEntries(
    Object.keys(home).map((name) => [
      name,
      async (input: { namespace?: unknown } | undefined) => {
        const set = await setFor(input?.namespace ?? deps.aiNamespace);
        return (set[name] as (input: unknown) => Promise<unknown>)(input);
      },
    ]),
  ) as unknown as T;
}
export { kubernetesFailure };

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
    ...inNamespaces(deps, apis, (d) => createRolloutActivities(d, apis)),
    ...createIngressActivities(deps, apis),
    ...inNamespaces(deps, apis, (d) => createConfigMapActivities(d, apis)),
    ...createScratchActivities(deps, apis),
    ...createJobActivities(deps, apis),
    ...createCanaryActivities(deps, apis),
  };
}
