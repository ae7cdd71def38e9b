import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { Redis } from 'ioredis';
import { createActivities } from '../../src/activities';
import {
  couldMatchRunKeys,
  createRedisActivities,
  parseInfo,
  PURGE_RUN_PREFIX,
  purgeLanes,
} from '../../src/activities/redis';
import type { PurgeCacheResult, PurgeProgress } from '../../src/contracts/maintenance';
import type { OwnedDeps } from '../../src/workers/deps';
import { purgeCache } from '../../src/workflows';
import { validatePurgeInput, type PurgeCacheInput } from '../../src/contracts/maintenance';
import { testDeps } from '../helpers/deps';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { invalidInputNaming } from '../helpers/failures';
import { replayOwnHistory, uniqueId, withTimeSkippingWorker } from '../helpers/temporal';
import { startFaultProxy } from '../helpers/fault-proxy';
import { pagerDutyEvents, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';

/** Writes `count` string keys named `${prefix}${i}`, pipelined. */
async function writeKeys(redis: Redis, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 5000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(count, i + 5000); j++) p.set(`${prefix}${j}`, 'v');
    await p.exec();
  }
}

async function countMatching(redis: Redis, pattern: string): Promise<number> {
  let n = 0;
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) n += (keys as string[]).length;
  return n;
}

/** Runs the activity in an activity context of the test's own, where heartbeats and cancellation are visible. */
function runPurge(env: MockActivityEnvironment, redis: Redis, input: unknown): Promise<PurgeCacheResult> {
  const { purgeCacheKeys } = createRedisActivities({ redis });
  return env.run(purgeCacheKeys, input as PurgeCacheInput) as Promise<PurgeCacheResult>;
}

/**
 * An activity context for attempt `attempt` of the purge run `run` (its own workflow ID, as in production: the
 * purge counts and fences per run), resuming from `heartbeatDetails` when given.
 */
function purgeAttempt(run: string, attempt = 1, heartbeatDetails?: unknown): MockActivityEnvironment {
  return new MockActivityEnvironment({
    workflowExecution: { workflowId: `purge-${run}`, runId: run },
    activityId: '1',
    attempt,
    heartbeatDetails,
  });
}

