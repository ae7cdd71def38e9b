/**
 * A dependency goes away in the middle of a step and comes back (a few seconds in `npm test`, 30 s or longer in
 * `npm run chaos`): Redis during the cache purge, PostgreSQL as a crisis starts, the notification service during
 * the couple notices. The worker reaches each through a proxy the test cuts, so the shared servers stay up for
 * the other test files. Counted: the work done once and only once, the run finished, how long after the
 * dependency's return it finished, and that the failing step said so (its attempts and last failure are visible).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import { purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  chaosSuite,
  countRun,
  outage,
  outageSeconds,
  resultWithin,
  serverCheckpoint,
  statusWhen,
  type ScenarioTally,
} from '../helpers/chaos';
import { startFaultProxy } from '../helpers/fault-proxy';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { CRISIS_PATHS, honourIdempotency, receiverEnv } from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

/** After the dependency is back: the activity's next retry (backoff capped at a minute) and the rest of the step. */
const AFTER_OUTAGE_MS = 180_000;
const DATABASE = 'aiops_test_chaos_outage';

describe('a dependency down in the middle of a step', () => {
  const outageMs = outageSeconds() * 1000;
  const timeout = outageMs + 2 * AFTER_OUTAGE_MS + 120_000;
  const suite = chaosSuite(DATABASE, { redisUrl: redisUrlFor(REDIS_DB.chaos) });
  const proxyFor = async (url: string) => suite.own(await startFaultProxy(Number(new URL(url).port)));
  /** Counts the run: finished (at `finishedAt`, measured from the dependency's return) or stuck. */
  const finish = (tally: ScenarioTally, handle: WorkflowHandle, finishedAt: number | undefined, backAt: number) =>
    countRun(
      tally,
      handle,
      finishedAt !== undefined,
      finishedAt === undefined ? undefined : (finishedAt - backAt) / 1000,
    );

  suite.scenario(
    'Redis down mid purge: the purge resumes once it is back and removes every matching key once',
    { row: `Redis down ${outageSeconds()} s: cache purge (20,000 keys)`, timeout },
    async (tally) => {
      const { deps } = suite;
      const proxy = await proxyFor(redisUrlFor(REDIS_DB.chaos));
      const run = uniqueId('o').slice(-12);
      const keys = 20_000;
      for (let j = 0; j < keys; j += 5000) {
        const p = deps.redis.pipeline();
        for (let k = j; k < j + 5000; k++) p.set(`ai:${run}:${k}`, 'v').set(`keep:${run}:${k}`, 'v');
        await p.exec();
      }
      const taskQueue = uniqueId('outage-purge');
      await suite.worker(taskQueue, { REDIS_URL: proxy.via(redisUrlFor(REDIS_DB.chaos)) });
      const handle = await suite.client.workflow.start(purgeCache, {
        taskQueue,
        workflowId: uniqueId('outage-purge'),
        args: [{ pattern: `ai:${run}:*`, scanCount: 20, unlinkBatch: 10 }],
      });
      await waitUntil(
        'the purge a third through',
        async () => ((await serverCheckpoint<PurgeProgress>(handle))?.removed ?? 0) >= keys / 3,
        Boolean,
        120_000,
      );
      const backAt = await outage(tally, proxy, handle, outageMs);
      const result = await resultWithin(handle, AFTER_OUTAGE_MS, tally.notes);
      await replayOwnHistory(handle);
      const left = { ai: 0, keep: 0 };
      for await (const found of deps.redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        for (const k of found as string[]) left[k.startsWith('ai:') ? 'ai' : 'keep'] += 1;
      }
      tally.lost += left.ai;
      tally.duplicated += keys - left.keep;
      await finish(tally, handle, result ? Date.now() : undefined, backAt);
      for await (const found of deps.redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        if ((found as string[]).length) await deps.redis.unlink(...(found as string[]));
      }
      assert.deepEqual(left, { ai: 0, keep: keys });
    },
  );

  suite.scenario(
    'PostgreSQL down as a crisis starts: the emergency alert still goes out, and every couple is told once it is back',
    { row: `PostgreSQL down ${outageSeconds()} s: crisis start (200 couples)`, timeout },
    async (tally) => {
      const { deps, receiver } = suite;
      const couples = 200;
      await deps.pool.query('DELETE FROM active_crises');
      await deps.pool.query(
        `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, $1) g`,
        [couples],
      );
      const ledger = honourIdempotency(receiver);
      const proxy = await proxyFor(suite.databaseUrl);
      const taskQueue = uniqueId('outage-crisis');
      await suite.worker(taskQueue, { DATABASE_URL: proxy.via(suite.databaseUrl) });
      proxy.cut();
      const before = receiver.requests.length;
      const input = { failure: uniqueId('outage') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const alerted = () => receiver.requests.slice(before).some((r) => r.path === CRISIS_PATHS.alert);
      // The alert needs no database: it must not wait for one.
      const alertWhileDown = await waitUntil('the emergency alert', alerted, Boolean, outageMs).catch(() => false);
      const backAt = await outage(tally, proxy, handle, outageMs);
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      tally.lost += couples - new Set(ledger.told).size;
      if (!alertWhileDown) tally.notes.push('the emergency alert waited for the database');
      await finish(tally, handle, status ? Date.now() : undefined, backAt);
      assert.equal(alertWhileDown, true, 'the emergency alert went out while the database was down');
      assert.equal(new Set(ledger.told).size, couples, 'every couple told');
    },
  );

  suite.scenario(
    'the notification service down mid notices: every couple told once after it is back',
    { row: `notification service down ${outageSeconds()} s: couple notices (1,500 couples)`, timeout },
    async (tally) => {
      const { deps, receiver } = suite;
      const couples = 1500;
      await deps.pool.query('DELETE FROM active_crises');
      await deps.pool.query(
        `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, $1) g`,
        [couples],
      );
      const ledger = honourIdempotency(receiver, 5);
      const proxy = await proxyFor(receiver.url('/'));
      const settings = Object.fromEntries(
        Object.entries(receiverEnv(receiver)).map(([k, v]) => [k, v && proxy.via(v)]),
      ) as NodeJS.ProcessEnv;
      const taskQueue = uniqueId('outage-notices');
      await suite.worker(taskQueue, settings);
      const input = { failure: uniqueId('outage') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      await waitUntil('a third of the couples told', () => ledger.told.length >= couples / 3, Boolean, 120_000);
      const backAt = await outage(tally, proxy, handle, outageMs);
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      const told = new Set(ledger.told);
      tally.lost += couples - told.size;
      await finish(tally, handle, status ? Date.now() : undefined, backAt);
      assert.equal(told.size, couples, 'every couple told');
      assert.ok(status, 'the crisis reached stage 2');
    },
  );
});
