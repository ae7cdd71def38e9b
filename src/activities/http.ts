/**
 * HTTP activities: the runbooks' `curl` steps against the AI service's own endpoints (health, metrics, errors,
 * the cost dashboard, cache warm-up, and the crisis protocol's POSTs). The bearer token comes from configuration
 * inside the worker, so it never enters workflow inputs or history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CRISIS_ACTIONS, checkCrisisKey, type CrisisAction } from '../contracts/crisis';
import { FailureType, invalidInput } from '../contracts/failures';
import type { CostStatus } from '../contracts/settings';
import type { DailyMetrics, HealthProbe, RecentErrors } from '../contracts/probes';
import { expectObject, requestJson } from './http-client';
import type { AppConfig, MaintenanceConfig } from '../config';

export interface HttpDeps {
  wedsync: AppConfig['wedsync'];
  maintenance: MaintenanceConfig;
}

/** A GET to the AI service with its token and timeout from configuration. */
export const wedsyncGet = (url: string, deps: HttpDeps, keepErrorBodies = false) =>
  requestJson(url, {
    bearerToken: deps.wedsync.apiToken,
    timeoutMs: deps.wedsync.timeoutMs,
    credentialsSetting: 'WEDSYNC_API_TOKEN',
    keepErrorBodies,
  });

/**
 * A POST to the AI service. The Idempotency-Key is fixed per crisis and step, so a receiver that honours it drops
 * the repeat of a retried call.
 */
export const wedsyncPost = (url: string, deps: HttpDeps, body: unknown, idempotencyKey: string) =>
  requestJson(url, {
    method: 'POST',
    body,
    idempotencyKey,
    bearerToken: deps.wedsync.apiToken,
    timeoutMs: deps.wedsync.timeoutMs,
    credentialsSetting: 'WEDSYNC_API_TOKEN',
  });

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** One GET of a health endpoint, read the way every runbook reads `/ai/health`. */
export async function probeHealthAt(url: string, deps: HttpDeps): Promise<HealthProbe> {
  const res = await wedsyncGet(url, deps, true);
  const { status, latencyMs } = res;
  const doc = expectObject(url, res);
  return {
    url,
    httpStatus: status,
    latencyMs,
    status: typeof doc.status === 'string' ? doc.status : status < 300 ? 'healthy' : 'unhealthy',
    components: Object.fromEntries(
      Object.entries(doc).filter(([k, v]) => typeof v === 'string' && k !== 'status'),
    ) as Record<string, string>,
    responseTimeMs: num(doc.response_time_ms),
    accuracyRate: num(doc.accuracy_rate),
    availability: num(doc.availability),
  };
}