describe('purgeCacheKeys', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(redisUrlFor(REDIS_DB.purge));
  });
  after(() => redis.disconnect());

  it('removes every key matching the pattern and not one other, whatever its type', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 12_000);
    await redis.hset(`ai:${run}:hash`, 'f', 'v');
    await redis.rpush(`ai:${run}:list`, 'a', 'b');
    // Near misses of the glob: a different case, separator or position of the prefix.
    const survivors = [`ai:${run}`, `ai-${run}:1`, `AI:${run}:1`, `xai:${run}:1`, `ai_${run}:1`, `cache:ai:${run}:1`];
    for (const k of survivors) await redis.set(k, 'keep');
    await writeKeys(redis, `session:${run}:`, 12_000);

    const heartbeats: PurgeProgress[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: PurgeProgress) => heartbeats.push(d));
    const result = await runPurge(env, redis, { pattern, scanCount: 500, unlinkBatch: 100 });

    assert.equal(result.removed, 12_002);
    assert.equal(await countMatching(redis, pattern), 0);
    assert.equal(await redis.exists(...survivors), survivors.length);
    assert.equal(await countMatching(redis, `session:${run}:*`), 12_000);
    assert.equal(result.resumed, false);
    assert.deepEqual(result.cursors, [null, null, null, null], 'four lanes, each through');
    assert.ok(result.batches > 10, `${result.batches} batches for 24k keys at COUNT 500`);
    assert.equal(result.batchesThisAttempt, result.batches);
    assert.equal(heartbeats.length, result.batches);
    assert.deepEqual(heartbeats.at(-1), {
      cursors: [null, null, null, null],
      scanned: result.scanned,
      removed: 12_002,
      batches: result.batches,
    });
    await redis.unlink(...survivors);
    for await (const keys of redis.scanStream({ match: `session:${run}:*`, count: 1000 })) {
      if ((keys as string[]).length) await redis.unlink(...(keys as string[]));
    }
  });

  it('stops when cancelled and resumes from the heartbeated cursor, not from the start', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 20_000);

    const first = purgeAttempt(run);
    let checkpoint: PurgeProgress | undefined;
    first.on('heartbeat', (d: PurgeProgress) => {
      checkpoint = d;
      if (d.batches === 5) first.cancel();
    });
    await assert.rejects(runPurge(first, redis, { pattern, scanCount: 200 }), CancelledFailure);
    assert.ok(checkpoint && checkpoint.batches >= 5 && checkpoint.cursors.some((c) => c !== null));
    assert.equal(await countMatching(redis, pattern), 20_000 - checkpoint.removed);

    const second = purgeAttempt(run, 2, checkpoint);
    const result = await runPurge(second, redis, { pattern, scanCount: 200 });
    assert.equal(result.resumed, true);
    assert.deepEqual(result.resumedFrom, checkpoint.cursors);
    assert.equal(result.removed, 20_000);
    assert.equal(result.batches, checkpoint.batches + result.batchesThisAttempt);
    assert.equal(await countMatching(redis, pattern), 0);
  });

  it('splits the SCAN into four lanes that between them miss no key while the key table grows under them', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 30_000);
    // The purge's own SCANs (COUNT 50) as the server ran them; the table is rehashed to a larger size meanwhile.
    const scans: string[] = [];
    const counting = redis.duplicate();
    const writer = redis.duplicate();
    try {
      const monitor = await counting.monitor();
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'scan' && args[3] === pattern && args[5] === '50') scans.push(args[1]);
      });
      const purge = runPurge(new MockActivityEnvironment(), redis, { pattern, scanCount: 50 });
      await writeKeys(writer, `grow:${run}:`, 200_000);
      const result = await purge;
      // MONITOR's lines trail the commands they report.
      for (let i = 0; i < 100 && scans.length < result.batches; i++) await new Promise((r) => setTimeout(r, 20));
      monitor.disconnect();

      assert.equal(result.removed, 30_000);
      assert.equal(await countMatching(redis, pattern), 0);
      assert.equal(await countMatching(writer, `grow:${run}:*`), 200_000);
      assert.deepEqual(scans.slice(0, 4).sort(), ['0', '1', '2', '3'], 'each lane starts at its own cursor');
      assert.equal(scans.length, result.batches);
    } finally {
      for await (const keys of writer.scanStream({ match: `grow:${run}:*`, count: 5000 })) {
        if ((keys as string[]).length) await writer.unlink(...(keys as string[]));
      }
      writer.disconnect();
      counting.disconnect();
    }
  });

  it('resumes a single-cursor checkpoint as one lane to the end of the table', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 5000);
    // What a purge that walked one cursor heartbeated: some batches unlinked, the cursor where it stopped.
    let cursor = '0';
    let removed = 0;
    for (let batch = 0; batch < 3; batch++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
      if (keys.length) removed += await redis.unlink(...keys);
      cursor = next;
    }
    assert.notEqual(cursor, '0');
    const env = purgeAttempt(run, 2, { cursor, scanned: removed, removed, batches: 3 });
    const result = await runPurge(env, redis, { pattern, scanCount: 200 });
    assert.equal(result.resumed, true);
    assert.deepEqual(result.resumedFrom, [cursor]);
    assert.deepEqual(result.cursors, [null]);
    assert.equal(result.removed, 5000);
    assert.equal(await countMatching(redis, pattern), 0);
  });

  it('stops an earlier attempt once a later one starts, and counts every key once across both', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 20_000);
    // Each attempt on a connection of its own, as on two workers: the first goes on after the retry has started.
    const firstRedis = redis.duplicate();
    const secondRedis = redis.duplicate();
    try {
      const first = purgeAttempt(run);
      let retry: Promise<PurgeCacheResult> | undefined;
      first.on('heartbeat', (d: PurgeProgress) => {
        if (!retry && d.batches === 5)
          retry = runPurge(purgeAttempt(run, 2, d), secondRedis, { pattern, scanCount: 100 });
      });
      const firstOutcome = await runPurge(first, firstRedis, { pattern, scanCount: 100 }).then(
        () => 'completed',
        (err: unknown) => (err instanceof ApplicationFailure ? err.type : String(err)),
      );
      assert.ok(retry, 'the retry started');
      const result = await retry;
      assert.equal(firstOutcome, 'Superseded', 'the first attempt stopped as superseded');
      assert.equal(result.resumed, true);
      assert.equal(result.removed, 20_000, 'every key counted once, whichever attempt removed it');
      assert.equal(await countMatching(redis, pattern), 0);
      assert.equal(await redis.exists(`${PURGE_RUN_PREFIX}purge-${run}/${run}/1`), 0, 'the run left no key');
    } finally {
      firstRedis.disconnect();
      secondRedis.disconnect();
    }
  });

  it("never removes a purge run's own keys, even with a pattern that matches them", async () => {
    const run = randomUUID().slice(0, 8);
    await writeKeys(redis, `aiops:${run}:`, 300);
    // Another run's fence and count, as a purge running beside this one holds them.
    const other = `${PURGE_RUN_PREFIX}other-${run}`;
    await redis.hset(other, 'fence', '1', 'removed', '7');
    try {
      const result = await runPurge(purgeAttempt(run), redis, { pattern: 'aiops:*', scanCount: 100 });
      assert.equal(await countMatching(redis, `aiops:${run}:*`), 0);
      assert.equal(result.removed, 300);
      assert.deepEqual(await redis.hgetall(other), { fence: '1', removed: '7' });
      assert.equal(await redis.exists(`${PURGE_RUN_PREFIX}purge-${run}/${run}/1`), 0, 'its own, once through');
    } finally {
      await redis.unlink(other);
    }
    assert.deepEqual(
      ['ai:*', 'cache:*', 'aiops:*', 'a*', '*', '[a]*', 'aiops:purge:x', 'ai\\:*'].map(couldMatchRunKeys),
      [false, false, true, true, true, true, true, true],
    );
  });

  it('runs one lane for a Redis user that may not call INFO', async () => {
    const run = randomUUID().slice(0, 8);
    const pattern = `ai:${run}:*`;
    await writeKeys(redis, `ai:${run}:`, 3000);
    const user = `purge-${run}`;
    await redis.call('ACL', 'SETUSER', user, 'on', `>${run}`, '~*', '&*', '+@all', '-info');
    const limited = new Redis(redisUrlFor(REDIS_DB.purge), { username: user, password: run, enableReadyCheck: false });
    try {
      await assert.rejects(limited.info('server'), /NOPERM/);
      const result = await runPurge(new MockActivityEnvironment(), limited, { pattern, scanCount: 200 });
      assert.deepEqual(result.cursors, [null]);
      assert.equal(result.removed, 3000);
      assert.equal(await countMatching(redis, pattern), 0);
    } finally {
      limited.disconnect();
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  it("uses lanes only on a server whose cursor layout is Redis's own", () => {
    const info = (text: string) => parseInfo(text.replace(/ /g, '\r\n'));
    assert.equal(purgeLanes(info('# Server redis_version:7.0.15 redis_mode:standalone gcc_version:12.2.0')), 4);
    assert.equal(purgeLanes(info('# Server redis_version:7.4.1 redis_mode:cluster')), 1);
    assert.equal(
      purgeLanes(info('# Server redis_version:7.2.4 server_name:valkey valkey_version:8.1.0 redis_mode:standalone')),
      1,
    );
    assert.equal(
      purgeLanes(info('# Server redis_version:7.4.0 dragonfly_version:df-v1.25.0 redis_mode:standalone')),
      1,
    );
    assert.equal(purgeLanes(info('# Server redis_version:6.2.6 redis_mode:sentinel')), 1);
  });

  it('refuses bad input with a non-retryable InvalidInput naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ pattern: '*' }, 'pattern'],
      [{ pattern: '[a-z]*' }, 'pattern'],
      [{ pattern: '' }, 'pattern'],
      [{ pattern: 'ai: *' }, 'pattern'],
      [{ scanCount: 0 }, 'scanCount'],
      [{ unlinkBatch: 1.5 }, 'unlinkBatch'],
      [{ allowUnprefixed: 'yes' }, 'allowUnprefixed'],
      [{ patern: 'ai:*' }, 'patern'],
      ['ai:*', 'input'],
    ];
    for (const [input, field] of cases) {
      await assert.rejects(
        runPurge(new MockActivityEnvironment(), redis, input),
        invalidInputNaming(field),
        JSON.stringify(input),
      );
    }
    assert.equal(validatePurgeInput({ pattern: '*', allowUnprefixed: true }).pattern, '*');
    assert.deepEqual(validatePurgeInput(undefined), {
      pattern: 'ai:*',
      scanCount: 1000,
      unlinkBatch: 1000,
      allowUnprefixed: false,
    });
  });
});

