/** Pods: `kubectl get pods`, `kubectl logs --tail`, `kubectl top pods`. */
import { invalidInput } from '../../contracts/failures';
import type { PodListing, PodSummary, PodUsageReport } from '../../contracts/probes';
import {
  call,
  kubernetesFailure,
  NO_CLUSTER,
  requireDnsLabel,
  requireObjectName,
  requireWholeNumber,
  statusCode,
  type KubeApisGetter,
  type KubernetesDeps,
} from './client';

const SELECTOR =
  /^[A-Za-z0-9._\/-]+(\s*(=|==|!=)\s*[A-Za-z0-9._-]*)?(\s*,\s*[A-Za-z0-9._\/-]+(\s*(=|==|!=)\s*[A-Za-z0-9._-]*)?)*$/;

function requireSelector(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !SELECTOR.test(value)) {
    throw invalidInput(
      'labelSelector',
      `${JSON.stringify(value)} is not a label selector such as app=ai-optimization-engine`,
    );
  }
  return value;
}

/** Kubernetes quantities as the metrics API reports them: "250m", "1", "12345n" cores; "64Mi", "1Gi", "1000k" bytes. */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const value = Number(m[1]);
  const factor: Record<string, number> = {
    '': 1,
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return m[2] in factor ? value * factor[m[2]] : NaN;
}

export function createPodActivities(deps: KubernetesDeps, apis: KubeApisGetter) {
  const ns = deps.aiNamespace;
  const aiNamespace = ns;

  return {
    /** `kubectl get pods -n <namespace> -o wide [-l selector]`. */
    async listPods(input: { namespace?: string; labelSelector?: string } = {}): Promise<PodListing> {
      const namespace = requireDnsLabel('namespace', input.namespace ?? ns);
      const labelSelector = requireSelector(input.labelSelector);
      if (!deps.kubeConfig) return { configured: false, reason: NO_CLUSTER };
      const { core } = await apis();
      const list = await call(`list pods in ${namespace}`, () => core.listNamespacedPod({ namespace, labelSelector }));
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

    /** `kubectl logs <pod> [-c container] --tail=N`. */
    async podLogs(input: {
      pod: string;
      tailLines?: number;
      container?: string;
      /** Like listPods': a read, so any namespace; absent, the AI namespace. */
      namespace?: string;
    }): Promise<{ pod: string; lines: string[] }> {
      const name = requireObjectName('pod', input?.pod);
      const ns = input.namespace === undefined ? aiNamespace : requireDnsLabel('namespace', input.namespace);
      const tailLines = requireWholeNumber('tailLines', input.tailLines ?? 100, 1, 10_000);
      const container = input.container === undefined ? undefined : requireDnsLabel('container', input.container);
      const { core } = await apis();
      const text = await call(`read logs of pod ${ns}/${name}`, () =>
        core.readNamespacedPodLog({ name, namespace: ns, container, tailLines }),
      );
      const lines = String(text ?? '').split('\n');
      if (lines.at(-1) === '') lines.pop();
      return { pod: name, lines };
    },

    /** `kubectl top pods`: usage from the metrics API, or a plain "unavailable" where no metrics server runs. */
    async podUsage(input: { labelSelector?: string } = {}): Promise<PodUsageReport> {
      const labelSelector = requireSelector(input.labelSelector);
      const { custom } = await apis();
      let list: { items?: { metadata?: { name?: string }; containers?: { usage?: Record<string, string> }[] }[] };
      try {
        list = await custom.listNamespacedCustomObject({
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          namespace: ns,
          plural: 'pods',
          labelSelector,
        });
      } catch (err) {
        // 404: the API group is not served at all; 503: registered, but its server (metrics-server) is down.
        const code = statusCode(err);
        if (code === 404 || code === 503) {
          return {
            available: false,
            reason: `metrics API unavailable (metrics.k8s.io/v1beta1 answered HTTP ${code}; is metrics-server installed?)`,
          };
        }
        throw kubernetesFailure(`read pod metrics in ${ns}`, err);
      }
      return {
        available: true,
        namespace: ns,
        pods: (list.items ?? []).map((item) => {
          const containers = item.containers ?? [];
          return {
            pod: item.metadata?.name ?? '',
            cpuMillicores: Math.round(containers.reduce((s, c) => s + parseQuantity(c.usage?.cpu ?? '0'), 0) * 1000),
            memoryBytes: Math.round(containers.reduce((s, c) => s + parseQuantity(c.usage?.memory ?? '0'), 0)),
          };
        }),
      };
    },
  };
}
