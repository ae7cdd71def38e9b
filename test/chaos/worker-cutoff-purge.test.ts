/**
 * Issue 18: the cache purge on a worker cut off from the Temporal server past its heartbeat timeout, beside the
 * retention delete's scenario (worker-cutoff.test.ts). The first worker reaches the server through a fault proxy and
 * Redis through a proxy of this file's that can slow it; the purge starts on it, is slowed a quarter of the way
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
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe } from 'node:test';
import { Redis } from 'ioredis';
import { PURGE_RUN_PREFIX } from '../../src/activities/redis';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import { purgeCache } from '../../src/workflows';
import {
  activityOutcome,
  chaosRuns,
  chaosSuite,
  countRun,
  killHard,
  loadPurgeKeys,
  pendingAttempt,
  pollingWorker,
  purgeKeysLeft,
  removePurgeKeys,
  resultWithin,
  serverCheckpoint,
  workerOutput,
} from '../helpers/chaos';
import { startFaultProxy } from '../helpers/fault-proxy';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

/** The purge's heartbeat timeout (src/workflows/policies.ts, `heartbeating`). */
const HEARTBEAT_TIMEOUT_MS = 30_000;
const KEYS = 40_000;
const DEADLINE_MS = 120_000;
/** How long the slowed proxy holds each chunk the cut-off worker sends Redis. */
const SLOW_MS = 100;
/** TIMEOUT_TYPE_HEARTBEAT in temporal.api.enums.v1.TimeoutType. */
const HEARTBEAT_TIMEOUT_TYPE = 4;
/** PENDING_ACTIVITY_STATE_STARTED in temporal.api.enums.v1.PendingActivityState. */
const STARTED = 2;

