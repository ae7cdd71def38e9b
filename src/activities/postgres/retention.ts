/** The retention delete and ANALYZE of seed 002's Sunday "Database maintenance". Every statement is parameterised. */
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { activityInfo, Context, heartbeat, log } from '@temporalio/activity';
import {
  validateRetentionInput,
  type AnalyzeResult,
  type RetentionInput,
  type RetentionProgress,
  type RetentionResult,
} from '../../contracts/maintenance';

import { checkOut } from './checkout';
import { postgresFailure, type PostgresDeps } from './failure';

/** What analyze_ai_tables() (migration 003) analyzes. */
export const ANALYZED_TABLES = ['wedding_optimizations', 'ai_recommendations', 'ai_feedback'] as const;

const MIN_RANGE = 100;
/**
 * Two batches in flight: one connection's DELETE uses one core of the database, so two finish the table
 * sooner than one statement does, each still a short transaction. (A third connection looks for where the
 * eligible rows end.)
 */
const CONNECTIONS = 2;
const MAX_RANGE = 1_000_000;
/**
 * Keys per statement of the search for the newest row older than the cutoff. That search walks down from the top
 * of the table; in one statement it read every recent row above the answer in a single snapshot (over 200 ms at
 * a million rows), the longest transaction of the whole delete. In slices it is many short ones.
 */
const BOUND_SLICE = 25_000n;

function isRetentionProgress(d: unknown): d is RetentionProgress {
  const p = d as RetentionProgress | undefined;
  return (
    typeof p?.lastKey === 'string' &&
    typeof p.endKey === 'string' &&
    /^\d+$/.test(p.lastKey) &&
    /^\d+$/.test(p.endKey) &&
    typeof p.cutoff === 'string' &&
    !Number.isNaN(Date.parse(p.cutoff)) &&
    [p.deleted, p.batches, p.rangeWidth].every(Number.isInteger) &&
    (p.endKeyBounded === undefined || typeof p.endKeyBounded === 'boolean')
  );
}

/** The first key of the advisory locks that mark the retention delete's batch connections. */
const FENCE_SPACE = 0x52455445; // "RETE"

/** The advisory lock (two non-negative int4 keys) each batch connection of one run holds, shared, while it deletes. */
function fenceKey(runKey: string): [number, number] {
  return [FENCE_SPACE, createHash('sha256').update(runKey).digest().readUInt32BE(0) & 0x7fffffff];
}

/**
 * Ends the batch connections of this run's earlier attempts that are still at work, and waits (up to 5 s each) until
 * they are gone: their statement in flight rolls back, and their next one fails, which ends that attempt. An attempt
 * is retried when the server stopped hearing its heartbeats: usually its worker died, but a worker cut off from the
 * server (a network partition) goes on deleting, unaware, and its heartbeats (and the cancellation they would bring
 * back) cannot reach it; without this, two attempts would delete at once. Known by the advisory lock each batch
 * connection holds on the run's key, in this database. Needs PostgreSQL 14 or later (the wait) and sessions of the
 * worker's own role, as every attempt's are. Returns how many were ended.
 */
