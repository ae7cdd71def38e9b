/**
 * Issue 18: a worker cut off from the Temporal server long enough for its heartbeats to time out, while its
 * activity keeps running. The first worker reaches the server through a fault proxy; the retention delete starts on
 * it and is held mid-run by two locked rows; the proxy is cut; once the server has timed the attempt out and a
 * second worker (reaching the server directly) has taken the retry, the locks go and both attempts run at once, the
 * cut-off one unaware. The proxy is healed after the workflow completed. Counted where the effects land (a trigger
 * in the suite's own database records who deleted how many rows, by the worker's application_name): exactly the
 * eligible rows deleted, each once, and counted once in the result; the workflow completed with the retry's result;
 * the cut-off worker, back in touch, changes nothing in the closed run's history and polls again; the history replays.
 * It found the cut-off attempt deleting beside the retry; the retry now ends that attempt's batch connections first
 * (fenceOffEarlierAttempts, src/activities/postgres/retention.ts), and the scenario holds it to that.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { Client, type Pool } from 'pg';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import type { RetentionProgress } from '../../src/contracts/maintenance';
import { pruneOptimizations } from '../../src/workflows';
import {
  assertRetryCompletedOnce,
  chaosRuns,
  chaosSuite,
  countRun,
  cutOffFromServer,
  cutOffWorkerSaid,
  HEARTBEATING_TIMEOUT_MS,
  killHard,
  resultWithin,
  serverCheckpoint,
  tallyOptimizations,
  workerOutput,
} from '../helpers/chaos';
import { startFaultProxy } from '../helpers/fault-proxy';
import { loadOptimizations } from '../helpers/maintenance';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DATABASE = 'aiops_test_chaos_cutoff';
const ROWS = 100_000;
const CUT_OFF_APP = 'aiops-cut-off-worker';
const SECOND_APP = 'aiops-second-worker';
const DEADLINE_MS = 120_000;

type PruneResult = Awaited<ReturnType<typeof pruneOptimizations>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `url` with its application_name set: what pg_stat_activity and the deletion trigger see of the worker. */
function asApplication(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
}

/**
 * Records, in the suite's own database, every DELETE on wedding_optimizations: the rows it removed, the session's
 * application_name and the time, committed with the deletion itself. Installed as the administrator (the worker's
 * role may not create triggers); the function runs as its owner, and the test reads the log as the worker's role.
 */
async function countDeletionsByWorker(database: string, role: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error(`unexpected role name "${role}"`);
  const admin = new Client({ connectionString: localPostgresAdminUrl(database) });
  await admin.connect();
  try {
    await admin.query(`
      CREATE TABLE IF NOT EXISTS chaos_deletions (
        app text NOT NULL, deleted bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE OR REPLACE FUNCTION chaos_count_deletions() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = public AS $$
        BEGIN
          INSERT INTO chaos_deletions (app, deleted) SELECT current_setting('application_name'), count(*) FROM gone;
          RETURN NULL;
        END $$;
      CREATE OR REPLACE TRIGGER chaos_count_deletions AFTER DELETE ON wedding_optimizations
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION chaos_count_deletions();
      GRANT SELECT, DELETE ON chaos_deletions TO ${role};`);
  } finally {
    await admin.end();
  }
}

/**
 * DELETEs of wedding_optimizations waiting for a row lock, by the session's application_name. Asked outside the
 * locking transaction: within one, pg_stat_activity keeps answering from the snapshot of its first read.
 */
async function blockedDeletes(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ app: string; n: string }>(
    `SELECT application_name AS app, count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'
        AND query LIKE '%DELETE FROM wedding_optimizations%'
      GROUP BY application_name`,
  );
  return Object.fromEntries(rows.map((r) => [r.app, Number(r.n)]));
}