type PurgeResult = Awaited<ReturnType<typeof purgeCache>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SlowProxy {
  port: number;
  /** The local ports of its connections to Redis: how MONITOR names the worker behind it. */
  upstreamPorts: Set<number>;
  /** Holds each chunk the client sends for `ms` (one after another), or, with 0, passes them on at once. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of Redis that can slow what its clients send (replies pass at once). */
async function startSlowProxy(upstreamPort: number): Promise<SlowProxy> {
  const open = new Set<Socket>();
  const upstreamPorts = new Set<number>();
  let delayMs = 0;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ port: upstreamPort, host: '127.0.0.1' }, () => {
      upstreamPorts.add(upstream.localPort!);
    });
    const pending: Buffer[] = [];
    let pumping = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (pending.length && !upstream.destroyed) {
        if (delayMs > 0) await sleep(delayMs);
        upstream.write(pending.shift()!);
      }
      pumping = false;
    };
    client.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      void pump();
    });
    upstream.pipe(client);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    upstreamPorts,
    delay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

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
      const redisUrl = new URL(redisUrlFor(REDIS_DB.chaos));
      const slow = suite.own(await startSlowProxy(Number(redisUrl.port)));
      const unlinks = await watchUnlinksBySource(REDIS_DB.chaos, run);
      let cutOff: ChildProcess | undefined;
      let second: ChildProcess | undefined;
      try {
        const taskQueue = uniqueId('chaos-cutoff-purge');
        const viaSlow = new URL(redisUrl);
        viaSlow.hostname = '127.0.0.1';
        viaSlow.port = String(slow.port);
        cutOff = await suite.worker(taskQueue, {
          TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
          REDIS_URL: viaSlow.toString(),
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
        slow.delay(SLOW_MS);
        await sleep(1000); // its last heartbeat before the cut reaches the server
        const checkpoint = await serverCheckpoint<PurgeProgress>(handle);

        proxy.cut();
        const cutAt = Date.now();
        second = await suite.worker(taskQueue);
        const secondPid = second.pid;
        const retry = await waitUntil(
          'the retry started on the second worker',
          () => pendingAttempt(handle, 'purgeCacheKeys'),
          (a) => (a?.attempt ?? 1) >= 2 && a?.state === STARTED && !!a.lastWorkerIdentity?.startsWith(`${secondPid}@`),
          HEARTBEAT_TIMEOUT_MS + DEADLINE_MS,
        );
        // Both attempts at full speed from here.
        slow.delay(0);
        const retriedAt = Date.now();
        tally.notes.push(
          `retry on the second worker ${((retriedAt - cutAt) / 1000).toFixed(1)} s into the cut, after "${retry?.lastFailure?.message?.slice(0, 60)}"`,
        );

        const result = await resultWithin<PurgeResult>(handle, DEADLINE_MS, tally.notes);
        const completedAt = Date.now();
        const closed = await activityOutcome(handle, 'purgeCacheKeys');
        // The cut outlasts the heartbeat timeout with room, the workflow's end or not.
        await sleep(Math.max(0, cutAt + HEARTBEAT_TIMEOUT_MS + 5_000 - Date.now()));
        const stillCut = Date.now() - cutAt;
        proxy.restore();
        await pollingWorker(suite.env.client, taskQueue, cutOff);
        const cutOffSaid = () => [
          ...new Set(
            workerOutput(cutOff!)
              .replace(/\x1b\[[0-9;]*m/g, '')
              .split('\n')
              .filter((l) => /WARN|ERROR/.test(l) && /heartbeat|complet|not found|failed/i.test(l) && !/poll_/.test(l))
              .map((l) => l.replace(/^\S*\d\dZ\s+/, '').slice(0, 120)),
          ),
        ];
        await waitUntil(
          "the cut-off worker's late answer",
          cutOffSaid,
          (said) => said.some((l) => /not found|error while complet|error while fail/i.test(l)),
          15_000,
        ).catch(() => tally.notes.push('the cut-off worker said nothing of a late answer'));
        const afterHeal = await activityOutcome(handle, 'purgeCacheKeys');
        await countRun(tally, handle, result !== undefined, (completedAt - cutAt) / 1000);
        await replayOwnHistory(handle);

        const left = await purgeKeysLeft(redis, run);
        // The retry's start as Redis saw it: the first SCAN of the pattern from another connection than the first
        // worker's.
        const retryBegan = unlinks.firstScanOutside(slow.upstreamPorts, pattern) ?? retriedAt;
        const cutOffBesideTheRetry = unlinks.by(slow.upstreamPorts, retryBegan);
        const runKeyLeft = await redis.exists(`${PURGE_RUN_PREFIX}${workflowId}/${handle.firstExecutionRunId}/1`);
        tally.lost += left.ai;
        // A key of another pattern removed, or a key counted twice, is more than a clean run does.
        tally.duplicated += KEYS - left.keep + Math.max(0, (result?.removed ?? 0) - KEYS);
        tally.notes.push(
          `after the retry began the cut-off attempt unlinked ${cutOffBesideTheRetry} keys; counted ${result?.removed ?? '-'} of ${KEYS}; cut ${(stillCut / 1000).toFixed(0)} s`,
        );
        if (cutOffSaid().length) tally.notes.push(`cut-off worker: ${cutOffSaid().slice(0, 3).join(' | ')}`);
        if (/a later attempt of this purge has taken over/.test(workerOutput(cutOff))) {
          tally.notes.push('the cut-off attempt stopped as superseded');
        }

        assert.ok(result, 'the workflow completed while the first worker was cut off');
        assert.ok(stillCut > HEARTBEAT_TIMEOUT_MS, `cut for ${stillCut} ms, past the heartbeat timeout`);
        assert.deepEqual(
          { left, counted: result.removed },
          { left: { ai: 0, keep: KEYS }, counted: KEYS },
          'every ai: key removed and counted once, every other key kept',
        );
        assert.equal(result.resumed, true, 'the retry resumed from the checkpoint');
        assert.deepEqual(result.resumedFrom, checkpoint?.cursors);
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
        slow.delay(0);
        proxy.restore();
        for (const w of [cutOff, second]) if (w) await killHard(w);
        await removePurgeKeys(redis, run);
      }
    },
  );
});