async function fenceOffEarlierAttempts(pool: PostgresDeps['pool'], fence: [number, number]): Promise<number> {
  const { rows } = await pool.query<{ ended: string }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS ended
       FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`,
    fence,
  );
  return Number(rows[0].ended);
}

/** The rows the batches counted under `runKey` deleted, over every attempt (migration 007). */
async function countedDeletion(pool: PostgresDeps['pool'], runKey: string): Promise<number> {
  const { rows } = await pool.query<{ deleted: string }>(
    'SELECT coalesce(sum(deleted), 0) AS deleted FROM retention_batches WHERE run_key = $1',
    [runKey],
  );
  return Number(rows[0].deleted);
}

export function createRetentionActivities({ pool }: PostgresDeps) {
  return {
    /**
     * Seed 002 Sunday "Database maintenance": `DELETE FROM wedding_optimizations WHERE created_at < NOW() -
     * INTERVAL '90 days' AND status = 'completed'`, as many short transactions over primary-key ranges instead
     * of one long one, so the application's writes never wait long behind it. Each range's width adapts to the
     * measured time of the last one. Safe to retry: a range deletes only rows the fixed cutoff makes eligible,
     * and rerunning a range already done deletes nothing. The count is exact across retries: each batch records
     * its count in retention_batches in the statement that deletes, and the result sums them.
     */
    async deleteCompletedOptimizations(rawInput?: RetentionInput): Promise<RetentionResult> {
      const input = validateRetentionInput(rawInput);
      const started = performance.now();
      const signal = Context.current().cancellationSignal;
      const info = activityInfo();
      const checkpoint = info.heartbeatDetails as unknown;
      const resumed = isRetentionProgress(checkpoint);
      // Every attempt of this activity counts its batches under one key (see countedDeletion).
      const runKey = `${info.workflowExecution?.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
      const fence = fenceKey(runKey);
      let progress: RetentionProgress;
      try {
        const ended = await fenceOffEarlierAttempts(pool, fence);
        if (ended > 0)
          log.warn('ended the batch connections of an earlier attempt still deleting', { sessions: ended });
        if (!resumed) {
          // A first attempt has no batches of its own yet: rows under its key are another run's that reused the IDs
          // (a test's activity environment). A retry keeps what the attempts before it counted.
          await pool.query(
            `DELETE FROM retention_batches
              WHERE recorded_at < now() - interval '30 days' OR (run_key = $1 AND $2::int = 1)`,
            [runKey, info.attempt],
          );
        }
        if (isRetentionProgress(checkpoint)) {
          // The checkpoint's count misses batches finished after it was sent; the database has them all.
          progress = { ...checkpoint, deleted: await countedDeletion(pool, runKey) };
        } else {
          // The database's clock, not the worker's, decides what is 90 days old.
          const { rows } = await pool.query<{ cutoff: Date; lo: string | null; hi: string | null }>(
            `SELECT now() - make_interval(days => $1::int) AS cutoff,
                    (SELECT min(id) FROM wedding_optimizations) AS lo,
                    (SELECT max(id) FROM wedding_optimizations) AS hi`,
            [input.olderThanDays],
          );
          const { cutoff, lo, hi } = rows[0];
          progress = {
            lastKey: lo ?? '0',
            endKey: hi === null ? '0' : (BigInt(hi) + 1n).toString(),
            cutoff: cutoff.toISOString(),
            deleted: 0,
            batches: 0,
            rangeWidth: 2000,
          };
        }
      } catch (err) {
        throw postgresFailure(err);
      }
      const resumedFromKey = resumed ? progress.lastKey : undefined;
      let batchesThisAttempt = 0;
      let longestBatchMs = 0;
      let lastBatchMs = input.targetBatchMs;
      let failure: unknown;

      // Ranges are handed out in key order to CONNECTIONS connections at once; they may finish out of order, so
      // the checkpoint's lastKey only moves over the ranges finished without a gap below them.
      let next = BigInt(progress.lastKey);
      let end = BigInt(progress.endKey);
      const finished = new Map<bigint, bigint>();
      let ended = false;
      // Above the newest row older than the cutoff nothing can qualify, and walking those ranges would cost as
      // much as the second connection saves. Looked for on a connection of its own, from the top down in slices of
      // BOUND_SLICE keys, while the ranges start from the bottom: the answer usually arrives before they reach the
      // recent rows; a range already handed out past it is finished, nothing after it is handed out. Without an
      // answer (a failed query) the ranges simply go on.
      const findBound = async (low: bigint, high: bigint, cutoff: string): Promise<bigint | undefined> => {
        for (let top = high; top > low;) {
          if (ended) return undefined;
          const bottom = top - BOUND_SLICE > low ? top - BOUND_SLICE : low;
          const { rows } = await pool.query<{ id: string }>(
            `SELECT id FROM wedding_optimizations WHERE id >= $1 AND id < $2 AND created_at < $3
              ORDER BY id DESC LIMIT 1`,
            [bottom.toString(), top.toString(), cutoff],
          );
          if (rows.length > 0) return BigInt(rows[0].id) + 1n;
          top = bottom;
        }
        // Nothing at or above `low` is old enough.
        return low;
      };
      if (!progress.endKeyBounded && next < end) {
        findBound(next, end, progress.cutoff)
          .then((bound) => {
            if (ended || bound === undefined) return;
            if (bound < end) end = bound > next ? bound : next;
            progress = { ...progress, endKey: end.toString(), endKeyBounded: true };
          })
          .catch(() => undefined);
      }
      const takeRange = (): [bigint, bigint] | undefined => {
        if (failure !== undefined || signal.aborted || next >= end) return undefined;
        // Twice the last batch's time as a margin: a batch may take longer than the one before it.
        if (input.stopAt !== undefined && Date.now() + 2 * lastBatchMs >= input.stopAt) return undefined;
        const from = next;
        next = from + BigInt(progress.rangeWidth) < end ? from + BigInt(progress.rangeWidth) : end;
        return [from, next];
      };
      const recordBatch = (from: bigint, to: bigint, rows: number, ms: number) => {
        lastBatchMs = ms;
        longestBatchMs = Math.max(longestBatchMs, ms);
        batchesThisAttempt++;
        finished.set(from, to);
        let lastKey = BigInt(progress.lastKey);
        while (finished.has(lastKey)) {
          const upTo = finished.get(lastKey)!;
          finished.delete(lastKey);
          lastKey = upTo;
        }
        // Halve at most, double at most: one slow batch (a checkpoint, a lock) should not swing the size wildly.
        const factor = Math.min(2, Math.max(0.5, input.targetBatchMs / Math.max(ms, 0.1)));
        progress = {
          ...progress,
          lastKey: lastKey.toString(),
          deleted: progress.deleted + rows,
          batches: progress.batches + 1,
          rangeWidth: Math.min(MAX_RANGE, Math.max(MIN_RANGE, Math.round(progress.rangeWidth * factor))),
        };
        heartbeat(progress);
      };

      const deleteRanges = async () => {
        let client: PoolClient | undefined;
        let broken = false;
        let marked = false;
        try {
          client = await checkOut(pool);
          // The mark a later attempt of this run finds this connection by (fenceOffEarlierAttempts).
          await client.query('SELECT pg_advisory_lock_shared($1, $2)', fence);
          marked = true;
          // Asynchronous commit for these batches only: an OS crash can lose the last few commits, and the next
          // run deletes those rows again by the same rule, so nothing is lost; meanwhile no batch waits for a flush.
          await client.query('SET synchronous_commit = off');
          // A key range is read through a bitmap of the primary key, heap pages in order, rather than tuple by
          // tuple through the index: the same plan the single DELETE's sequential scan approximates, and less time
          // over a table's worth of ranges (README "Benchmark").
          await client.query('SET enable_indexscan = off');
          for (let range = takeRange(); range; range = takeRange()) {
            const [from, to] = range;
            const t0 = performance.now();
            // The batch's count is written by the statement that deletes, so it commits with the deletion: a batch
            // whose reply is lost after the commit is counted all the same, and its retry deletes (and counts) none.
            const { rows } = await client.query<{ deleted: number }>(
              `WITH gone AS (
                 DELETE FROM wedding_optimizations
                  WHERE id >= $1 AND id < $2 AND status = 'completed' AND created_at < $3
                 RETURNING 1)
               INSERT INTO retention_batches (run_key, from_key, to_key, deleted)
               SELECT $4, $1, $2, count(*) FROM gone
               RETURNING deleted`,
              [from.toString(), to.toString(), progress.cutoff, runKey],
            );
            recordBatch(from, to, rows[0]?.deleted ?? 0, performance.now() - t0);
          }
          await client.query('RESET synchronous_commit; RESET enable_indexscan');
          await client.query('SELECT pg_advisory_unlock_shared($1, $2)', fence);
          marked = false;
        } catch (err) {
          broken = true;
          failure ??= err;
        } finally {
          // A connection left mid-statement (cancelled, failed) or still marked is discarded rather than handed to
          // the next caller.
          client?.release(broken || marked);
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, deleteRanges));
      ended = true;
      if (failure !== undefined) throw postgresFailure(failure);
      if (signal.aborted) throw signal.reason;
      try {
        // What every attempt's committed batches removed, those whose reply was lost included.
        progress = { ...progress, deleted: await countedDeletion(pool, runKey) };
      } catch (err) {
        throw postgresFailure(err);
      }
      // A range handed out but not finished (stopBy) leaves lastKey below it: the next run does it.
      // Complete when every range up to the end is finished, even if stopBy ended the handing out: the newest old
      // row may have been found after the last range was handed out, past it.
      const complete = BigInt(progress.lastKey) >= end;
      return {
        ...progress,
        complete,
        resumed,
        resumedFromKey,
        batchesThisAttempt,
        longestBatchMs: Math.round(longestBatchMs * 10) / 10,
        durationMs: Math.round(performance.now() - started),
      };
    },

    /** Seed 002's `ANALYZE` after the retention delete, so the planner sees the smaller tables. */
    async analyzeTables(): Promise<AnalyzeResult> {
      const started = performance.now();
      // Beats while the statement runs, so a worker that dies is noticed at the heartbeat timeout, not the
      // activity's ten minutes (the randomised chaos run waited out those ten minutes after a kill).
      heartbeat();
      const beat = setInterval(() => heartbeat(), 1000);
      try {
        // The worker's role may not ANALYZE tables it does not own; migration 003's function does it for it.
        await pool.query('SELECT analyze_ai_tables()');
      } catch (err) {
        throw postgresFailure(err);
      } finally {
        clearInterval(beat);
      }
      return { tables: [...ANALYZED_TABLES], durationMs: Math.round(performance.now() - started) };
    },
  };
}
