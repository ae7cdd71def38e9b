/**
 * ScrollUniversity's own API (seed 000): the `curl http://localhost:3000/...` steps of its Common Issues and Emergency
 * Procedures. Every path is the seed's, under SCROLLUNIVERSITY_API_URL; the token comes from configuration inside the
 * worker, so it never enters workflow inputs or history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidInput } from '../contracts/failures';
import {
  THROTTLE_LEVELS,
  type BudgetStatus,
  type CacheStats,
  type GatewayMetrics,
  type ProviderStatus,
  type ScrollUniversityErrors,
  type SpendingBreakdown,
  type ThrottleLevel,
  type UsagePatterns,
} from '../contracts/scrolluniversity';
import type { ScrollUniversityConfig } from '../config';
import { expectObject, requestJson } from './http-client';

export interface ScrollUniversityDeps {
  scrollUniversity: ScrollUniversityConfig;
  wedsync: { timeoutMs: number };
  maintenance: { costAlertRatio: number };
}

/** seed 000's paths, relative to SCROLLUNIVERSITY_API_URL. */
export const SCROLLUNIVERSITY_PATHS = {
  health: '/health',
  gatewayMetrics: '/api/ai-monitoring/metrics/AIGatewayService',
  errors: '/api/ai-monitoring/errors',
  providers: '/api/ai-monitoring/providers/status',
  usage: '/api/ai-monitoring/usage',
  budget: '/api/cost-optimization/budget/status',
  throttle: '/api/cost-optimization/throttle',
  emergencyThrottle: '/api/cost-optimization/emergency-throttle',
  spending: '/api/cost-optimization/spending/breakdown',
  cacheStats: '/api/cost-optimization/cache/stats',
  cacheRebuild: '/api/cost-optimization/cache/rebuild',
} as const;

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function badAnswer(path: string, expected: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.BadUpstreamResponse,
    message: `ScrollUniversity ${path}: expected ${expected}`,
    nonRetryable: true,
  });
}

const records = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.map((v) => (v ?? {}) as Record<string, unknown>) : [];

