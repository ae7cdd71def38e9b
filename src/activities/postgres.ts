/** PostgreSQL activities (the runbooks' `psql` steps). Every statement is parameterised. */
import type { Pool } from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/failures';
import type { DependencyProbe } from '../workflows/health/types';

export interface PostgresDeps {
  pool: Pool;
}

export function createPostgresActivities({ pool }: PostgresDeps) {
  return {
    /** seed 000 "Database connectivity" and Issue 6: `SELECT 1` and the connection count from pg_stat_activity. */
    async probeDatabase(): Promise<DependencyProbe> {
      const started = performance.now();
      try {
        const { rows } = await pool.query<{ total: string; active: string; max: string }>(
          `SELECT count(*) AS total,
                  count(*) FILTER (WHERE state = 'active') AS active,
                  current_setting('max_connections') AS max
             FROM pg_stat_activity`,
        );
        const row = rows[0];
        return {
          name: 'database',
          ok: true,
          latencyMs: Math.round(performance.now() - started),
          detail: { connections: Number(row.total), active: Number(row.active), maxConnections: Number(row.max) },
        };
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `PostgreSQL: ${(err as Error).message}`,
        });
      }
    },
  };
}
