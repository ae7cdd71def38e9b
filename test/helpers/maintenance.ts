/**
 * Shared setting for the maintenance tests: a Redis DB index per test file, the WedSync endpoints the maintenance
 * runbooks read, and the optimisation rows the retention delete works on.
 */
import { Pool } from 'pg';
import { loadConfig } from '../../src/config';
import type { HttpReceiver } from './http-receiver';

/** Redis DB indexes, one per test file that writes keys: node --test runs files in parallel. */
export const REDIS_DB = {
  sundayWindow: 11,
  week: 12,
  purge: 13,
  crash: 14,
  cli: 15,
  chaos: 10,
  wedsyncSlow: 9,
  chaosChild: 8,
} as const;

export function redisUrlFor(db: number): string {
  const url = new URL(loadConfig().redis.url);
  url.pathname = `/${db}`;
  return url.toString();
}

export interface OptimizationFixture {
  /** Rows the retention rule deletes: completed and created more than 90 days ago. */
  eligible: number;
  total: number;
}

/**
 * Replaces wedding_optimizations with `rows` rows: ids in creation order, ages 0-200 days, statuses mixed, none
 * within an hour of the 90-day line (so the test and the activity cannot disagree about a row).
 */
export async function loadOptimizations(pool: Pool, rows: number): Promise<OptimizationFixture> {
  await pool.query('DELETE FROM wedding_optimizations');
  await pool.query(
    `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score, created_at)
     SELECT 'w-' || g, DATE '2026-06-01',
            (ARRAY['completed', 'completed', 'pending', 'active', 'failed'])[1 + g % 5],
            0.9,
            now() - make_interval(days => 200 - (g::bigint * 200 / $1)::int, hours => 1)
       FROM generate_series(1, $1::int) g`,
    [rows],
  );
  return countOptimizations(pool);
}

export async function countOptimizations(pool: Pool): Promise<OptimizationFixture> {
  const { rows } = await pool.query<{ eligible: string; total: string }>(
    `SELECT count(*) FILTER (WHERE status = 'completed' AND created_at < now() - interval '90 days') AS eligible,
            count(*) AS total
       FROM wedding_optimizations`,
  );
  return { eligible: Number(rows[0].eligible), total: Number(rows[0].total) };
}

export const DAILY_METRICS = {
  requests: 1200,
  response_time_ms: 800,
  accuracy_rate: 0.91,
  availability: 0.9995,
  error_rate: 0.002,
  queue_length: 3,
};

/** The WedSync endpoints the maintenance runbooks read, served by the suite's receiver, and the file's own stores. */
export function maintenanceSettings(
  r: HttpReceiver,
  stores: { databaseUrl: string; redisDb: number },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  r.route('/ai/metrics/daily', { status: 200, body: DAILY_METRICS });
  r.route('/api/cost-optimization/budget/status', { status: 200, body: { spent: 300, budget: 1000 } });
  return {
    WEDSYNC_METRICS_URL: r.url('/ai/metrics/daily'),
    COST_STATUS_URL: r.url('/api/cost-optimization/budget/status'),
    CACHE_WARMUP_URLS: r.url('/ai/metrics/daily'),
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL: redisUrlFor(stores.redisDb),
    ...extra,
  };
}
