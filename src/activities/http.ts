/**
 * HTTP activities: the runbooks' `curl` steps against the AI service's own endpoints. The bearer token comes
 * from configuration inside the worker, so it never enters workflow inputs or history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../common/failures';
import type { AppConfig } from '../config';
import type { HealthProbe, DailyMetrics, RecentErrors } from '../workflows/health/types';

export interface HttpDeps {
  wedsync: AppConfig['wedsync'];
}

interface JsonResponse {
  status: number;
  latencyMs: number;
  body: unknown;
}

/** GET a JSON document; HTTP and network failures become typed failures so the retry policy can tell them apart. */
async function getJson(url: string, deps: HttpDeps): Promise<JsonResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (deps.wedsync.apiToken) headers.authorization = `Bearer ${deps.wedsync.apiToken}`;
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(deps.wedsync.timeoutMs) });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    throw ApplicationFailure.create({
      type: FailureType.UpstreamUnavailable,
      message: `GET ${url} failed: ${cause?.message ?? (err as Error).message}`,
    });
  }
  const latencyMs = Math.round(performance.now() - started);
  const text = await response.text();
  if (response.status === 401 || response.status === 403) {
    throw ApplicationFailure.create({
      type: FailureType.NotAuthorized,
      message: `GET ${url} answered ${response.status}: check WEDSYNC_API_TOKEN`,
      nonRetryable: true,
    });
  }
  if (response.status === 404) {
    throw ApplicationFailure.create({
      type: FailureType.TargetNotFound,
      message: `GET ${url} answered 404`,
      nonRetryable: true,
    });
  }
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A non-JSON body is reported below together with the status.
  }
  if (response.status >= 500 || response.status === 429) {
    // Health endpoints answer 503 with a JSON body when unhealthy; keep it so the report can show why.
    if (body !== undefined) return { status: response.status, latencyMs, body };
    throw ApplicationFailure.create({
      type: FailureType.UpstreamUnavailable,
      message: `GET ${url} answered ${response.status}`,
    });
  }
  if (body === undefined || typeof body !== 'object' || body === null) {
    throw ApplicationFailure.create({
      type: FailureType.BadUpstreamResponse,
      message: `GET ${url} answered ${response.status} without a JSON object`,
      nonRetryable: true,
    });
  }
  return { status: response.status, latencyMs, body };
}

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
      const { status, latencyMs, body } = await getJson(url, deps);
      const doc = (body ?? {}) as Record<string, unknown>;
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
      const { body, status } = await getJson(deps.wedsync.metricsUrl, deps);
      if (status >= 300) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `GET ${deps.wedsync.metricsUrl} answered ${status}`,
        });
      }
      const doc = body as Record<string, unknown>;
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
      const { body, status } = await getJson(deps.wedsync.errorsUrl, deps);
      if (status >= 300) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `GET ${deps.wedsync.errorsUrl} answered ${status}`,
        });
      }
      const list = (body as Record<string, unknown>).errors;
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