export function createHttpActivities(deps: HttpDeps) {
  const { wedsync, maintenance } = deps;
  const configuredHealthUrls = new Set(wedsync.healthUrls);
  const actionUrls: Record<CrisisAction, string> = {
    'emergency-planners': wedsync.crisis.emergencyPlannersUrl,
    'vendor-network': wedsync.crisis.vendorNetworkUrl,
    'executive-escalation': wedsync.crisis.executiveEscalationUrl,
    'crisis-communication': wedsync.crisis.crisisCommsUrl,
  };
  return {
    /** The configured health endpoints (URLs only; the token stays in the worker). */
    async listHealthEndpoints(): Promise<string[]> {
      return [...wedsync.healthUrls];
    },

    /** The seed's `curl /ai/health`: one probe of one configured endpoint. */
    async probeHealth(url: string): Promise<HealthProbe> {
      if (!configuredHealthUrls.has(url)) {
        // Only configured endpoints may be probed, so a workflow input cannot point the worker anywhere else.
        throw invalidInput('url', `"${url}" is not one of WEDSYNC_HEALTH_URLS`);
      }
      return probeHealthAt(url, deps);
    },

    /** The seed's `curl /ai/metrics/daily`: the 24-hour performance summary. */
    async fetchDailyMetrics(): Promise<DailyMetrics> {
      const doc = expectObject(wedsync.metricsUrl, await wedsyncGet(wedsync.metricsUrl, deps));
      return {
        responseTimeMs: num(doc.response_time_ms ?? doc.avg_response_time_ms),
        accuracyRate: num(doc.accuracy_rate),
        availability: num(doc.availability),
        errorRate: num(doc.error_rate),
        queueLength: num(doc.queue_length),
        requests: num(doc.requests),
      };
    },

    /** The seed's `curl /ai/errors/recent | jq '.errors[] | select(.count > 10)'`, keeping every error and its count. */
    async fetchRecentErrors(): Promise<RecentErrors> {
      const list = expectObject(wedsync.errorsUrl, await wedsyncGet(wedsync.errorsUrl, deps)).errors;
      if (!Array.isArray(list)) {
        throw ApplicationFailure.create({
          type: FailureType.BadUpstreamResponse,
          message: `GET ${wedsync.errorsUrl}: expected {"errors": [...]}`,
          nonRetryable: true,
        });
      }
      return {
        errors: list.map((entry) => {
          const e = (entry ?? {}) as Record<string, unknown>;
          return {
            message: String(e.message ?? e.type ?? e.error ?? 'unknown error'),
            count: num(e.count) ?? 0,
          };
        }),
      };
    },

    /** One warm-up call (seed 002 `./scripts/warm-caches.sh`): a GET that makes the service fill its cache. */
    async warmCache(url: string): Promise<{ url: string; status: number; durationMs: number }> {
      if (!maintenance.warmupUrls.includes(url)) throw invalidInput('url', 'is not one of CACHE_WARMUP_URLS');
      const started = performance.now();
      const res = await wedsyncGet(url, deps);
      return { url, status: res.status, durationMs: Math.round(performance.now() - started) };
    },

    /** The cost dashboard (seed 000 Issue 1's `curl .../budget/status`): spent against budget, an anomaly above COST_ALERT_RATIO of it. */
    async fetchCostStatus(): Promise<CostStatus> {
      const doc = expectObject(maintenance.costStatusUrl, await wedsyncGet(maintenance.costStatusUrl, deps));
      const spent = Number(doc.spent ?? doc.current_spend);
      const budget = Number(doc.budget ?? doc.monthly_budget);
      if (!Number.isFinite(spent) || !Number.isFinite(budget) || budget <= 0) {
        throw ApplicationFailure.create({
          type: FailureType.BadUpstreamResponse,
          message: `GET ${maintenance.costStatusUrl}: expected {"spent": number, "budget": number > 0}`,
          nonRetryable: true,
        });
      }
      const ratio = Number((spent / budget).toFixed(4));
      return { spent, budget, ratio, anomaly: ratio > maintenance.costAlertRatio };
    },

    /** seed 002 Issue 4, step 1: `curl -X POST .../emergency -d '{"type": "ai_crisis_failure", "severity": "critical"}'`, with the crisis named. */
    async sendEmergencyAlert(req: {
      crisisKey: string;
      weddingId?: string;
      crisisType?: string;
      failure?: string;
    }): Promise<void> {
      const key = checkCrisisKey(req.crisisKey);
      await wedsyncPost(
        wedsync.crisis.emergencyAlertUrl,
        deps,
        {
          type: 'ai_crisis_failure',
          severity: 'critical',
          wedding_id: req.weddingId,
          crisis_type: req.crisisType,
          failure: req.failure,
          scope: req.failure ? (req.weddingId ? 'wedding' : 'platform') : undefined,
          crisis_key: key,
        },
        `${key}/emergency-alert`,
      );
    },

    /** seed 002 Issue 4, step 2: `curl -X POST .../crisis/manual-mode/enable`: enabling twice leaves it enabled, so retrying is safe. */
    async enableManualCrisisMode(req: { crisisKey: string }): Promise<void> {
      const key = checkCrisisKey(req.crisisKey);
      await wedsyncPost(wedsync.crisis.manualModeUrl, deps, { crisis_key: key }, `${key}/manual-mode`);
    },

    /** seed 002 Issue 4, Follow-up Actions (5-30 minutes): each calls its configured endpoint once per crisis. */
    async startCrisisAction(req: { crisisKey: string; action: CrisisAction; weddingId?: string }): Promise<void> {
      const key = checkCrisisKey(req.crisisKey);
      const url = actionUrls[req.action];
      if (!url) throw invalidInput('action', `must be one of ${CRISIS_ACTIONS.join(', ')}`);
      await wedsyncPost(
        url,
        deps,
        { crisis_key: key, wedding_id: req.weddingId, action: req.action },
        `${key}/${req.action}`,
      );
    },
  };
}
