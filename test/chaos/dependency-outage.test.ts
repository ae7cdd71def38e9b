/**
 * A dependency goes away in the middle of a step and comes back (a few seconds in `npm test`, 30 s or longer in
 * `npm run chaos`): Redis during the cache purge, PostgreSQL as a crisis starts, the notification service during
 * the couple notices. The worker reaches each through a proxy the test cuts, so the shared servers stay up for
 * the other test files. Counted: the work done once and only once, the run finished, how long after the
 * dependency's return it finished, and that the failing step said so (its attempts and last failure are visible).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import type { OwnedDeps } from '../../src/workers/deps';
import { purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  killHard,
  newTally,
  outageSeconds,
  recordTally,
  resultWithin,
  serverCheckpoint,
  pollingWorker,
  spawnKillableWorker,
  statusWhen,
  type ScenarioTally,
} from '../helpers/chaos';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import type { HttpReceiver } from '../helpers/http-receiver';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { CRISIS_PATHS, honourIdempotency, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { devServerEnv, replayOwnHistory, sealingClient, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the dependency is back: the activity's next retry (backoff capped at a minute) and the rest of the step. */
const AFTER_OUTAGE_MS = 180_000;

/** What the server shows of the step that is failing: its attempt count and last failure, the "saying so". */
async function failingStep(handle: WorkflowHandle): Promise<string | undefined> {
  const pending = (await handle.describe()).raw.pendingActivities ?? [];
  const failing = pending.find((a) => (a.attempt ?? 1) > 1 && a.lastFailure?.message);
  return failing
    ? `${failing.activityType?.name} attempt ${failing.attempt}: ${failing.lastFailure?.message?.slice(0, 80)}`
    : undefined;
}