describe('purgeCache workflow', () => {
  let deps: OwnedDeps;
  before(async () => {
    deps = await testDeps({ REDIS_URL: redisUrlFor(REDIS_DB.purge) });
  });
  after(() => deps?.close());

  it('purges the default ai:* pattern and returns the counts', { timeout: 120_000 }, async () => {
    await writeKeys(deps.redis, `ai:${randomUUID().slice(0, 8)}:`, 3000);
    const other = `other:${randomUUID().slice(0, 8)}:`;
    await writeKeys(deps.redis, other, 1000);
    // Leftovers of an earlier interrupted run in this DB count too: the purge removes every ai:* key.
    const present = await countMatching(deps.redis, 'ai:*');
    await withTimeSkippingWorker(createActivities(deps), async ({ env, taskQueue }) => {
      const result = await env.client.workflow.execute(purgeCache, {
        taskQueue,
        workflowId: uniqueId('purge'),
        args: [{}],
      });
      assert.equal(result.pattern, 'ai:*');
      assert.equal(result.removed, present);
    });
    assert.equal(await countMatching(deps.redis, 'ai:*'), 0);
    assert.equal(await countMatching(deps.redis, `${other}*`), 1000);
    await deps.redis.unlink(...Array.from({ length: 1000 }, (_, i) => `${other}${i}`));
  });

  it('fails at once on a pattern that could match every key, before touching Redis', { timeout: 120_000 }, async () => {
    const canary = `canary:${randomUUID()}`;
    await deps.redis.set(canary, '1');
    await withTimeSkippingWorker(createActivities(deps), async ({ env, taskQueue }) => {
      const err = await env.client.workflow
        .execute(purgeCache, { taskQueue, workflowId: uniqueId('purge'), args: [{ pattern: '*' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidInput', String(err.cause));
      assert.match(err.cause.message, /^pattern: /);
    });
    assert.equal(await deps.redis.exists(canary), 1);
    await deps.redis.unlink(canary);
  });

  it(
    'pages the platform on-call once Redis has stayed down past every retry, and no one for a refused input',
    // 20 attempts: the retries' quarter of an hour is skipped, but each attempt still takes seconds of the server's.
    { timeout: 420_000 },
    async () => {
      const receiver = await startRunbookReceiver();
      // Redis through a proxy that is cut: every attempt's connection is refused, as with Redis down.
      const proxy = await startFaultProxy(Number(new URL(redisUrlFor(REDIS_DB.purge)).port));
      proxy.cut();
      const down = await testDeps({ REDIS_URL: proxy.via(redisUrlFor(REDIS_DB.purge)), ...receiverEnv(receiver) });
      try {
        await withTimeSkippingWorker(createActivities(down), async ({ env, taskQueue }) => {
          const workflowId = uniqueId('purge-down');
          const err = await env.client.workflow.execute(purgeCache, { taskQueue, workflowId, args: [{}] }).then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err instanceof WorkflowFailedError, String(err));
          const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
          // A retried activity's one started event carries the attempt it ended on.
          const events = history.events ?? [];
          const purge = events.find(
            (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeCacheKeys',
          );
          const started = events.find(
            (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(purge?.eventId),
          );
          assert.equal(started?.activityTaskStartedEventAttributes?.attempt, 20);
          const triggers = pagerDutyEvents(receiver).filter((e) => e.event_action === 'trigger');
          assert.equal(triggers.length, 1, JSON.stringify(triggers));
          assert.match(
            triggers[0].payload!.summary,
            new RegExp(`\\[cache-purge\\] failed: UpstreamUnavailable: .*${workflowId}`),
          );
          await replayOwnHistory(env.client.workflow.getHandle(workflowId));

          const before = receiver.requests.length;
          await assert.rejects(
            env.client.workflow.execute(purgeCache, {
              taskQueue,
              workflowId: uniqueId('purge'),
              args: [{ pattern: '*' }],
            }),
            WorkflowFailedError,
          );
          assert.equal(receiver.requests.length, before, 'a refused input pages no one');
        });
      } finally {
        await down.close();
        await proxy.close();
        await receiver.stop();
      }
    },
  );
});
