import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Pool, type PoolClient } from 'pg';
import { createActivities } from '../../src/activities';
import { createPostgresActivities } from '../../src/activities/postgres';
import type { RetentionProgress, RetentionResult } from '../../src/contracts/maintenance';
import type { OwnedDeps } from '../../src/workers/deps';
import { pruneOptimizations } from '../../src/workflows';
import type { RetentionInput } from '../../src/contracts/maintenance';
import { testDeps } from '../helpers/deps';
import { countOptimizations, loadOptimizations } from '../helpers/maintenance';
import { invalidInputNaming } from '../helpers/failures';
import { testDatabase } from '../helpers/databases';
import { uniqueId, withTimeSkippingWorker } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

function runRetention(env: MockActivityEnvironment, pool: Pool, input: unknown): Promise<RetentionResult> {
  const { deleteCompletedOptimizations } = createPostgresActivities({ pool });
  return env.run(deleteCompletedOptimizations, input as RetentionInput) as Promise<RetentionResult>;
}

/** Eligible rows still present, by the rule the activity applies with its own cutoff. */
async function eligibleLeft(pool: Pool, cutoff: string, fromKey = '0'): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM wedding_optimizations WHERE status = 'completed' AND created_at < $1 AND id >= $2`,
    [cutoff, fromKey],
  );
  return Number(rows[0].n);
}

/**
 * Resolves once both of the run's batch connections wait on rows `locker` holds. Asked on the locker's own
 * connection, inside its transaction (the pool's are the run's); activity statistics are a snapshot per
 * transaction until cleared.
 */
async function bothBatchesWaiting(locker: PoolClient): Promise<void> {
  await waitUntil(
    'both batch connections waiting on the locked rows',
    async () => {
      await locker.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await locker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0].n;
    },
    (n) => n === 2,
    4000,
  );
}

describe('deleteCompletedOptimizations', () => {
  let pool: Pool;
  before(async () => {
    // A database of this file's own: other suites delete and insert optimisations in theirs.
    pool = new Pool({ connectionString: await testDatabase('aiops_test_retention'), max: 4 });
  });
  after(() => pool?.end());

  it('deletes exactly the completed rows older than 90 days, in short batches', async () => {
    const fixture = await loadOptimizations(pool, 50_000);
    const { rows: before } = await pool.query<{ id: string }>(
      `SELECT id FROM wedding_optimizations WHERE NOT (status = 'completed' AND created_at < now() - interval '90 days') ORDER BY id`,
    );
    const heartbeats: RetentionProgress[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: RetentionProgress) => heartbeats.push(d));
    const result = await runRetention(env, pool, { targetBatchMs: 10 });

    assert.equal(result.deleted, fixture.eligible);
    assert.ok(fixture.eligible > 10_000 && fixture.eligible < fixture.total / 2);
    const { rows: remaining } = await pool.query<{ id: string }>('SELECT id FROM wedding_optimizations ORDER BY id');
    assert.deepEqual(remaining, before, 'every other row is still there');
    assert.equal(result.complete, true);
    assert.equal(result.lastKey, result.endKey);
    // Split into many short batches; how short each is on a quiet machine is `npm run bench -- retention`'s figure.
    assert.ok(result.batches > 3, `${result.batches} batches`);
    assert.equal(heartbeats.length, result.batches);
    assert.ok(
      heartbeats.every((h) => h.cutoff === result.cutoff),
      'one cutoff for the whole run',
    );
    assert.ok(Math.abs(Date.parse(result.cutoff) - (Date.now() - 90 * 86_400_000)) < 60_000);

    // The batches' session settings stay with the batches: every pooled connection is handed back as it was.
    const clients = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ s: string; i: string }>(
          `SELECT current_setting('synchronous_commit') AS s, current_setting('enable_indexscan') AS i`,
        );
        assert.deepEqual(rows[0], { s: 'on', i: 'on' });
      }
    } finally {
      clients.forEach((c) => c.release());
    }
  });

  it('ends at the newest row older than the cutoff instead of walking the recent rows above it', async () => {
    const fixture = await loadOptimizations(pool, 50_000);
    const { rows: bounds } = await pool.query<{ lo: string; newest_old: string; hi: string }>(
      `SELECT min(id) AS lo, max(id) FILTER (WHERE created_at < now() - interval '90 days') AS newest_old, max(id) AS hi
         FROM wedding_optimizations`,
    );
    const { lo, newest_old: newestOld, hi } = bounds[0];
    assert.ok(BigInt(hi) - BigInt(newestOld) > 10_000n, 'the fixture has plenty of recent rows');
    // The first two ranges (2000 keys each, one per connection) are held by a locked eligible row each, so the
    // answer about the newest old row is in before any range reaches the recent rows.
    const locker = await pool.connect();
    await locker.query('BEGIN');
    for (const from of [BigInt(lo), BigInt(lo) + 2000n]) {
      await locker.query(
        `SELECT id FROM wedding_optimizations WHERE id = (
            SELECT min(id) FROM wedding_optimizations
             WHERE id >= $1 AND status = 'completed' AND created_at < now() - interval '90 days') FOR UPDATE`,
        [from.toString()],
      );
    }
    const running = runRetention(new MockActivityEnvironment(), pool, {});
    try {
      await bothBatchesWaiting(locker);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const result = await running;

    assert.equal(result.deleted, fixture.eligible);
    assert.equal(result.complete, true);
    assert.equal(result.endKeyBounded, true);
    assert.equal(result.endKey, (BigInt(newestOld) + 1n).toString(), 'no range went past the newest old row');
    assert.equal(result.lastKey, result.endKey);
    assert.equal(await eligibleLeft(pool, result.cutoff), 0);
  });

  it('stops at a batch boundary before stopBy, then finishes from its checkpoint with the same cutoff', async () => {
    const fixture = await loadOptimizations(pool, 100_000);
    // Two rows locked, a sixth and a third of the way through the eligible rows, hold both connections' batches
    // until 2.5 s before stopBy: each held batch then took over 1.5 s, so another would overrun stopBy and the run
    // must stop. The release waits for both connections to be seen waiting, not for a fixed time, so a slow machine
    // cannot reach the locked rows after their release. Early in the table, because the range width doubles while
    // batches are quick: the ranges holding these rows end well before the last eligible row.
    // OFFSET sits in a subquery: FOR UPDATE would lock every row it skips.
    const locker = await pool.connect();
    await locker.query('BEGIN');
    for (const share of [1 / 6, 1 / 3]) {
      await locker.query(
        `SELECT id FROM wedding_optimizations WHERE id = (
            SELECT id FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'
             ORDER BY id OFFSET $1 LIMIT 1) FOR UPDATE`,
        [Math.floor(fixture.eligible * share)],
      );
    }
    const stopBy = new Date(Date.now() + 8000).toISOString();
    let checkpoint: RetentionProgress | undefined;
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: RetentionProgress) => (checkpoint = d));
    const running = runRetention(env, pool, { targetBatchMs: 5, stopBy });
    const released = (async () => {
      try {
        await bothBatchesWaiting(locker);
        await new Promise((r) => setTimeout(r, Date.parse(stopBy) - 2500 - Date.now()));
      } finally {
        await locker.query('ROLLBACK');
        locker.release();
      }
    })();
    const [partial] = await Promise.all([running, released]);

    assert.ok(Date.now() <= Date.parse(stopBy), 'returned before stopBy');
    assert.equal(partial.complete, false);
    assert.ok(BigInt(partial.lastKey) < BigInt(partial.endKey));
    assert.ok(partial.deleted > 0 && partial.deleted < fixture.eligible);
    assert.deepEqual(checkpoint?.lastKey, partial.lastKey);
    // Everything below lastKey is done; everything from it on is untouched.
    assert.equal(await eligibleLeft(pool, partial.cutoff), await eligibleLeft(pool, partial.cutoff, partial.lastKey));
    assert.equal(await eligibleLeft(pool, partial.cutoff, partial.lastKey), fixture.eligible - partial.deleted);

    const rest = await runRetention(new MockActivityEnvironment({ heartbeatDetails: checkpoint }), pool, {});
    assert.equal(rest.resumed, true);
    assert.equal(rest.resumedFromKey, partial.lastKey);
    assert.equal(rest.cutoff, partial.cutoff);
    assert.equal(rest.complete, true);
    assert.equal(rest.deleted, fixture.eligible);
    assert.equal(rest.batches, partial.batches + rest.batchesThisAttempt);
    assert.equal((await countOptimizations(pool)).total, fixture.total - fixture.eligible);
  });

  it('returns at once when stopBy has already passed', async () => {
    const fixture = await loadOptimizations(pool, 1000);
    const result = await runRetention(new MockActivityEnvironment(), pool, {
      stopBy: new Date(Date.now() - 1000).toISOString(),
    });
    assert.equal(result.complete, false);
    assert.equal(result.batches, 0);
    assert.equal((await countOptimizations(pool)).total, fixture.total);
  });

  it('stops when cancelled, leaving a checkpoint', async () => {
    await loadOptimizations(pool, 50_000);
    const env = new MockActivityEnvironment();
    let checkpoint: RetentionProgress | undefined;
    env.on('heartbeat', (d: RetentionProgress) => {
      checkpoint = d;
      if (d.batches === 2) env.cancel();
    });
    await assert.rejects(runRetention(env, pool, { targetBatchMs: 5 }), CancelledFailure);
    // No batch starts after the cancellation; the one still in flight on the other connection may finish.
    assert.ok(checkpoint && checkpoint.batches >= 2 && checkpoint.batches <= 3, `${checkpoint?.batches} batches`);
    assert.equal(
      await eligibleLeft(pool, checkpoint.cutoff, '0'),
      await eligibleLeft(pool, checkpoint.cutoff, checkpoint.lastKey),
    );
  });

  it('refuses bad input with a non-retryable InvalidInput naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ olderThanDays: 0 }, 'olderThanDays'],
      [{ olderThanDays: '90' }, 'olderThanDays'],
      [{ stopBy: 'sunday 4am' }, 'stopBy'],
      [{ stopBy: 1772424000000 }, 'stopBy'],
      [{ targetBatchMs: 500 }, 'targetBatchMs'],
      [{ table: 'users' }, 'table'],
      [[], 'input'],
    ];
    for (const [input, field] of cases) {
      await assert.rejects(
        runRetention(new MockActivityEnvironment(), pool, input),
        invalidInputNaming(field),
        JSON.stringify(input),
      );
    }
  });
});

describe('pruneOptimizations workflow', () => {
  let deps: OwnedDeps;
  before(async () => {
    deps = await testDeps({ DATABASE_URL: await testDatabase('aiops_test_retention_wf') });
  });
  after(() => deps?.close());

  it('deletes the eligible rows, then analyzes the three tables', { timeout: 120_000 }, async () => {
    const fixture = await loadOptimizations(deps.pool, 5000);
    const { rows: clock } = await deps.pool.query<{ now: Date }>('SELECT now()');
    await withTimeSkippingWorker(createActivities(deps), async ({ env, taskQueue }) => {
      const result = await env.client.workflow.execute(pruneOptimizations, {
        taskQueue,
        workflowId: uniqueId('prune'),
        args: [{}],
      });
      assert.equal(result.retention.deleted, fixture.eligible);
      assert.equal(result.retention.complete, true);
      assert.deepEqual(result.analyze?.tables, ['wedding_optimizations', 'ai_recommendations', 'ai_feedback']);
    });
    const { rows } = await deps.pool.query<{ relname: string; n_live_tup: string }>(
      `SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname = ANY($1) AND last_analyze >= $2`,
      [['wedding_optimizations', 'ai_recommendations', 'ai_feedback'], clock[0].now],
    );
    assert.equal(rows.length, 3, 'ANALYZE ran on all three (and was not skipped for lack of privilege)');
    assert.equal(
      Number(rows.find((r) => r.relname === 'wedding_optimizations')?.n_live_tup),
      fixture.total - fixture.eligible,
    );
  });

  it('skips ANALYZE when the delete stopped at stopBy', { timeout: 120_000 }, async () => {
    await loadOptimizations(deps.pool, 1000);
    await withTimeSkippingWorker(createActivities(deps), async ({ env, taskQueue }) => {
      const result = await env.client.workflow.execute(pruneOptimizations, {
        taskQueue,
        workflowId: uniqueId('prune'),
        args: [{ stopBy: new Date(Date.now() - 1000).toISOString() }],
      });
      assert.equal(result.retention.complete, false);
      assert.equal(result.analyze, undefined);
    });
  });
});