describe('a worker cut off from the server while its activity keeps running', () => {
  const runs = chaosRuns();
  const suite = chaosSuite(DATABASE);

  suite.scenario(
    'the retention delete completes once in effect, and the cut-off attempt finishing late changes nothing',
    {
      row: `worker cut off from Temporal past the heartbeat timeout: retention delete (${ROWS.toLocaleString('en')} rows)`,
      runs,
      timeout: runs * 360_000,
    },
    async (tally) => {
      const { deps } = suite;
      await countDeletionsByWorker(DATABASE, decodeURIComponent(new URL(suite.databaseUrl).username));
      const fixture = await loadOptimizations(deps.pool, ROWS);
      await deps.pool.query('DELETE FROM chaos_deletions');
      const temporalPort = Number(suite.temporalAddress.split(':').pop());
      const proxy = suite.own(await startFaultProxy(temporalPort));
      const locker = new Client({ connectionString: suite.databaseUrl });
      await locker.connect();
      let cutOff: ChildProcess | undefined;
      let second: ChildProcess | undefined;
      try {
        // Two eligible rows locked, a third and two thirds of the way through, hold both of the first attempt's
        // connections mid-run. OFFSET sits in a subquery: FOR UPDATE would lock every row it skips.
        await locker.query('BEGIN');
        for (const share of [1 / 3, 2 / 3]) {
          await locker.query(
            `SELECT id FROM wedding_optimizations WHERE id = (
               SELECT id FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'
                ORDER BY id OFFSET $1 LIMIT 1) FOR UPDATE`,
            [Math.floor(fixture.eligible * share)],
          );
        }
        const taskQueue = uniqueId('chaos-cutoff');
        cutOff = await suite.worker(taskQueue, {
          TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
          DATABASE_URL: asApplication(suite.databaseUrl, CUT_OFF_APP),
        });
        const handle = await suite.client.workflow.start(pruneOptimizations, {
          taskQueue,
          workflowId: uniqueId('chaos-cutoff'),
          args: [{ targetBatchMs: 10 }],
        });
        await waitUntil(
          "the first attempt's connections both at a locked row",
          async () => ((await blockedDeletes(deps.pool))[CUT_OFF_APP] ?? 0) >= 2,
          Boolean,
          DEADLINE_MS,
        );
        await sleep(500); // the last heartbeat before the blocked batches reaches the server
        const checkpoint = await serverCheckpoint<RetentionProgress>(handle);

        const step = 'deleteCompletedOptimizations';
        const cut = cutOffFromServer(tally, suite.env, { proxy, worker: cutOff, taskQueue }, handle, step);
        second = await suite.worker(taskQueue, { DATABASE_URL: asApplication(suite.databaseUrl, SECOND_APP) });
        // The server times the silent attempt out and hands the retry to the worker that can still reach it.
        await cut.retryStartedOn(second, DEADLINE_MS);
        // The retry resumes from the checkpoint below the locked rows and waits at them too; then both go on at once.
        await waitUntil(
          "the retry's connections at a locked row",
          async () => ((await blockedDeletes(deps.pool))[SECOND_APP] ?? 0) >= 1,
          Boolean,
          DEADLINE_MS,
        ).catch(() => tally.notes.push('the retry did not reach a locked row'));
        const raceAt = (await locker.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;
        await locker.query('ROLLBACK');

        const result = await resultWithin<PruneResult>(handle, DEADLINE_MS, tally.notes);
        const completedAt = Date.now();
        const healed = await cut.heal(/not found on completion|error while completing/i);
        const stillCut = healed.cutMs;
        const secondSaid = workerOutput(second);
        await countRun(tally, handle, result !== undefined, (completedAt - cut.cutAt) / 1000);
        await replayOwnHistory(handle);

        const end = await tallyOptimizations(tally, deps.pool, fixture);
        const { rows: byWorker } = await deps.pool.query<{ app: string; deleted: string; late: string }>(
          `SELECT app, sum(deleted) AS deleted, coalesce(sum(deleted) FILTER (WHERE at >= $1), 0) AS late
             FROM chaos_deletions GROUP BY app`,
          [raceAt],
        );
        const deletedBy = Object.fromEntries(byWorker.map((r) => [r.app, Number(r.deleted)]));
        const deletedRacing = Object.fromEntries(byWorker.map((r) => [r.app, Number(r.late)]));
        const deletedInAll = Object.values(deletedBy).reduce((a, b) => a + b, 0);
        // A deletion counted twice is more than a clean run does.
        tally.duplicated += Math.max(0, (result?.retention.deleted ?? 0) - fixture.eligible);
        tally.notes.push(
          `after the retry began the cut-off attempt deleted ${deletedRacing[CUT_OFF_APP] ?? 0} rows and the retry ${deletedRacing[SECOND_APP] ?? 0}; cut ${(stillCut / 1000).toFixed(0)} s`,
        );
        const cutOffSaid = cutOffWorkerSaid(cutOff);
        if (cutOffSaid.length) tally.notes.push(`cut-off worker: ${cutOffSaid.slice(0, 3).join(' | ')}`);

        assert.ok(result, 'the workflow completed while the first worker was cut off');
        assert.ok(stillCut > HEARTBEATING_TIMEOUT_MS, `cut for ${stillCut} ms, past the heartbeat timeout`);
        assert.deepEqual(
          { eligibleLeft: end.eligible, othersKept: end.total, deletedInAll, counted: result.retention.deleted },
          {
            eligibleLeft: 0,
            othersKept: fixture.total - fixture.eligible,
            deletedInAll: fixture.eligible,
            counted: fixture.eligible,
          },
          'exactly the eligible rows deleted, each once, and counted once',
        );
        assert.equal(result.retention.resumed, true, 'the retry resumed from the checkpoint');
        assert.equal(result.retention.resumedFromKey, checkpoint?.lastKey);
        assert.ok(result.analyze, 'ANALYZE ran after the delete');
        assertRetryCompletedOnce(healed, second);
        // The defect this scenario found: the cut-off attempt went on deleting beside the retry (12,128 rows in the
        // first run). The retry now ends its batch connections before it deletes anything.
        assert.deepEqual(
          {
            cutOffDeletedBesideTheRetry: deletedRacing[CUT_OFF_APP] ?? 0,
            fenced: /earlier attempt still deleting/.test(secondSaid),
          },
          { cutOffDeletedBesideTheRetry: 0, fenced: true },
          "the retry ended the cut-off attempt's batch connections before deleting",
        );
        assert.equal((await handle.describe()).status.name, 'COMPLETED');
      } finally {
        proxy.restore();
        await locker.end();
        // Each run's workers go with it: twenty runs of two full workers would not fit beside the stack.
        for (const w of [cutOff, second]) if (w) await killHard(w);
      }
    },
  );
});
