/**
 * The retraining's A/B split (seed 002 "Configure A/B test"): the candidate model as a second Deployment beside a
 * configured one, a Service for it, and an NGINX canary Ingress that sends a weight of the main Ingress's traffic
 * to it (`nginx.ingress.kubernetes.io/canary: "true"`, `canary-weight`). The main Deployment and Ingress are never
 * changed here, so removing the three objects restores the split exactly.
 */
import type { V1Deployment, V1Ingress, V1Service } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { invalidInput } from '../../contracts/failures';
import { candidateName } from '../../contracts/retraining';
import {
  call,
  requireTarget,
  requireWholeNumber,
  statusCode,
  kubernetesFailure,
  type KubeApisGetter,
  type KubernetesDeps,
} from './client';

export const CANARY_ANNOTATION = 'nginx.ingress.kubernetes.io/canary';
export const CANARY_WEIGHT_ANNOTATION = 'nginx.ingress.kubernetes.io/canary-weight';
export const MODEL_VERSION_LABEL = 'aiops-runbooks/model-version';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'aiops-runbooks' };
const VERSION = /^[A-Za-z0-9._-]{1,63}$/;

export function createCanaryActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;
  const { targets } = deps;
  const base = (value: unknown) => requireTarget('deployment', value, targets.deployments, 'K8S_DEPLOYMENTS');
  const canaryIngress = () => `${targets.ingress}-candidate`;

  /** Creates the object, or replaces ours when it exists: a retry, or a run after one that was cut short. */
  async function createOrReplace<T extends { metadata?: { resourceVersion?: string } }>(
    what: string,
    create: () => Promise<T>,
    read: () => Promise<T>,
    replace: (existing: T) => Promise<T>,
  ): Promise<'created' | 'replaced'> {
    try {
      await create();
      return 'created';
    } catch (err) {
      if (statusCode(err) !== 409) throw kubernetesFailure(`create ${what}`, err);
    }
    const existing = await call(`read ${what}`, read);
    await call(`replace ${what}`, () => replace(existing));
    return 'replaced';
  }

  return {
    /**
     * The candidate Deployment `<deployment>-candidate`: the configured Deployment's pod template with the model
     * version and artifacts location in its environment, one replica, its own `app` label (so the main Service never
     * selects it), and a Service of the same name. Safe to retry: created, or replaced with the same content.
     */
    async deployCandidate(input: { deployment: string; version: string; artifactsUri: string }) {
      const main = base(input?.deployment);
      if (typeof input.version !== 'string' || !VERSION.test(input.version))
        throw invalidInput('version', 'must be a version label');
      if (typeof input.artifactsUri !== 'string' || !/^s3:\/\/[a-z0-9.-]+\/\S+$/.test(input.artifactsUri))
        throw invalidInput('artifactsUri', 'must be an s3:// location');
      const name = candidateName(main);
      const { apps, core } = await apis();
      const current = await call(`read deployment ${ns}/${main}`, () =>
        apps.readNamespacedDeployment({ name: main, namespace: ns }),
      );
      const labels = { app: name, [MODEL_VERSION_LABEL]: input.version, ...MANAGED_BY };
      const template = structuredClone(current.spec!.template);
      template.metadata = { labels, annotations: {} };
      for (const c of template.spec?.containers ?? []) {
        c.env = [
          ...(c.env ?? []).filter((e) => e.name !== 'MODEL_VERSION' && e.name !== 'MODEL_URI'),
          { name: 'MODEL_VERSION', value: input.version },
          { name: 'MODEL_URI', value: input.artifactsUri },
        ];
      }
      const deployment: V1Deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns, labels },
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template },
      };
      const port = targets.servicePort;
      const service: V1Service = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns, labels },
        spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort: port }] },
      };
      const deploymentWrite = await createOrReplace(
        `deployment ${ns}/${name}`,
        () => apps.createNamespacedDeployment({ namespace: ns, body: deployment, fieldManager: 'aiops-runbooks' }),
        () => apps.readNamespacedDeployment({ name, namespace: ns }),
        (existing) =>
          apps.replaceNamespacedDeployment({
            name,
            namespace: ns,
            body: {
              ...deployment,
              metadata: { ...deployment.metadata, resourceVersion: existing.metadata?.resourceVersion },
            },
            fieldManager: 'aiops-runbooks',
          }),
      );
      await createOrReplace(
        `service ${ns}/${name}`,
        () => core.createNamespacedService({ namespace: ns, body: service, fieldManager: 'aiops-runbooks' }),
        () => core.readNamespacedService({ name, namespace: ns }),
        (existing) =>
          core.replaceNamespacedService({
            name,
            namespace: ns,
            body: {
              ...service,
              metadata: { ...service.metadata, resourceVersion: existing.metadata?.resourceVersion },
              spec: { ...service.spec, clusterIP: existing.spec?.clusterIP },
            },
            fieldManager: 'aiops-runbooks',
          }),
      );
      return { deployment: name, service: name, [deploymentWrite]: true };
    },

    /**
     * The canary Ingress `<ingress>-candidate`: the main Ingress's rules pointed at the candidate's Service, with
     * the canary weight (0-100 % of requests). Setting a weight twice writes the same object: safe to retry.
     */
    async setCanaryWeight(input: { deployment: string; weight: number }) {
      const name = candidateName(base(input?.deployment));
      const weight = requireWholeNumber('weight', input.weight, 0, 100);
      const { networking } = await apis();
      const main = await call(`read ingress ${ns}/${targets.ingress}`, () =>
        networking.readNamespacedIngress({ name: targets.ingress, namespace: ns }),
      );
      const rules = structuredClone(main.spec?.rules ?? []);
      for (const rule of rules) {
        for (const path of rule.http?.paths ?? []) {
          path.backend = { service: { name, port: { number: targets.servicePort } } };
        }
      }
      const canary: V1Ingress = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: canaryIngress(),
          namespace: ns,
          labels: { ...MANAGED_BY },
          annotations: { [CANARY_ANNOTATION]: 'true', [CANARY_WEIGHT_ANNOTATION]: String(weight) },
        },
        spec: { ingressClassName: main.spec?.ingressClassName, rules, tls: main.spec?.tls },
      };
      await createOrReplace(
        `ingress ${ns}/${canaryIngress()}`,
        () => networking.createNamespacedIngress({ namespace: ns, body: canary, fieldManager: 'aiops-runbooks' }),
        () => networking.readNamespacedIngress({ name: canaryIngress(), namespace: ns }),
        (existing) =>
          networking.replaceNamespacedIngress({
            name: canaryIngress(),
            namespace: ns,
            body: { ...canary, metadata: { ...canary.metadata, resourceVersion: existing.metadata?.resourceVersion } },
            fieldManager: 'aiops-runbooks',
          }),
      );
      return { ingress: canaryIngress(), service: name, weight };
    },

    /**
     * Removes the canary Ingress first (traffic goes back to the main Deployment at once), then the candidate's
     * Service and Deployment. Safe to retry and to call when nothing was created: what is gone is not an error.
     */
    async removeCandidate(input: { deployment: string }) {
      const name = candidateName(base(input?.deployment));
      const { apps, core, networking } = await apis();
      const removed: string[] = [];
      const remove = async (what: string, del: () => Promise<unknown>) => {
        try {
          await del();
          removed.push(what);
        } catch (err) {
          if (statusCode(err) !== 404) throw kubernetesFailure(`delete ${what}`, err);
        }
      };
      await remove(`ingress/${canaryIngress()}`, () =>
        networking.deleteNamespacedIngress({ name: canaryIngress(), namespace: ns }),
      );
      await remove(`service/${name}`, () => core.deleteNamespacedService({ name, namespace: ns }));
      await remove(`deployment/${name}`, () =>
        apps.deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: 'Background' }),
      );
      return { removed };
    },
  };
}
