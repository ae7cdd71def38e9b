/**
 * Failover of the AI ingress (seed 002, Manual Failover): point its paths at the backup service and back.
 * The seed's `kubectl patch` uses the retired extensions/v1beta1 fields (serviceName/servicePort), which
 * networking.k8s.io/v1 rejects; this writes `backend.service.{name,port.number}`.
 */
import type { V1Ingress } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';
import { call, requireTarget, requireWholeNumber, type KubeApisGetter, type KubernetesDeps } from './client';

/** Where the ingress pointed before our last switch, so a retry or a failback knows the way home. */
export const PREVIOUS_BACKEND_ANNOTATION = 'aiops-runbooks/previous-backend';

export interface IngressBackend {
  service: string;
  port: number;
}

function backendsOf(ing: V1Ingress): IngressBackend[] {
  const out: IngressBackend[] = [];
  for (const rule of ing.spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) {
      const svc = path.backend?.service;
      if (svc?.name) out.push({ service: svc.name, port: svc.port?.number ?? 0 });
    }
  }
  if (ing.spec?.defaultBackend?.service?.name) {
    out.push({
      service: ing.spec.defaultBackend.service.name,
      port: ing.spec.defaultBackend.service.port?.number ?? 0,
    });
  }
  return out;
}

function parseBackend(value: string | undefined): IngressBackend | undefined {
  const m = /^([a-z0-9-]+):(\d+)$/.exec(value ?? '');
  return m ? { service: m[1], port: Number(m[2]) } : undefined;
}

export function createIngressActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;
  const { targets } = deps;

  return {
    /**
     * `kubectl patch ingress <ingress>` to another backend service: every path (and the default backend)
     * of the ingress. Returns the backend it had before, for the failback. Written with the resourceVersion
     * read, so a concurrent edit makes the server refuse (409, retried) rather than being overwritten.
     */
    async patchIngressBackend(input: { ingress?: string; service: string; port?: number }) {
      const name = requireTarget('ingress', input?.ingress ?? targets.ingress, [targets.ingress], 'K8S_INGRESS');
      const service = requireTarget(
        'service',
        input.service,
        [targets.primaryService, targets.backupService],
        'K8S_PRIMARY_SERVICE/K8S_BACKUP_SERVICE',
      );
      const port = requireWholeNumber('port', input.port ?? targets.servicePort, 1, 65535);
      const { networking } = await apis();
      const ing = await call(`read ingress ${ns}/${name}`, () =>
        networking.readNamespacedIngress({ name, namespace: ns }),
      );
      const current = backendsOf(ing);
      if (current.length === 0) {
        throw ApplicationFailure.create({
          type: FailureType.TargetNotFound,
          message: `ingress ${ns}/${name} has no service backends to switch`,
          nonRetryable: true,
        });
      }
      const annotations = ing.metadata?.annotations ?? {};
      const already = current.every((b) => b.service === service && b.port === port);
      if (already) {
        // Nothing to write: a retry after success, or a switch to where it already points.
        const previous = parseBackend(annotations[PREVIOUS_BACKEND_ANNOTATION]) ?? current[0];
        return { ingress: name, previous, current: { service, port }, changed: false };
      }
      const previous = current.find((b) => b.service !== service || b.port !== port)!;
      const updated = structuredClone(ing);
      for (const rule of updated.spec?.rules ?? []) {
        for (const path of rule.http?.paths ?? []) {
          if (path.backend?.service) path.backend.service = { name: service, port: { number: port } };
        }
      }
      if (updated.spec?.defaultBackend?.service)
        updated.spec.defaultBackend.service = { name: service, port: { number: port } };
      updated.metadata = {
        ...updated.metadata,
        annotations: { ...annotations, [PREVIOUS_BACKEND_ANNOTATION]: `${previous.service}:${previous.port}` },
      };
      await call(`switch ingress ${ns}/${name} to ${service}:${port}`, () =>
        networking.replaceNamespacedIngress({ name, namespace: ns, body: updated, fieldManager: 'aiops-runbooks' }),
      );
      return { ingress: name, previous, current: { service, port }, changed: true };
    },
  };
}