describe('a dependency down in the middle of a step', () => {
  const outageMs = outageSeconds() * 1000;
  const timeout = outageMs + 2 * AFTER_OUTAGE_MS + 120_000;
  let env: TestWorkflowEnvironment;
  /** With the project's codec: the workers here are the real worker, which seals what it sends. */
  let client: Client;
  let deps: OwnedDeps;
  let databaseUrl: string;
  let receiver: HttpReceiver;
  const workers: ChildProcess[] = [];
  const proxies: FaultProxy[] = [];

  before(async () => {
    env = await devServerEnv();
    client = sealingClient(env);
    receiver = await startRunbookReceiver();
    databaseUrl = await testDatabase('aiops_test_chaos_outage');
    deps = await testDeps({
      ...receiverEnv(receiver),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrlFor(REDIS_DB.chaos),
    });
  });
  after(async () => {
    for (const w of workers) await killHard(w);
    for (const p of proxies) await p.close();
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  async function proxyFor(url: string): Promise<FaultProxy> {
    const proxy = await startFaultProxy(Number(new URL(url).port));
    proxies.push(proxy);
    return proxy;
  }

  async function worker(taskQueue: string, settings: NodeJS.ProcessEnv): Promise<ChildProcess> {
    const child = spawnKillableWorker({
      ...receiverEnv(receiver),
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrlFor(REDIS_DB.chaos),
      TEMPORAL_TASK_QUEUE: taskQueue,
      ...settings,
    });
    workers.push(child);
    return pollingWorker(env.client, taskQueue, child);
  }

  /** Cuts the proxy for the outage, noting what the failing step reported meanwhile; returns when it is back. */
  async function outage(tally: ScenarioTally, proxy: FaultProxy, handle: WorkflowHandle): Promise<number> {
    proxy.cut();
    const until = Date.now() + outageMs;
    let reported: string | undefined;
    while (Date.now() < until) {
      reported ??= await failingStep(handle);
      await sleep(250);
    }
    proxy.restore();
    tally.notes.push(reported ? `reported while down: ${reported}` : 'no failing step reported while down');
    return Date.now();
  }

  function finish(tally: ScenarioTally, finishedAt: number | undefined, backAt: number): void {
    tally.runs += 1;
    if (finishedAt === undefined) tally.stuck += 1;
    else {
      tally.completed += 1;
      tally.recoverySeconds.push((finishedAt - backAt) / 1000);
    }
    recordTally(tally);
  }

  it(
    'Redis down mid purge: the purge resumes once it is back and removes every matching key once',
    { timeout },
    async () => {
      const tally = newTally(`Redis down ${outageSeconds()} s: cache purge (20,000 keys)`);
      const proxy = await proxyFor(redisUrlFor(REDIS_DB.chaos));
      const run = uniqueId('o').slice(-12);
      const keys = 20_000;
      for (let j = 0; j < keys; j += 5000) {
        const p = deps.redis.pipeline();
        for (let k = j; k < j + 5000; k++) p.set(`ai:${run}:${k}`, 'v').set(`keep:${run}:${k}`, 'v');
        await p.exec();
      }
      const taskQueue = uniqueId('outage-purge');
      await worker(taskQueue, { REDIS_URL: proxy.via(redisUrlFor(REDIS_DB.chaos)) });
      const handle = await client.workflow.start(purgeCache, {
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
      const backAt = await outage(tally, proxy, handle);
      const result = await resultWithin(handle, AFTER_OUTAGE_MS, tally.notes);
      await replayOwnHistory(handle);
      const left = { ai: 0, keep: 0 };
      for await (const found of deps.redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        for (const k of found as string[]) left[k.startsWith('ai:') ? 'ai' : 'keep'] += 1;
      }
      tally.lost += left.ai;
      tally.duplicated += keys - left.keep;
      finish(tally, result ? Date.now() : undefined, backAt);
      for await (const found of deps.redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
        if ((found as string[]).length) await deps.redis.unlink(...(found as string[]));
      }
      assert.deepEqual({ left, completed: tally.completed }, { left: { ai: 0, keep: keys }, completed: 1 });
    },
  );

  it(
    'PostgreSQL down as a crisis starts: the emergency alert still goes out, and every couple is told once it is back',
    { timeout },
    async () => {
      const tally = newTally(`PostgreSQL down ${outageSeconds()} s: crisis start (200 couples)`);
      const couples = 200;
      await deps.pool.query('DELETE FROM active_crises');
      await deps.pool.query(
        `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, $1) g`,
        [couples],
      );
      const ledger = honourIdempotency(receiver);
      const proxy = await proxyFor(databaseUrl);
      const taskQueue = uniqueId('outage-crisis');
      await worker(taskQueue, { DATABASE_URL: proxy.via(databaseUrl) });
      proxy.cut();
      const before = receiver.requests.length;
      const input = { failure: uniqueId('outage') };
      const handle = await client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const alerted = () => receiver.requests.slice(before).some((r) => r.path === CRISIS_PATHS.alert);
      // The alert needs no database: it must not wait for one.
      const alertWhileDown = await waitUntil('the emergency alert', alerted, Boolean, outageMs).catch(() => false);
      const backAt = await outage(tally, proxy, handle);
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      tally.lost += couples - new Set(ledger.told).size;
      if (!alertWhileDown) tally.notes.push('the emergency alert waited for the database');
      finish(tally, status ? Date.now() : undefined, backAt);
      assert.equal(alertWhileDown, true, 'the emergency alert went out while the database was down');
      assert.equal(new Set(ledger.told).size, couples, 'every couple told');
    },
  );

  it('the notification service down mid notices: every couple told once after it is back', { timeout }, async () => {
    const tally = newTally(`notification service down ${outageSeconds()} s: couple notices (1,500 couples)`);
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
    await worker(taskQueue, settings);
    const input = { failure: uniqueId('outage') };
    const handle = await client.workflow.start(weddingDayCrisis, {
      taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
    });
    await waitUntil('a third of the couples told', () => ledger.told.length >= couples / 3, Boolean, 120_000);
    const backAt = await outage(tally, proxy, handle);
    const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
    await handle.terminate('chaos run measured').catch(() => undefined);
    await replayOwnHistory(handle);
    const told = new Set(ledger.told);
    tally.lost += couples - told.size;
    finish(tally, status ? Date.now() : undefined, backAt);
    assert.equal(told.size, couples, 'every couple told');
    assert.ok(status, 'the crisis reached stage 2');
  });
});
