/**
 * The model configuration ConfigMap (seed 002, Model Recovery): `kubectl get configmap -o yaml` as a backup
 * and `kubectl apply -f` to restore it.
 */
import { invalidInput } from '../../contracts/failures';
import { call, isNotFound, requireTarget, type KubeApisGetter, type KubernetesDeps } from './client';

const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
/** The API server's limit for one object. */
const MAX_BYTES = 1024 * 1024;

function requireData(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw invalidInput('data', 'must be an object of string values');
  let bytes = 0;
  for (const [key, v] of Object.entries(value)) {
    if (!DATA_KEY.test(key) || key.length > 253)
      throw invalidInput(`data.${key}`, 'keys may hold only letters, digits, "-", "_" and "."');
    if (typeof v !== 'string') throw invalidInput(`data.${key}`, `must be a string, got ${typeof v}`);
    bytes += key.length + Buffer.byteLength(v);
  }
  if (bytes > MAX_BYTES) throw invalidInput('data', `${bytes} bytes is over the 1 MiB a ConfigMap may hold`);
  return value as Record<string, string>;
}

export function createConfigMapActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;
  const configMapName = (value: unknown) => requireTarget('name', value, deps.targets.configMaps, 'K8S_CONFIGMAPS');

  return {
    /** `kubectl get configmap <name> -o yaml`: its data and version, for a backup. */
    async getConfigMap(input: { name: string; namespace?: string }) {
      const name = configMapName(input?.name);
      const { core } = await apis();
      const cm = await call(`read configmap ${ns}/${name}`, () =>
        core.readNamespacedConfigMap({ name, namespace: ns }),
      );
      return { name, data: cm.data ?? {}, resourceVersion: cm.metadata?.resourceVersion ?? '' };
    },

    /**
     * `kubectl apply -f` of a ConfigMap, as server-side apply: creates it or replaces the data we manage,
     * the same result however often it runs.
     */
    async applyConfigMap(input: { name: string; data: Record<string, string>; namespace?: string }) {
      const name = configMapName(input?.name);
      const data = requireData(input.data);
      const { core, patchAs } = await apis();
      let existed = true;
      await call(`read configmap ${ns}/${name}`, () => core.readNamespacedConfigMap({ name, namespace: ns })).catch(
        (err) => {
          if (!isNotFound(err)) throw err;
          existed = false;
        },
      );
      const applied = await call(`apply configmap ${ns}/${name}`, () =>
        core.patchNamespacedConfigMap(
          {
            name,
            namespace: ns,
            fieldManager: 'aiops-runbooks',
            force: true,
            body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data },
          },
          patchAs('apply'),
        ),
      );
      return { name, created: !existed, resourceVersion: applied.metadata?.resourceVersion ?? '' };
    },
  };
}