export function createScrollUniversityActivities(deps: ScrollUniversityDeps) {
  const su = deps.scrollUniversity;
  const url = (path: string) => {
    if (!su.apiUrl) {
      throw invalidInput('SCROLLUNIVERSITY_API_URL', 'not set: the ScrollUniversity API is not configured');
    }
    return `${su.apiUrl.replace(/\/$/, '')}${path}`;
  };
  const options = {
    bearerToken: su.apiToken,
    timeoutMs: deps.wedsync.timeoutMs,
    credentialsSetting: 'SCROLLUNIVERSITY_API_TOKEN',
  };
  const get = async (path: string, keepErrorBodies = false) => {
    const res = await requestJson(url(path), { ...options, keepErrorBodies });
    return { doc: expectObject(url(path), res), status: res.status, latencyMs: res.latencyMs };
  };
  const post = async (path: string, body: unknown, idempotencyKey: string) =>
    expectObject(url(path), await requestJson(url(path), { ...options, method: 'POST', body, idempotencyKey }));

  return {
    /** The Kubernetes objects seed 000 acts on, as configured (names only). */
    async scrollUniversityTargets(): Promise<{ namespace: string; deployments: string[]; modelConfigMap: string }> {
      return { namespace: su.namespace, deployments: [...su.deployments], modelConfigMap: su.modelConfigMap };
    },

    /** `curl /health`: the gateway's own verdict and how long it took to answer. */
    async scrollUniversityHealth(): Promise<{ status: string; httpStatus: number; latencyMs: number }> {
      const { doc, status, latencyMs } = await get(SCROLLUNIVERSITY_PATHS.health, true);
      return {
        status: typeof doc.status === 'string' ? doc.status : status < 300 ? 'healthy' : 'unhealthy',
        httpStatus: status,
        latencyMs,
      };
    },

    /** `curl /api/ai-monitoring/metrics/AIGatewayService`: average and p95 response time, error rate. */
    async gatewayMetrics(): Promise<GatewayMetrics> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.gatewayMetrics);
      const avg = num(doc.avg_response_time_ms);
      const errorRate = num(doc.error_rate);
      if (avg === undefined || errorRate === undefined) {
        throw badAnswer(
          SCROLLUNIVERSITY_PATHS.gatewayMetrics,
          '{"avg_response_time_ms": number, "error_rate": number}',
        );
      }
      return {
        avgResponseMs: avg,
        p95ResponseMs: num(doc.p95_response_time_ms),
        errorRate,
        requests: num(doc.requests),
      };
    },

    /** `curl /api/ai-monitoring/errors`: the error rate and the most frequent errors. */
    async scrollUniversityErrors(): Promise<ScrollUniversityErrors> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.errors);
      const errorRate = num(doc.error_rate);
      if (errorRate === undefined) throw badAnswer(SCROLLUNIVERSITY_PATHS.errors, '{"error_rate": number}');
      return {
        errorRate,
        errors: records(doc.errors).map((e) => ({
          message: String(e.message ?? 'unknown error'),
          count: num(e.count) ?? 0,
        })),
      };
    },

    /** Issue 2's "Check OpenAI/Anthropic API status", as the gateway sees its providers. */
    async providerStatus(): Promise<ProviderStatus[]> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.providers);
      return records(doc.providers).map((p) => ({
        name: String(p.name ?? '?'),
        status: String(p.status ?? 'unknown'),
      }));
    },

    /** Issue 1's root-cause checks: request patterns, top token users, retry loops. */
    async usagePatterns(): Promise<UsagePatterns> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.usage);
      return {
        requestsPerMinute: num(doc.requests_per_minute) ?? 0,
        baselineRequestsPerMinute: num(doc.baseline_requests_per_minute) ?? 0,
        topTokenUsers: records(doc.top_token_users).map((u) => ({
          user: String(u.user ?? '?'),
          tokens: num(u.tokens) ?? 0,
        })),
        retryLoops: records(doc.retry_loops).map((r) => ({
          service: String(r.service ?? '?'),
          retries: num(r.retries) ?? 0,
        })),
      };
    },

    /** `curl /api/cost-optimization/budget/status`: spent against budget and the throttle in force. */
    async budgetStatus(): Promise<BudgetStatus> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.budget);
      const spent = num(doc.spent);
      const budget = num(doc.budget);
      if (spent === undefined || budget === undefined || budget <= 0) {
        throw badAnswer(SCROLLUNIVERSITY_PATHS.budget, '{"spent": number, "budget": number > 0}');
      }
      return {
        spent,
        budget,
        ratio: Number((spent / budget).toFixed(4)),
        anomaly: spent / budget > deps.maintenance.costAlertRatio,
        throttle: typeof doc.throttle === 'string' ? doc.throttle : 'off',
      };
    },

    /**
     * `curl -X POST /api/cost-optimization/throttle -d '{"enabled": true, "level": ...}'`. Setting a level is absolute
     * (the same request twice leaves the same level), and the Idempotency-Key lets the API drop a repeat: safe to retry.
     */
    async setCostThrottle(input: { level: ThrottleLevel; key: string }): Promise<{ level: ThrottleLevel }> {
      if (!THROTTLE_LEVELS.includes(input?.level))
        throw invalidInput('level', `must be one of ${THROTTLE_LEVELS.join(', ')}`);
      await post(SCROLLUNIVERSITY_PATHS.throttle, { enabled: true, level: input.level }, `${input.key}/throttle`);
      return { level: input.level };
    },

    /** Emergency Procedures, Budget Exceeded: `curl -X POST .../emergency-throttle`. On twice is on: safe to retry. */
    async emergencyThrottle(input: { key: string }): Promise<void> {
      await post(SCROLLUNIVERSITY_PATHS.emergencyThrottle, {}, `${input.key}/emergency-throttle`);
    },

    /** `curl /api/cost-optimization/spending/breakdown`: spend per service, largest first. */
    async spendingBreakdown(): Promise<SpendingBreakdown> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.spending);
      const services = records(doc.services)
        .map((s) => ({ service: String(s.service ?? '?'), spent: num(s.spent) ?? 0, tokens: num(s.tokens) ?? 0 }))
        .sort((a, b) => b.spent - a.spent);
      return { total: num(doc.total) ?? services.reduce((t, s) => t + s.spent, 0), services };
    },

    /** `curl /api/cost-optimization/cache/stats`: hit rate, TTL, evictions and memory. */
    async cacheStats(): Promise<CacheStats> {
      const { doc } = await get(SCROLLUNIVERSITY_PATHS.cacheStats);
      const hitRate = num(doc.hit_rate);
      if (hitRate === undefined) throw badAnswer(SCROLLUNIVERSITY_PATHS.cacheStats, '{"hit_rate": number}');
      return {
        hitRate,
        ttlSeconds: num(doc.ttl_seconds),
        evictedKeys: num(doc.evicted_keys),
        usedMemoryBytes: num(doc.used_memory_bytes),
        maxMemoryBytes: num(doc.max_memory_bytes),
      };
    },

    /** `curl -X POST /api/cost-optimization/cache/rebuild`: one rebuild per key; a repeat is dropped by the API. */
    async rebuildScrollUniversityCache(input: { key: string }): Promise<void> {
      await post(SCROLLUNIVERSITY_PATHS.cacheRebuild, {}, `${input.key}/cache-rebuild`);
    },
  };
}
