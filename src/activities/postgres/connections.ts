/**
 * seed 000 Issue 6, Database Connection Issues: `SELECT count(*) FROM pg_stat_activity` read against the server's
 * connection limit, the long-running queries among them, and `pg_cancel_backend` of one of those once a person
 * approved it. Only the figures and each query's first characters leave the database, never its parameters.
 */
import { invalidInput } from '../../contracts/failures';
import type { ConnectionReport } from '../../contracts/connections';
import { postgresFailure, type PostgresDeps } from './failure';

/** Where connection use counts as exhaustion, and how long a query runs before it is long-running. */
export interface ConnectionLimits {
  connectionAlertRatio: number;
  longQuerySeconds: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { connectionAlertRatio: 0.8, longQuerySeconds: 300 };

/** How much of a query's text is shown: enough to recognise it, too little to carry a literal's value far. */
const QUERY_PREVIEW = 80;
/** How long a cancel may take to end its query before the activity returns anyway (the check after it then says). */
const CANCEL_SETTLE_MS = 5_000;

export function createConnectionActivities({ pool, scrollUniversity }: PostgresDeps) {
  const limits = scrollUniversity ?? DEFAULT_CONNECTION_LIMITS;

  return {
    /**
     * Connections by state against max_connections (the server's, shared by every database on it), and this
     * database's queries running longer than the limit.
     */
    async databaseConnections(input: { longQuerySeconds?: number } = {}): Promise<ConnectionReport> {
      const longQuerySeconds = input?.longQuerySeconds ?? limits.longQuerySeconds;
      if (!Number.isInteger(longQuerySeconds) || longQuerySeconds < 1) {
        throw invalidInput('longQuerySeconds', 'must be a whole number of seconds, at least 1');
      }
      try {
        const totals = await pool.query<{ total: string; active: string; idle_in_tx: string; max: string }>(
          `SELECT count(*) AS total,
                  count(*) FILTER (WHERE state = 'active') AS active,
                  count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_tx,
                  current_setting('max_connections') AS max
             FROM pg_stat_activity`,
        );
        const long = await pool.query<{
          pid: number;
          usename: string | null;
          application_name: string | null;
          state: string | null;
          query_start: Date;
          seconds: string;
          preview: string;
        }>(
          `SELECT pid, usename, application_name, state, query_start,
                  extract(epoch FROM now() - query_start)::bigint AS seconds,
                  left(query, $2) AS preview
             FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
              AND state <> 'idle' AND query_start < now() - make_interval(secs => $1)
            ORDER BY query_start`,
          [longQuerySeconds, QUERY_PREVIEW],
        );
        const row = totals.rows[0];
        const connections = Number(row.total);
        const maxConnections = Number(row.max);
        const usage = Number((connections / maxConnections).toFixed(4));
        return {
          connections,
          active: Number(row.active),
          idleInTransaction: Number(row.idle_in_tx),
          maxConnections,
          usage,
          alertRatio: limits.connectionAlertRatio,
          exhausted: usage >= limits.connectionAlertRatio,
          longQuerySeconds,
          longRunning: long.rows.map((q) => ({
            pid: q.pid,
            user: q.usename ?? undefined,
            application: q.application_name || undefined,
            state: q.state ?? 'unknown',
            queryStart: q.query_start.toISOString(),
            seconds: Number(q.seconds),
            preview: q.preview,
          })),
        };
      } catch (err) {
        throw postgresFailure(err, 'pg_stat_activity');
      }
    },

    /**
     * `SELECT pg_cancel_backend(pid)` of a query seen earlier. Safe to retry: it cancels only while that backend
     * still runs the query that started at `queryStart` (a pid can be reused, a query can end), and cancelling a
     * query twice is the same as once.
     */
    async cancelLongQuery(input: { pid: number; queryStart: string }): Promise<{ pid: number; cancelled: boolean }> {
      if (!Number.isInteger(input?.pid) || input.pid < 1) throw invalidInput('pid', 'must be a backend pid');
      if (typeof input.queryStart !== 'string' || Number.isNaN(Date.parse(input.queryStart))) {
        throw invalidInput('queryStart', 'must be the ISO time the query started');
      }
      const theQuery = `FROM pg_stat_activity
            WHERE pid = $1 AND date_trunc('milliseconds', query_start) = date_trunc('milliseconds', $2::timestamptz)
              AND state <> 'idle'`;
      try {
        const { rows } = await pool.query<{ cancelled: boolean }>(
          `SELECT pg_cancel_backend(pid) AS cancelled ${theQuery}`,
          [input.pid, input.queryStart],
        );
        const cancelled = rows[0]?.cancelled ?? false;
        // pg_cancel_backend only signals the backend: the query ends when the backend next looks, which a busy
        // server delays. Waiting for it here means the check that follows sees the database without it.
        const deadline = Date.now() + CANCEL_SETTLE_MS;
        while (cancelled && Date.now() < deadline) {
          const still = await pool.query(`SELECT 1 ${theQuery}`, [input.pid, input.queryStart]);
          if (still.rowCount === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return { pid: input.pid, cancelled };
      } catch (err) {
        throw postgresFailure(err, `pg_cancel_backend(${input.pid})`);
      }
    },
  };
}
