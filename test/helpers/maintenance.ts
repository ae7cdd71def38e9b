/**
 * Shared setting for the maintenance tests: a PostgreSQL database and a Redis DB index of their own, so that
 * counting rows and keys is exact even while other suites use the same servers.
 */
import { Pool } from 'pg';
import { loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';

/** Redis DB indexes no other suite uses: one per test file, since node --test runs files in parallel. */
export const REDIS_DB = { purge: 13, crash: 14 } as const;

export function redisUrlFor(db: number): string {
  const url = new URL(loadConfig().redis.url);
  url.pathname = `/${db}`;
  return url.toString();
}

/** Creates (idempotently) and migrates a database of the given name; returns its application URL. */
export async function maintenanceDatabase(name: string): Promise<string> {
  const appUrl = new URL(process.env.DATABASE_URL ?? loadConfig().postgres.url);
  appUrl.pathname = `/${name}`;
  const adminUrl = localPostgresAdminUrl();
  // Parallel test files bootstrap at once and may collide on ALTER ROLE ("tuple concurrently updated").
  for (let attempt = 1; ; attempt++) {
    try {
      await bootstrapDatabase({ adminUrl, appUrl: appUrl.toString() });
      return appUrl.toString();
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
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
