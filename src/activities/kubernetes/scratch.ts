/**
 * The disaster recovery drill's scratch namespace: made (or reused) with a label saying a drill owns it, given copies
 * of what the AI service recovery acts on (the engines' Deployments and the model ConfigMap, read from the AI
 * namespace and never written there), and emptied of them afterwards. The rollout and ConfigMap activities act in a
 * namespace other than the configured ones only when it carries that label (activities/kubernetes.ts), so an
 * input can reach no namespace a drill did not make.
 */
import type { V1Deployment } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { invalidInput } from '../../contracts/failures';
import { DRILL_NAMESPACE_LABEL } from '../../contracts/drills';
import {
  call,
  isNotFound,
  kubernetesFailure,
  requireDnsLabel,
  statusCode,
  type KubeApisGetter,
  type KubernetesDeps,
} from './client';
import { RESTARTED_AT_ANNOTATION } from './rollout';

const FIELD_MANAGER = 'aiops-runbooks-dr-drill';

/** The namespaces the runbooks act on for real: never a drill's scratch namespace. */
export function productionNamespaces(deps: KubernetesDeps): string[] {
  return [deps.aiNamespace, ...(deps.scrollUniversity ? [deps.scrollUniversity.namespace] : [])];
}

/** Whether a namespace was made by a drill (carries the label); false when it does not exist. */
export async function isScratchNamespace(apis: KubeApisGetter, namespace: string): Promise<boolean> {
  const { core } = await apis();
  try {
    const ns = await core.readNamespace({ name: namespace });
    return ns.metadata?.labels?.[DRILL_NAMESPACE_LABEL] === 'true';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The Deployment as a new object elsewhere: its spec, labels and annotations, none of its server-set fields. */
function copyOfDeployment(d: V1Deployment, namespace: string): V1Deployment {
  const spec = structuredClone(d.spec!);
  // The copy starts as if never restarted: the drill's restart is then the one stamp on it.
  delete spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
  const annotations = Object.fromEntries(
    Object.entries(d.metadata?.annotations ?? {}).filter(
      ([k]) => !k.startsWith('deployment.kubernetes.io/') && k !== 'kubectl.kubernetes.io/last-applied-configuration',
    ),
  );
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: d.metadata!.name, namespace, labels: d.metadata?.labels, annotations },
    spec,
  };
}

export function createScratchActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const production = productionNamespaces(deps);
  const scratchName = (value: unknown) => {
    const namespace = requireDnsLabel('namespace', value);
    if (production.includes(namespace))
      throw invalidInput('namespace', `${namespace} is a production namespace; a drill needs a scratch one`);
    return namespace;
  };
  const requireScratch = async (namespace: string) => {
    if (!(await call(`read namespace ${namespace}`, () => isScratchNamespace(apis, namespace))))
      throw invalidInput('namespace', `${namespace} was not made by a drill (no ${DRILL_NAMESPACE_LABEL} label)`);
  };

  return {
    /**
     * `kubectl create namespace` with the drill's label, or the same namespace again when a drill made it. A
     * namespace of that name made by anyone else is refused, not taken over. Safe to retry.
     */
    async ensureScratchNamespace(input: { namespace: string }): Promise<{ namespace: string; created: boolean }> {
      const namespace = scratchName(input?.namespace);
      const { core } = await apis();
      const existing = await call(`read namespace ${namespace}`, () => core.readNamespace({ name: namespace })).catch(
        (err) => {
          if (isNotFound(err)) return undefined;
          throw err;
        },
      );
      if (existing) {
        if (existing.metadata?.labels?.[DRILL_NAMESPACE_LABEL] !== 'true')
          throw invalidInput('namespace', `${namespace} exists and was not made by a drill; choose another`);
        return { namespace, created: false };
      }
      try {
        await core.createNamespace({
          body: { metadata: { name: namespace, labels: { [DRILL_NAMESPACE_LABEL]: 'true' } } },
        });
      } catch (err) {
        // A retry after a lost reply finds the namespace there: it is ours if it carries the label.
        if (statusCode(err) !== 409) throw kubernetesFailure(`create namespace ${namespace}`, err);
        await requireScratch(namespace);
      }
      return { namespace, created: true };
    },

    /**
     * Copies the configured engines' Deployments and model ConfigMaps from the AI namespace (read only) into the
     * scratch namespace, as server-side apply: the same result however often it runs.
     */
    async copyIntoScratch(input: { namespace: string }): Promise<{ deployments: string[]; configMaps: string[] }> {
      const namespace = scratchName(input?.namespace);
      await requireScratch(namespace);
      const { apps, core, patchAs } = await apis();
      const from = deps.aiNamespace;
      for (const name of deps.targets.deployments) {
        const d = await call(`read deployment ${from}/${name}`, () =>
          apps.readNamespacedDeployment({ name, namespace: from }),
        );
        await call(`copy deployment ${name} into ${namespace}`, () =>
          apps.patchNamespacedDeployment(
            { name, namespace, fieldManager: FIELD_MANAGER, force: true, body: copyOfDeployment(d, namespace) },
            patchAs('apply'),
          ),
        );
      }
      for (const name of deps.targets.configMaps) {
        const cm = await call(`read configmap ${from}/${name}`, () =>
          core.readNamespacedConfigMap({ name, namespace: from }),
        );
        await call(`copy configmap ${name} into ${namespace}`, () =>
          core.patchNamespacedConfigMap(
            {
              name,
              namespace,
              fieldManager: FIELD_MANAGER,
              force: true,
              body: {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name, namespace, labels: cm.metadata?.labels },
                data: cm.data ?? {},
              },
            },
            patchAs('apply'),
          ),
        );
      }
      return { deployments: [...deps.targets.deployments], configMaps: [...deps.targets.configMaps] };
    },

    /**
     * Deletes the copies from the scratch namespace (only one a drill made): the namespace stays for next month's
     * drill, empty. What is already gone is not an error, so a retry ends the same.
     */
    async cleanScratchNamespace(input: { namespace: string }): Promise<{ deleted: string[] }> {
      const namespace = scratchName(input?.namespace);
      if (!(await call(`read namespace ${namespace}`, () => isScratchNamespace(apis, namespace))))
        return { deleted: [] };
      const { apps, core } = await apis();
      const deleted: string[] = [];
      const gone = (err: unknown) => {
        if (!isNotFound(err)) throw err;
      };
      for (const name of deps.targets.deployments) {
        await call(`delete deployment ${namespace}/${name}`, () =>
          apps.deleteNamespacedDeployment({ name, namespace }),
        ).then(() => deleted.push(`deployment/${name}`), gone);
      }
      for (const name of deps.targets.configMaps) {
        await call(`delete configmap ${namespace}/${name}`, () =>
          core.deleteNamespacedConfigMap({ name, namespace }),
        ).then(() => deleted.push(`configmap/${name}`), gone);
      }
      return { deleted };
    },
  };
}
