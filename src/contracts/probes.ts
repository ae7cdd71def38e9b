/** What the read-only probes (HTTP, PostgreSQL, Redis, S3, Kubernetes) report to the workflows. Types only. */

export interface HealthProbe {
  url: string;
  httpStatus: number;
  latencyMs: number;
  /** The endpoint's own verdict ("healthy", "degraded", ...). */
  status: string;
  /** Sub-system states the endpoint reports, e.g. optimization_engine: operational. */
  components: Record<string, string>;
  responseTimeMs?: number;
  accuracyRate?: number;
  availability?: number;
}

export interface DailyMetrics {
  responseTimeMs?: number;
  accuracyRate?: number;
  availability?: number;
  errorRate?: number;
  queueLength?: number;
  requests?: number;
}

export interface RecentErrors {
  errors: { message: string; count: number }[];
}

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  node?: string;
  podIp?: string;
}

export type PodListing =
  { configured: true; namespace: string; pods: PodSummary[] } | { configured: false; reason: string };

export interface DependencyProbe {
  name: 'database' | 'cache' | 'objectStore';
  ok: boolean;
  latencyMs: number;
  detail: Record<string, number | string | boolean>;
}

export interface PodUsage {
  pod: string;
  /** CPU in millicores and memory in bytes, summed over the pod's containers. */
  cpuMillicores: number;
  memoryBytes: number;
}

export type PodUsageReport =
  { available: true; namespace: string; pods: PodUsage[] } | { available: false; reason: string };

/** One check: what it found, or why it could not find it. Failures are data here, not exceptions. */
export type Check<T> =
  { state: 'ok'; result: T } | { state: 'failed'; error: string } | { state: 'skipped'; reason: string };

/** The AI service's external dependency, as seed 002 Issue 3 checks it (`curl https://api.openai.com/v1/models`). */
export type ProviderProbe =
  | { configured: false }
  | {
      configured: true;
      url: string;
      /** It answered (any status below 500, a 401 for want of a key included). */
      reachable: boolean;
      httpStatus?: number;
      latencyMs?: number;
      /** Models listed, where the answer is a model list. */
      models?: number;
      /** Why it is not reachable. */
      detail?: string;
    };
