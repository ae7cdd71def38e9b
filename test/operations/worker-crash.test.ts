import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
/**
 * A worker SIGKILLed in the middle of the cache purge and of the retention delete: a second worker resumes
 * from the checkpoint the first one heartbeated (counted, not assumed), and the end state is exact.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createActivities } from '../../src/activities';
import type { PurgeProgress, RetentionProgress } from '../../src/contracts/maintenance';
import type { OwnedDeps } from '../../src/workers/deps';
import { pruneOptimizations, purgeCache } from '../../src/workflows';
import { killHard, serverCheckpoint, spawnKillableWorker } from '../helpers/chaos';
import { testDeps } from '../helpers/deps';
import { countOptimizations, loadOptimizations, REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { testDatabase } from '../helpers/databases';
import { devServerEnv, replayOwnHistory, sealingClient, uniqueId, workflowBundle } from '../helpers/temporal';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function countLeft(redis: Redis, pattern: string): Promise<number> {
  let n = 0;
  for await (const keys of redis.scanStream({ match: pattern, count: 5000 })) n += (keys as string[]).length;
  return n;
}

describe('a worker killed during maintenance', () => {
  let env: TestWorkflowEnvironment;
  let dbUrl: string;
  let deps: OwnedDeps;
  const children: ChildProcess[] = [];

  before(async () => {
    env = await devServerEnv();
    dbUrl = await testDatabase('aiops_test_maintenance_crash');
    deps = await testDeps({ REDIS_URL: redisUrlFor(REDIS_DB.crash), DATABASE_URL: dbUrl });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await deps?.close();
    await env?.teardown();
  });

  /** A second worker, in this process, until the workflow's result is in; then the history it left must replay. */
  async function resumeOn<T>(taskQueue: string, handle: WorkflowHandle): Promise<T> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: dataConverter(loadConfig()),
      activities: createActivities(deps),
    });
    const result = await worker.runUntil(handle.result() as Promise<T>);
    await replayOwnHistory(handle);
    return result;
  }

  it(
    'resumes the cache purge from the heartbeated SCAN cursor and removes exactly the matching keys',
    { timeout: 180_000 },
    async (t) => {
      const run = randomUUID().slice(0, 8);
      const pattern = `ai:${run}:*`;
      const matching = 100_000;
      for (let i = 0; i < matching; i += 10_000) {
        const p = deps.redis.pipeline();
        for (let j = i; j < i + 10_000; j++) p.set(`ai:${run}:${j}`, 'v').set(`keep:${run}:${j}`, 'v');
        await p.exec();
      }
      // Every SCAN the server executes on this DB for the purge (our pattern at COUNT 20; the test's own counting
      // uses another COUNT), with the connection that sent it.
      const scans: { source: string; cursor: string }[] = [];
      // monitor() opens a connection of its own; the one it was called on must be closed as well.
      const monitorBase = new Redis(redisUrlFor(REDIS_DB.crash));
      const monitor = await monitorBase.monitor();
      // Closed however the test ends: an open connection would keep the test file's process alive.
      t.after(() => {
        monitor.disconnect();
        monitorBase.disconnect();
      });
      monitor.on('monitor', (_time: string, args: string[], source: string, database: string) => {
        if (
          database === String(REDIS_DB.crash) &&
          args[0]?.toLowerCase() === 'scan' &&
          args[3] === pattern &&
          args[5] === '20'
        ) {
          scans.push({ source, cursor: args[1] });
        }
      });

      const taskQueue = uniqueId('purge-crash');
      const child = spawnKillableWorker({ REDIS_URL: redisUrlFor(REDIS_DB.crash), TEMPORAL_TASK_QUEUE: taskQueue });
      children.push(child);
      // Small SCAN batches make the purge long enough to be caught in the middle.
      const handle = await sealingClient(env).workflow.start(purgeCache, {
        taskQueue,
        workflowId: uniqueId('purge-crash'),
        args: [{ pattern, scanCount: 20, unlinkBatch: 10 }],
      });
      const deadline = Date.now() + 60_000;
      for (;;) {
        const cp = await serverCheckpoint<PurgeProgress>(handle);
        if (cp && cp.removed >= matching * 0.2) break;
        if (Date.now() > deadline) throw new Error(`the purge never got 20 % through: ${JSON.stringify(cp)}`);
        await sleep(50);
      }
      await killHard(child);
      const checkpoint = await serverCheckpoint<PurgeProgress>(handle);
      assert.ok(
        checkpoint && checkpoint.cursors.some((c) => c !== null) && checkpoint.removed < matching,
        JSON.stringify(checkpoint),
      );
      // Keys the first worker unlinked after its last heartbeat reached the server are gone but in no checkpoint.
      const leftAtKill = await countLeft(deps.redis, pattern);

      const result = await resumeOn<Awaited<ReturnType<typeof purgeCache>>>(taskQueue, handle);

      // The run's count in Redis has them (each batch adds to it in the script that unlinks): every key once.
      assert.equal(result.removed, matching, 'every key counted once, those unlinked after the last checkpoint too');
      assert.ok(result.removed - checkpoint.removed >= leftAtKill);
      assert.equal(result.resumed, true);
      assert.deepEqual(result.resumedFrom, checkpoint.cursors);
      assert.equal(result.batches, checkpoint.batches + result.batchesThisAttempt);
      const left = { ai: 0, keep: 0 };
      for await (const keys of deps.redis.scanStream({ match: `*${run}*`, count: 5000 })) {
        for (const k of keys as string[]) left[k.startsWith('ai:') ? 'ai' : 'keep']++;
      }
      assert.deepEqual(left, { ai: 0, keep: matching }, 'no matching key left, not one other key removed');

      // Counted on the server: one pass, each of its four lanes started once from its own first cursor; the second
      // worker's SCANs start where the checkpoint left the lanes not yet through, and are fewer than the pass took.
      assert.deepEqual(
        ['0', '1', '2', '3'].map((c) => scans.filter((s) => s.cursor === c).length),
        [1, 1, 1, 1],
      );
      const firstWorker = scans[0].source;
      const resumedScans = scans.filter((s) => s.source !== firstWorker);
      const unfinished = checkpoint.cursors.filter((c) => c !== null);
      assert.deepEqual(
        resumedScans
          .slice(0, unfinished.length)
          .map((s) => s.cursor)
          .sort(),
        [...unfinished].sort(),
      );
      assert.equal(resumedScans.length, result.batchesThisAttempt);
      assert.ok(
        scans.length - resumedScans.length >= checkpoint.batches,
        'the first worker did the checkpointed batches',
      );
      assert.ok(
        resumedScans.length < result.batches,
        `${resumedScans.length} of ${result.batches} SCANs after the resume`,
      );
      for await (const keys of deps.redis.scanStream({ match: `keep:${run}:*`, count: 5000 })) {
        if ((keys as string[]).length) await deps.redis.unlink(...(keys as string[]));
      }
    },
  );

  it(
    'resumes the retention delete from the heartbeated key with the same cutoff and deletes exactly the eligible rows',
    { timeout: 180_000 },
    async () => {
      const fixture = await loadOptimizations(deps.pool, 200_000);
      // Two rows locked, a third and two thirds of the way through the eligible rows, hold both of the first worker's
      // connections there, so the kill lands mid-run every time with nothing finished after the last heartbeat.
      // OFFSET sits in a subquery: FOR UPDATE would lock every row it skips.
      const locker = new Client({ connectionString: dbUrl });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        const held: { id: string }[] = [];
        for (const share of [1 / 3, 2 / 3]) {
          const { rows } = await locker.query<{ id: string }>(
            `SELECT id FROM wedding_optimizations WHERE id = (
              SELECT id FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'
               ORDER BY id OFFSET $1 LIMIT 1) FOR UPDATE`,
            [Math.floor(fixture.eligible * share)],
          );
          held.push(rows[0]);
        }

        const taskQueue = uniqueId('prune-crash');
        const child = spawnKillableWorker({ DATABASE_URL: dbUrl, TEMPORAL_TASK_QUEUE: taskQueue });
        children.push(child);
        const handle = await sealingClient(env).workflow.start(pruneOptimizations, {
          taskQueue,
          workflowId: uniqueId('prune-crash'),
          args: [{ targetBatchMs: 10 }],
        });
        let blockedPids: number[] = [];
        for (const deadline = Date.now() + 60_000; blockedPids.length < 2; await sleep(50)) {
          if (Date.now() > deadline)
            throw new Error(`the first worker's connections never both reached a locked row (${blockedPids.length})`);
          const { rows } = await deps.pool.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM wedding_optimizations%'`,
          );
          blockedPids = rows.map((r) => r.pid);
        }
        await sleep(500); // the last heartbeat before the blocked batches reaches the server
        await killHard(child);
        // A statement whose client died still commits once unblocked, uncounted; the database cancels it when it
        // notices the client gone (client_connection_check_interval), which we do here by hand.
        for (const pid of blockedPids) await deps.pool.query('SELECT pg_cancel_backend($1)', [pid]);
        await locker.query('ROLLBACK');

        const checkpoint = await serverCheckpoint<RetentionProgress>(handle);
        assert.ok(
          checkpoint && checkpoint.batches > 0 && BigInt(checkpoint.lastKey) <= BigInt(held[0].id),
          JSON.stringify({ checkpoint, held: held[0].id, pending: (await handle.describe()).raw.pendingActivities }),
        );
        const eligibleFrom = async (key: string) =>
          Number(
            (
              await deps.pool.query<{ n: string }>(
                `SELECT count(*) AS n FROM wedding_optimizations WHERE status = 'completed' AND created_at < $1 AND id >= $2`,
                [checkpoint.cutoff, key],
              )
            ).rows[0].n,
          );
        assert.equal(
          await eligibleFrom('0'),
          await eligibleFrom(checkpoint.lastKey),
          'all eligible rows below the checkpoint are gone',
        );
        assert.equal(await eligibleFrom(checkpoint.lastKey), fixture.eligible - checkpoint.deleted);

        // Rows made 2 s younger than the first attempt's cutoff: a resume that recomputed the cutoff (at least
        // the 30 s heartbeat timeout later) would delete them.
        const { rows: canaries } = await deps.pool.query<{ id: string }>(
          `UPDATE wedding_optimizations SET status = 'completed', created_at = $1::timestamptz + interval '2 seconds'
          WHERE id IN (SELECT id FROM wedding_optimizations ORDER BY id DESC LIMIT 50) RETURNING id`,
          [checkpoint.cutoff],
        );

        const result = await resumeOn<Awaited<ReturnType<typeof pruneOptimizations>>>(taskQueue, handle);
        assert.equal(result.retention.resumed, true);
        assert.equal(result.retention.resumedFromKey, checkpoint.lastKey);
        assert.equal(result.retention.cutoff, checkpoint.cutoff);
        assert.equal(result.retention.deleted, fixture.eligible);
        assert.equal(result.retention.batches, checkpoint.batches + result.retention.batchesThisAttempt);
        assert.ok(result.retention.batchesThisAttempt < result.retention.batches);
        assert.ok(result.analyze);
        const after = await countOptimizations(deps.pool);
        assert.equal(after.total, fixture.total - fixture.eligible);
        const { rows: kept } = await deps.pool.query('SELECT 1 FROM wedding_optimizations WHERE id = ANY($1)', [
          canaries.map((c) => c.id),
        ]);
        assert.equal(kept.length, 50, 'rows younger than the original cutoff were kept');
      } finally {
        await locker.end();
      }
    },
  );
});
