/**
 * Issue 18: the cache purge on a worker cut off from the Temporal server past its heartbeat timeout, beside the
 * retention delete's scenario (worker-cutoff.test.ts). The first worker reaches the server through a fault proxy and
 * Redis through another, which can throttle it; the purge starts on it, is slowed a quarter of the way
 * through (the attempt goes on, heartbeating into the cut, as a partitioned worker does), and the server proxy is
 * cut. Once the server has timed the attempt out and a second worker (reaching both directly) has taken the retry,
 * the first worker's Redis runs at full speed again: both attempts could purge at once, the cut-off one unaware.
 * Counted where the effects land, by Redis's MONITOR, each UNLINK put down to the connection it came from (a script's
 * commands follow the EVALSHA that ran them): every `ai:` key gone, no `keep:` key removed, the workflow's count
 * equal to the keys there were, nothing unlinked by the cut-off worker once the retry began; one completion in
 * history, the second worker's, which the cut-off worker's late answer does not change; the history replays.
 * It found the cut-off attempt unlinking beside the retry and the count low by what it removed; every attempt now
 * takes the run's fence in Redis, and every batch checks it (src/activities/redis.ts).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe } from 'node:test';
import { Redis } from 'ioredis';
import { PURGE_RUN_PREFIX } from '../../src/activities/redis';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import { purgeCache } from '../../src/workflows';
import {
  assertRetryCompletedOnce,
  chaosRuns,
  chaosSuite,
  countRun,
  cutOffFromServer,
  cutOffWorkerSaid,
  HEARTBEATING_TIMEOUT_MS,
  killHard,
  loadPurgeKeys,
  removePurgeKeys,
  resultWithin,
  serverCheckpoint,
  tallyPurgeKeys,
  workerOutput,
} from '../helpers/chaos';
import { startFaultProxy } from '../helpers/fault-proxy';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const KEYS = 40_000;
const DEADLINE_MS = 120_000;
/** How long the throttled proxy holds each chunk the cut-off worker sends Redis. */
const SLOW_MS = 100;

type PurgeResult = Awaited<ReturnType<typeof purgeCache>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface UnlinksBySource {
  /** Keys of the run unlinked by the connections on `ports` at or after `since` (ms since the epoch). */
  by(ports: Set<number>, since: number): number;
  /** When a connection not on `ports` first SCANned for `pattern`: the retry's start, as Redis saw it. */
  firstScanOutside(ports: Set<number>, pattern: string): number | undefined;
  close(): void;
}

/**
 * Every UNLINK Redis executes on database `db` for the keys of `run`, with the time and the connection it came
 * from. A script's commands show in MONITOR as `lua`, right after the EVAL or EVALSHA that ran them (Redis 7).
 */
async function watchUnlinksBySource(db: number, run: string): Promise<UnlinksBySource> {
  const unlinks: { port: number; at: number; keys: number }[] = [];
  const scans: { port: number; at: number; pattern: string }[] = [];
  let scriptPort = 0;
  const base = new Redis(redisUrlFor(db));
  const monitor = await base.monitor();
  monitor.on('monitor', (time: string, args: string[], source: string, database: string) => {
    if (database !== String(db)) return;
    const command = args[0]?.toLowerCase();
    const port = source === 'lua' ? scriptPort : Number(source.split(':').pop());
    const at = Number(time) * 1000;
    if (command === 'eval' || command === 'evalsha') scriptPort = port;
    if (command === 'scan') scans.push({ port, at, pattern: args[3] ?? '' });
    if (command === 'unlink') {
      const keys = args.slice(1).filter((k) => k.includes(run)).length;
      if (keys) unlinks.push({ port, at, keys });
    }
  });
  return {
    by: (ports, since) => unlinks.filter((u) => ports.has(u.port) && u.at >= since).reduce((n, u) => n + u.keys, 0),
    firstScanOutside: (ports, pattern) => scans.find((s) => s.pattern === pattern && !ports.has(s.port))?.at,
    close() {
      monitor.disconnect();
      base.disconnect();
    },
  };
}

