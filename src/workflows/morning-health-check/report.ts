/** Turns the raw check results into the morning report's verdict. Pure code: used inside workflows. */
import { isHealthyState } from '../../contracts/health';
import { evaluateKpi, type KpiName, type KpiResult } from '../../contracts/kpi';
import type {
  Check,
  DailyMetrics,
  DependencyProbe,
  HealthProbe,
  PodListing,
  RecentErrors,
} from '../../contracts/probes';

/** The seed's `select(.count > 10)`. */
export const ERROR_COUNT_FLAG_THRESHOLD = 10;

export type OverallStatus = 'healthy' | 'degraded' | 'down';

export interface HealthCheckChecks {
  health: { url: string; check: Check<HealthProbe> }[];
  metrics: Check<DailyMetrics>;
  errors: Check<RecentErrors>;
  pods: Check<PodListing>;
  dependencies: Check<DependencyProbe>[];
}

export interface HealthCheckReport {
  status: OverallStatus;
  /** Why the status is not healthy, one line per finding, for people. */
  findings: string[];
  kpis: KpiResult[];
  flaggedErrors: { message: string; count: number }[];
  checks: HealthCheckChecks;
  startedAt: string;
  finishedAt: string;
}

/** First defined value: the daily summary is preferred, the live health probe fills gaps. */
function pick(name: KpiName, metrics: DailyMetrics | undefined, probes: HealthProbe[]): number | undefined {
  const fromMetrics = metrics?.[name as keyof DailyMetrics];
  if (fromMetrics !== undefined) return fromMetrics;
  for (const p of probes) {
    const v = p[name as keyof HealthProbe];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

export function buildReport(
  checks: HealthCheckChecks,
  times: { startedAt: string; finishedAt: string },
): HealthCheckReport {
  const findings: string[] = [];
  const probes = checks.health.flatMap((h) => (h.check.state === 'ok' ? [h.check.result] : []));

  for (const h of checks.health) {
    if (h.check.state === 'failed') findings.push(`health endpoint ${h.url} failed: ${h.check.error}`);
    if (h.check.state === 'ok' && !isHealthyState(h.check.result.status)) {
      findings.push(`health endpoint ${h.url} reports "${h.check.result.status}"`);
    }
    if (h.check.state === 'ok') {
      for (const [component, state] of Object.entries(h.check.result.components)) {
        if (!isHealthyState(state)) findings.push(`${component} is "${state}" at ${h.url}`);
      }
    }
  }

  const metrics = checks.metrics.state === 'ok' ? checks.metrics.result : undefined;
  const kpis = (['responseTimeMs', 'accuracyRate', 'availability', 'errorRate', 'queueLength'] as KpiName[]).map(
    (name) => evaluateKpi(name, pick(name, metrics, probes)),
  );
  for (const k of kpis) {
    if (k.level === 'warning' || k.level === 'alert') {
      findings.push(
        `${k.name} ${k.value} is past its ${k.level === 'alert' ? 'alert threshold' : 'target'} (${k.level === 'alert' ? k.alert : k.target})`,
      );
    }
  }

  if (checks.metrics.state === 'failed') findings.push(`daily metrics unavailable: ${checks.metrics.error}`);
  if (checks.errors.state === 'failed') findings.push(`recent errors unavailable: ${checks.errors.error}`);
  const flaggedErrors =
    checks.errors.state === 'ok' ? checks.errors.result.errors.filter((e) => e.count > ERROR_COUNT_FLAG_THRESHOLD) : [];
  for (const e of flaggedErrors) findings.push(`error "${e.message}" occurred ${e.count} times`);

  if (checks.pods.state === 'failed') findings.push(`pod listing failed: ${checks.pods.error}`);
  if (checks.pods.state === 'ok' && checks.pods.result.configured) {
    for (const pod of checks.pods.result.pods) {
      if (pod.phase !== 'Running' && pod.phase !== 'Succeeded') findings.push(`pod ${pod.name} is ${pod.phase}`);
      else if (pod.phase === 'Running' && !pod.ready) findings.push(`pod ${pod.name} is not ready`);
    }
  }

  for (const d of checks.dependencies) {
    if (d.state === 'failed') findings.push(`dependency check failed: ${d.error}`);
    if (d.state === 'ok' && !d.result.ok)
      findings.push(`${d.result.name} is not fully available: ${JSON.stringify(d.result.detail)}`);
  }

  const anyEndpointAnswered = probes.length > 0;
  const status: OverallStatus = !anyEndpointAnswered ? 'down' : findings.length > 0 ? 'degraded' : 'healthy';
  if (!anyEndpointAnswered) findings.unshift('no health endpoint answered');
  return { status, findings, kpis, flaggedErrors, checks, ...times };
}
