/**
 * seed 002 Issue 1, Database Optimization:
 *
 *   SELECT query, mean_time, total_time, calls FROM pg_stat_statements ORDER BY mean_time DESC LIMIT 10;
 *
 * for this database only, read-only. The statements are pg_stat_statements' normalised text (constants replaced by
 * `$n`), cut to their first characters, so no literal value leaves the database. An extension that is not installed
 * or not preloaded is a finding, not a failure: the response-time runbook reports it and goes on.
 */
import { invalidInput } from '../../contracts/failures';
import type { SlowStatementsReport } from '../../contracts/statements';
import { postgresFailure, type PostgresDeps } from './failure';

/** How much of a statement's text is shown: enough to recognise it, short enough for a page. */
export const STATEMENT_PREVIEW = 200;

/** PostgreSQL's object_not_in_prerequisite_state: the view exists but the library was not preloaded. */
const NOT_PRELOADED = '55000';

export function createStatementActivities({ pool }: PostgresDeps) {
  return {
    /** The `limit` statements of this database with the highest mean execution time (top 10 by default). */
    async slowStatements(input: { limit?: number } = {}): Promise<SlowStatementsReport> {
      const limit = input?.limit ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw invalidInput('limit', 'must be a whole number from 1 to 100');
      }
      try {
        const installed = await pool.query<{ version_num: string }>(
          `SELECT current_setting('server_version_num') AS version_num
             FROM pg_extension WHERE extname = $1`,
          ['pg_stat_statements'],
        );
        if (!installed.rowCount) {
          return {
            available: false,
            reason: 'pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)',
          };
        }
        // PostgreSQL 13 renamed mean_time and total_time to mean_exec_time and total_exec_time.
        const modern = Number(installed.rows[0].version_num) >= 130000;
        const mean = modern ? 'mean_exec_time' : 'mean_time';
        const total = modern ? 'total_exec_time' : 'total_time';
        const { rows } = await pool.query<{ query: string; calls: string; mean: number; total: number }>(
          `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), $1) AS query, calls,
                  ${mean} AS mean, ${total} AS total
             FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY ${mean} DESC
            LIMIT $2`,
          [STATEMENT_PREVIEW, limit],
        );
        return {
          available: true,
          statements: rows.map((r) => ({
            query: r.query,
            calls: Number(r.calls),
            meanTimeMs: Number(r.mean.toFixed(3)),
            totalTimeMs: Number(r.total.toFixed(3)),
          })),
        };
      } catch (err) {
        if ((err as { code?: unknown }).code === NOT_PRELOADED) {
          return {
            available: false,
            reason: `pg_stat_statements is installed but the server did not load it (shared_preload_libraries): ${(err as Error).message}`,
          };
        }
        throw postgresFailure(err, 'pg_stat_statements');
      }
    },
  };
}
