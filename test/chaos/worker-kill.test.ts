/**
 * Worker SIGKILL at random points of the long steps: the cache purge, the retention delete and the crisis's couple
 * notifications. Each run kills the worker process at a random share of the step's progress, starts another, and
 * counts where the effects land (keys UNLINKed as Redis saw them, rows left in PostgreSQL, couples told at a
 * receiver that honours Idempotency-Key) against what one clean run does. Every run ends by replaying its history.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { PurgeProgress, RetentionProgress } from '../../src/contracts/maintenance';
import { pruneOptimizations, purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  chaosRuns,
  chaosSuite,
  couplesToldTwice,
  killAndResume,
  killPoints,
  loadCrisisCouples,
  loadPurgeKeys,
  removePurgeKeys,
  resultWithin,
  serverCheckpoint,
  statusWhen,
  tallyOptimizations,
  tallyPurgeKeys,
  watchUnlinks,
} from '../helpers/chaos';
import { loadOptimizations, REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { honourIdempotency } from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';

/** How long a run may take after the kill: the heartbeat timeout (30 s) plus the rest of the step, with room. */
const RECOVERY_DEADLINE_MS = 180_000;

describe('a worker SIGKILLed at random points of the long steps', () => {
  const runs = chaosRuns();
  const killPoint = killPoints();
  const suite = chaosSuite('aiops_test_chaos_kill', { redisUrl: redisUrlFor(REDIS_DB.chaos) });

  suite.scenario(
    'the cache purge removes every matching key once and no other key',
    { row: 'worker SIGKILL: cache purge (60,000 keys)', runs, timeout: runs * 300_000 },
    async (tally) => {
      const keys = 60_000;
      const redis = suite.deps.redis;
      const run = uniqueId('p').slice(-12);
      await loadPurgeKeys(redis, run, keys);
      const unlinks = await watchUnlinks(REDIS_DB.chaos, run);
      try {
        const taskQueue = uniqueId('chaos-purge');
        const first = await suite.worker(taskQueue);
        const handle = await suite.client.workflow.start(purgeCache, {
          taskQueue,
          workflowId: uniqueId('chaos-purge'),
          args: [{ pattern: `ai:${run}:*`, scanCount: 10, unlinkBatch: 10 }],
        });
        const share = killPoint();
        const result = await killAndResume(
          suite,
          tally,
          taskQueue,
          handle,
          first,
          async () => ((await serverCheckpoint<PurgeProgress>(handle))?.removed ?? 0) >= share * keys,
          () => resultWithin(handle, RECOVERY_DEADLINE_MS, tally.notes),
        );
        await replayOwnHistory(handle);
        // A key of another pattern removed, or a key unlinked a second time, is more than a clean run does.
        const left = await tallyPurgeKeys(tally, redis, run, keys, unlinks.repeated());
        assert.ok(result, 'the purge completed after the kill');
        assert.deepEqual(
          { left, unlinkedTwice: unlinks.repeated() },
          { left: { ai: 0, keep: keys }, unlinkedTwice: 0 },
          'every ai: key removed once, every other key kept',
        );
      } finally {
        unlinks.close();
        await removePurgeKeys(redis, run);
      }
    },
  );

  suite.scenario(
    'the retention delete removes exactly the eligible rows',
    { row: 'worker SIGKILL: retention delete (200,000 rows)', runs, timeout: runs * 300_000 },
    async (tally) => {
      const fixture = await loadOptimizations(suite.deps.pool, 200_000);
      const taskQueue = uniqueId('chaos-prune');
      const first = await suite.worker(taskQueue);
      const handle = await suite.client.workflow.start(pruneOptimizations, {
        taskQueue,
        workflowId: uniqueId('chaos-prune'),
        args: [{ targetBatchMs: 5 }],
      });
      const share = killPoint();
      const result = await killAndResume<Awaited<ReturnType<typeof pruneOptimizations>>>(
        suite,
        tally,
        taskQueue,
        handle,
        first,
        async () => ((await serverCheckpoint<RetentionProgress>(handle))?.deleted ?? 0) >= share * fixture.eligible,
        () => resultWithin(handle, RECOVERY_DEADLINE_MS, tally.notes),
      );
      await replayOwnHistory(handle);
      const end = await tallyOptimizations(tally, suite.deps.pool, fixture);
      assert.ok(result, 'the delete completed after the kill');
      assert.deepEqual(
        { eligibleLeft: end.eligible, othersKept: end.total, counted: result.retention.deleted },
        { eligibleLeft: 0, othersKept: fixture.total - fixture.eligible, counted: fixture.eligible },
        'exactly the eligible rows deleted, and counted once',
      );
    },
  );

  suite.scenario(
    'the crisis tells every couple once',
    { row: 'worker SIGKILL: crisis couple notices (1,500 couples)', runs, timeout: runs * 300_000 },
    async (tally) => {
      const couples = 1500;
      const { deps, receiver } = suite;
      await loadCrisisCouples(deps.pool, couples);
      receiver.requests.length = 0;
      const ledger = honourIdempotency(receiver, 5);
      const taskQueue = uniqueId('chaos-crisis');
      const first = await suite.worker(taskQueue);
      const input = { failure: uniqueId('chaos') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const share = killPoint();
      const status = await killAndResume(
        suite,
        tally,
        taskQueue,
        handle,
        first,
        async () => ledger.told.length >= share * couples,
        () =>
          statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', RECOVERY_DEADLINE_MS).then(
            async (done) => {
              if (done) return done;
              const s = await handle.query(crisisStatusQuery).catch(() => undefined);
              tally.notes.push(
                `stage ${s?.stage}, steps ${JSON.stringify(s?.steps)}, couples ${JSON.stringify(s?.couples)}`,
              );
              return undefined;
            },
          ),
      );
      // Stage 2 waits for a person to resolve the crisis; what is measured here is over.
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      const told = new Set(ledger.told).size;
      const toldTwice = couplesToldTwice(receiver);
      tally.lost += couples - told;
      tally.duplicated += toldTwice;
      if (ledger.repeats) tally.notes.push(`${ledger.repeats} repeated sends dropped by key`);
      if (status && status.stages.stage1.missedDeadline) tally.notes.push('stage 1 deadline missed');
      assert.ok(status, 'the crisis reached stage 2 after the kill');
      assert.deepEqual({ told, toldTwice }, { told: couples, toldTwice: 0 }, 'every couple told, none twice');
    },
  );
});