describe('a worker cut off from the server while its cache purge keeps running', () => {
  const runs = chaosRuns();
  const suite = chaosSuite('aiops_test_chaos_cutoff_purge', { redisUrl: redisUrlFor(REDIS_DB.chaos) });

  suite.scenario(
    'the cache purge removes every matching key, counts each once, and the cut-off attempt stops unlinking',
    {
      row: `worker cut off from Temporal past the heartbeat timeout: cache purge (${KEYS.toLocaleString('en')} keys)`,
      runs,
      timeout: runs * 300_000,
    },
    async (tally) => {
      const redis = suite.deps.redis;
      const run = uniqueId('pc').slice(-12);
      const pattern = `ai:${run}:*`;
      await loadPurgeKeys(redis, run, KEYS);
      const temporalPort = Number(suite.temporalAddress.split(':').pop());
      const proxy = suite.own(await startFaultProxy(temporalPort));
      const redisUrl = redisUrlFor(REDIS_DB.chaos);
      const slow = suite.own(await startFaultProxy(Number(new URL(redisUrl).port)));
      const unlinks = await watchUnlinksBySource(REDIS_DB.chaos, run);
      let cutOff: ChildProcess | undefined;
      let second: ChildProcess | undefined;
      try {
        const taskQueue = uniqueId('chaos-cutoff-purge');
        cutOff = await suite.worker(taskQueue, {
          TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
          REDIS_URL: slow.via(redisUrl),
        });
        const workflowId = uniqueId('chaos-cutoff-purge');
        const handle = await suite.client.workflow.start(purgeCache, {
          taskQueue,
          workflowId,
          args: [{ pattern, scanCount: 20, unlinkBatch: 20 }],
        });
        await waitUntil(
          'the purge a quarter through',
          () => serverCheckpoint<PurgeProgress>(handle),
          (cp) => (cp?.removed ?? 0) >= KEYS / 4,
          DEADLINE_MS,
        );
        // The first attempt goes on, slowly, heartbeating into the cut as a partitioned worker does.
        slow.throttle(SLOW_MS);
        await sleep(1000); // its last heartbeat before the cut reaches the server
        const checkpoint = await serverCheckpoint<PurgeProgress>(handle);

        const cut = cutOffFromServer(tally, suite.env, { proxy, worker: cutOff, taskQueue }, handle, 'purgeCacheKeys');
        second = await suite.worker(taskQueue);
        const retriedAt = await cut.retryStartedOn(second, DEADLINE_MS);
        // Both attempts at full speed from here.
        slow.throttle(0);

        const result = await resultWithin<PurgeResult>(handle, DEADLINE_MS, tally.notes);
        const completedAt = Date.now();
        const healed = await cut.heal(/not found|error while complet|error while fail/i);
        const stillCut = healed.cutMs;
        await countRun(tally, handle, result !== undefined, (completedAt - cut.cutAt) / 1000);
        await replayOwnHistory(handle);

        // A key of another pattern removed, or a key counted twice, is more than a clean run does.
        const left = await tallyPurgeKeys(tally, redis, run, KEYS, Math.max(0, (result?.removed ?? 0) - KEYS));
        // The retry's start as Redis saw it: the first SCAN of the pattern from another connection than the first
        // worker's.
        const retryBegan = unlinks.firstScanOutside(slow.upstreamPorts, pattern) ?? retriedAt;
        const cutOffBesideTheRetry = unlinks.by(slow.upstreamPorts, retryBegan);
        const runKeyLeft = await redis.exists(`${PURGE_RUN_PREFIX}${workflowId}/${handle.firstExecutionRunId}/1`);
        tally.notes.push(
          `after the retry began the cut-off attempt unlinked ${cutOffBesideTheRetry} keys; counted ${result?.removed ?? '-'} of ${KEYS}; cut ${(stillCut / 1000).toFixed(0)} s`,
        );
        const cutOffSaid = cutOffWorkerSaid(cutOff);
        if (cutOffSaid.length) tally.notes.push(`cut-off worker: ${cutOffSaid.slice(0, 3).join(' | ')}`);
        if (/a later attempt of this purge has taken over/.test(workerOutput(cutOff))) {
          tally.notes.push('the cut-off attempt stopped as superseded');
        }

        assert.ok(result, 'the workflow completed while the first worker was cut off');
        assert.ok(stillCut > HEARTBEATING_TIMEOUT_MS, `cut for ${stillCut} ms, past the heartbeat timeout`);
        assert.deepEqual(
          { left, counted: result.removed },
          { left: { ai: 0, keep: KEYS }, counted: KEYS },
          'every ai: key removed and counted once, every other key kept',
        );
        assert.equal(result.resumed, true, 'the retry resumed from the checkpoint');
        assert.deepEqual(result.resumedFrom, checkpoint?.cursors);
        assertRetryCompletedOnce(healed, second);
        // The defect this scenario found: the cut-off attempt went on unlinking beside the retry, and the count was
        // low by what it removed. The retry now takes the run's fence before it unlinks anything.
        assert.deepEqual(
          { cutOffUnlinkedBesideTheRetry: cutOffBesideTheRetry, runKeyLeft },
          { cutOffUnlinkedBesideTheRetry: 0, runKeyLeft: 0 },
          'the cut-off attempt unlinked nothing once the retry began, and the run left no key of its own',
        );
        assert.equal((await handle.describe()).status.name, 'COMPLETED');
      } finally {
        unlinks.close();
        slow.throttle(0);
        proxy.restore();
        for (const w of [cutOff, second]) if (w) await killHard(w);
        await removePurgeKeys(redis, run);
      }
    },
  );
});
