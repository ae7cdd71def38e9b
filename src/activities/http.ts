/**
 * HTTP activities: the runbooks' `curl` steps against the AI service's own endpoints. The bearer token comes
 * from configuration inside the worker, so it never enters workflow inputs or history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../common/failures';
import { expectObject, requestJson } from './http-client';
import type { AppConfig } from '../config';
import type { HealthProbe, DailyMetrics, RecentErrors } from '../workflows/health/types';

export interface HttpDeps {
  wedsync: AppConfig['wedsync'];
}

/** A GET to the AI service with its token and timeout from configuration. */
export const wedsyncGet = (url: string, deps: HttpDeps, keepErrorBodies = false) =>
  requestJson(url, {
    bearerToken: deps.wedsync.apiToken,
    timeoutMs: deps.wedsync.timeoutMs,
    credentialsSetting: 'WEDSYNC_API_TOKEN',
    keepErrorBodies,
  });

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

export function createHttpActivities(deps: HttpDeps) {
  const configuredHealthUrls = new Set(deps.wedsync.healthUrls);
  return {
    /** The configured health endpoints (URLs only; the token stays in the worker). */
    async listHealthEndpoints(): Promise<string[]> {
      return [...deps.wedsync.healthUrls];
    },

    /** The seed's `curl /ai/health`: one probe of one configured endpoint. */
    async probeHealth(url: string): Promise<HealthProbe> {
      if (!configuredHealthUrls.has(url)) {
        // Only configured endpoints may be probed, so a workflow input cannot point the worker anywhere else.
        throw invalidInput('url', `"${url}" is not one of WEDSYNC_HEALTH_URLS`);
      }
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
    },

    /** The seed's `curl /ai/metrics/daily`: the 24-hour performance summary. */
    async fetchDailyMetrics(): Promise<DailyMetrics> {
      const doc = expectObject(deps.wedsync.metricsUrl, await wedsyncGet(deps.wedsync.metricsUrl, deps));
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
      const list = expectObject(deps.wedsync.errorsUrl, await wedsyncGet(deps.wedsync.errorsUrl, deps)).errors;
      if (!Array.isArray(list)) {
        throw ApplicationFailure.create({
          type: FailureType.BadUpstreamResponse,
          message: `GET ${deps.wedsync.errorsUrl}: expected {"errors": [...]}`,
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
  };
}
