/**
 * Kubernetes activities (the runbooks' `kubectl` steps). @kubernetes/client-node is ESM-only, so it is
 * loaded with a dynamic import and stays out of the workflow bundle.
 */
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../common/failures';
import type { AppConfig } from '../config';
import type { PodListing, PodSummary } from '../workflows/health/types';

export interface KubernetesDeps {
  /** Null when no cluster is configured: activities then say so instead of failing. */
  kubeConfig: KubeConfig | null;
  aiNamespace: string;
}

/** Builds a KubeConfig from configuration, or null when neither KUBECONFIG nor in-cluster config is set. */
export async function loadKubeConfig(cfg: AppConfig['kubernetes']): Promise<KubeConfig | null> {
  if (!cfg.kubeconfig && !cfg.inCluster) return null;
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (cfg.inCluster) kc.loadFromCluster();
  else kc.loadFromFile(cfg.kubeconfig!);
  return kc;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; response?: { statusCode?: number } };
  return e.code ?? e.statusCode ?? e.response?.statusCode;
}

/** Maps API errors to our failure types: 401/403/404/422 are not helped by retrying. */
export function kubernetesFailure(action: string, err: unknown): ApplicationFailure {
  const code = statusCode(err);
  const message = `${action}: ${(err as Error).message ?? String(err)}`;
  if (code === 401 || code === 403) {
    return ApplicationFailure.create({ type: FailureType.NotAuthorized, message, nonRetryable: true });
  }
  if (code === 404) return ApplicationFailure.create({ type: FailureType.TargetNotFound, message, nonRetryable: true });
  if (code === 400 || code === 422) {
    return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: FailureType.UpstreamUnavailable, message });
}

export function createKubernetesActivities(deps: KubernetesDeps) {
  let core: Promise<CoreV1Api> | undefined;
  const coreApi = () => {
    core ??= import('@kubernetes/client-node').then((k8s) => deps.kubeConfig!.makeApiClient(k8s.CoreV1Api));
    return core;
  };

  return {
    /** `kubectl get pods -n <namespace> -o wide`. */
    async listPods(input: { namespace?: string; labelSelector?: string } = {}): Promise<PodListing> {
      const namespace = input.namespace ?? deps.aiNamespace;
      if (!DNS_LABEL.test(namespace)) throw invalidInput('namespace', `"${namespace}" is not a valid namespace name`);
      if (!deps.kubeConfig) {
        return { configured: false, reason: 'no Kubernetes cluster configured (set KUBECONFIG or K8S_IN_CLUSTER=true)' };
      }
      const api = await coreApi();
      let list;
      try {
        list = await api.listNamespacedPod({ namespace, labelSelector: input.labelSelector });
      } catch (err) {
        throw kubernetesFailure(`list pods in ${namespace}`, err);
      }
      const pods: PodSummary[] = list.items.map((pod) => {
        const statuses = pod.status?.containerStatuses ?? [];
        return {
          name: pod.metadata?.name ?? '',
          phase: pod.status?.phase ?? 'Unknown',
          ready: statuses.length > 0 && statuses.every((s) => s.ready),
          restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
          node: pod.spec?.nodeName,
          podIp: pod.status?.podIP,
        };
      });
      return { configured: true, namespace, pods };
    },
  };
}
