/** Shapes shared by the health-check workflows, their activities and their callers. Types only. */

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
  | { configured: true; namespace: string; pods: PodSummary[] }
  | { configured: false; reason: string };

export interface DependencyProbe {
  name: 'database' | 'cache' | 'objectStore';
  ok: boolean;
  latencyMs: number;
  detail: Record<string, number | string | boolean>;
}
