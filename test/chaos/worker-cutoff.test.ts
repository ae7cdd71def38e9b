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
  activityOutcome,
  chaosRuns,
  chaosSuite,
  countRun,
  killHard,
  pendingAttempt,
  pollingWorker,
  resultWithin,
  serverCheckpoint,
  workerOutput,
} from '../helpers/chaos';
import { startFaultProxy } from '../helpers/fault-proxy';
import { countOptimizations, loadOptimizations } from '../helpers/maintenance';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DATABASE = 'aiops_test_chaos_cutoff';
/** The retention delete's heartbeat timeout (src/workflows/policies.ts, `heartbeating`). */
const HEARTBEAT_TIMEOUT_MS = 30_000;
const ROWS = 100_000;
const CUT_OFF_APP = 'aiops-cut-off-worker';
const SECOND_APP = 'aiops-second-worker';
const DEADLINE_MS = 120_000;
/** TIMEOUT_TYPE_HEARTBEAT in temporal.api.enums.v1.TimeoutType. */
const HEARTBEAT_TIMEOUT_TYPE = 4;
/** PENDING_ACTIVITY_STATE_STARTED in temporal.api.enums.v1.PendingActivityState. */
const STARTED = 2;

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

        proxy.cut();
        const cutAt = Date.now();
        second = await suite.worker(taskQueue, { DATABASE_URL: asApplication(suite.databaseUrl, SECOND_APP) });
        const secondPid = second.pid;
        // The server times the silent attempt out and hands the retry to the worker that can still reach it.
        const retry = await waitUntil(
          'the retry started on the second worker',
          () => pendingAttempt(handle, 'deleteCompletedOptimizations'),
          (a) => (a?.attempt ?? 1) >= 2 && a?.state === STARTED && !!a.lastWorkerIdentity?.startsWith(`${secondPid}@`),
          HEARTBEAT_TIMEOUT_MS + DEADLINE_MS,
        );
        const retriedAt = Date.now();
        tally.notes.push(
          `retry on the second worker ${((retriedAt - cutAt) / 1000).toFixed(1)} s into the cut, after "${retry?.lastFailure?.message?.slice(0, 60)}"`,
        );
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
        const closed = await activityOutcome(handle, 'deleteCompletedOptimizations');
        // The cut outlasts the heartbeat timeout with room, the workflow's end or not.
        await sleep(cutAt + HEARTBEAT_TIMEOUT_MS + 5_000 - Date.now());
        const stillCut = Date.now() - cutAt;
        proxy.restore();
        // The cut-off worker reconnects and polls again: it survived the cut, and its attempt ended one way or another.
        await pollingWorker(suite.env.client, taskQueue, cutOff);
        // What the cut-off worker said of its attempt (warnings on heartbeats and the late answer, not its polls).
        const cutOffSaid = () => [
          ...new Set(
            workerOutput(cutOff!)
              .replace(/\x1b\[[0-9;]*m/g, '')
              .split('\n')
              .filter((l) => /WARN|ERROR/.test(l) && /heartbeat|complet|not found|failed/i.test(l) && !/poll_/.test(l))
              .map((l) => l.replace(/^\S*\d\dZ\s+/, '').slice(0, 120)),
          ),
        ];
        // Its late answer reaches the server and is refused, or is given up on; either way it is said.
        await waitUntil(
          "the cut-off worker's late answer",
          cutOffSaid,
          (said) => said.some((l) => /not found on completion|error while completing/i.test(l)),
          15_000,
        ).catch(() => tally.notes.push('the cut-off worker said nothing of a late answer'));
        const afterHeal = await activityOutcome(handle, 'deleteCompletedOptimizations');
        const secondSaid = workerOutput(second);
        await countRun(tally, handle, result !== undefined, (completedAt - cutAt) / 1000);
        await replayOwnHistory(handle);

        const end = await countOptimizations(deps.pool);
        const { rows: byWorker } = await deps.pool.query<{ app: string; deleted: string; late: string }>(
          `SELECT app, sum(deleted) AS deleted, coalesce(sum(deleted) FILTER (WHERE at >= $1), 0) AS late
             FROM chaos_deletions GROUP BY app`,
          [raceAt],
        );
        const deletedBy = Object.fromEntries(byWorker.map((r) => [r.app, Number(r.deleted)]));
        const deletedRacing = Object.fromEntries(byWorker.map((r) => [r.app, Number(r.late)]));
        const deletedInAll = Object.values(deletedBy).reduce((a, b) => a + b, 0);
        tally.lost += end.eligible;
        // A row deleted that the rule keeps, or a deletion counted twice, is more than a clean run does.
        tally.duplicated += fixture.total - end.total - (fixture.eligible - end.eligible);
        tally.duplicated += Math.max(0, (result?.retention.deleted ?? 0) - fixture.eligible);
        tally.notes.push(
          `after the retry began the cut-off attempt deleted ${deletedRacing[CUT_OFF_APP] ?? 0} rows and the retry ${deletedRacing[SECOND_APP] ?? 0}; cut ${(stillCut / 1000).toFixed(0)} s`,
        );
        if (cutOffSaid().length) tally.notes.push(`cut-off worker: ${cutOffSaid().slice(0, 3).join(' | ')}`);

        assert.ok(result, 'the workflow completed while the first worker was cut off');
        assert.ok(stillCut > HEARTBEAT_TIMEOUT_MS, `cut for ${stillCut} ms, past the heartbeat timeout`);
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
        assert.deepEqual(
          {
            completions: closed.completions,
            byTheSecondWorker: closed.identity.startsWith(`${secondPid}@`),
            afterATimedOutAttempt: closed.attempt >= 2 && closed.lastTimeoutType === HEARTBEAT_TIMEOUT_TYPE,
          },
          { completions: 1, byTheSecondWorker: true, afterATimedOutAttempt: true },
          "one completion, the second worker's retry, after the first attempt's heartbeat timeout",
        );
        assert.equal(afterHeal.events, closed.events, "the cut-off worker's late answer changed nothing in history");
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
