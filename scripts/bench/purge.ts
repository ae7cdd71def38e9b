/**
 * `npm run bench -- purge`: seed 002's cache purge against ours on the same data in the same run.
 *
 *   baseline  redis-cli --scan --pattern "ai:*" | xargs -L 1000 redis-cli DEL   (the seed's command)
 *   ours      purgeCacheKeys (four SCAN lanes, COUNT 1000, each UNLINK pipelined behind its SCAN), called directly in a process of its own
 *
 * Data: N `ai:*` keys among N other keys (some of them near misses such as `cache:ai:…` and `ai-model:…`), in a
 * Redis DB index of the benchmark's own, emptied first. Counts that every `ai:*` key went and no other did.
 */
import { spawnSync } from 'node:child_process';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import { createRedisActivities, parseInfo } from '../../src/activities/redis';
import type { PurgeCacheResult } from '../../src/contracts/maintenance';
import { loadConfig } from '../../src/config';
import { LOCAL_PORTS } from '../lib/local-stack';
import { validatePurgeInput } from '../../src/contracts/maintenance';
import {
  exitFailed,
  flag,
  median,
  mib,
  printTable,
  progress,
  rssSampler,
  sum,
  timeShell,
  type RssSample,
} from './report';

const HELP = `Usage: npm run bench -- purge [--keys N] [--others N] [--db N] [--scan-count N] [--rounds N]

Defaults: 1,000,000 ai:* keys, 1,000,000 others, Redis DB 15 (emptied first), SCAN COUNT 1000, 5 rounds
(each: load, the seed's command, reload, ours); the table gives each side's median.
Needs the stack's Redis (npm run stack -- up) and redis-cli on PATH.
`;

const say = progress('purge');
const OTHER_SHAPES = [
  (i: number) => `user:${i}:profile`,
  (i: number) => `cache:ai:${i}`,
  (i: number) => `ai-model:${i}`,
  (i: number) => `session:${i}`,
];
const VALUE = 'x'.repeat(48);

function redisUrl(db: number): string {
  const url = new URL(loadConfig().redis.url);
  url.pathname = `/${db}`;
  return url.toString();
}

async function load(redis: Redis, count: number, name: (i: number) => string): Promise<void> {
  for (let i = 0; i < count; i += 20_000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(count, i + 20_000); j++) p.set(name(j), VALUE);
    await p.exec();
  }
}

async function countMatching(redis: Redis, pattern: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    n += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return n;
}

/** Redis's own CPU seconds so far (user + system, all its threads) and the append-only-file rewrites it has forked. */
async function redisWork(redis: Redis): Promise<{ cpu: number; rewrites: number }> {
  const cpu = parseInfo(await redis.info('cpu'));
  const persistence = parseInfo(await redis.info('persistence'));
  return { cpu: Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys), rewrites: Number(persistence.aof_rewrites ?? 0) };
}

async function workSince(
  redis: Redis,
  before: { cpu: number; rewrites: number },
): Promise<{ cpu: number; rewrites: number }> {
  const now = await redisWork(redis);
  return { cpu: now.cpu - before.cpu, rewrites: now.rewrites - before.rewrites };
}

async function persistenceBusy(redis: Redis): Promise<boolean> {
  const p = parseInfo(await redis.info('persistence'));
  return p.aof_rewrite_in_progress !== '0' || p.rdb_bgsave_in_progress !== '0' || p.aof_rewrite_scheduled !== '0';
}

/**
 * Starts a timed run on a quiet server with a freshly rewritten append-only file. Loading sets off rewrites whose
 * forked child takes a core; and Redis rewrites again once the file has doubled since the last rewrite, which the
 * deletes' own log records can tip over in the middle of one run and not the other. Rewriting first makes the
 * file's base the data as loaded, so neither run reaches that point.
 */
async function quiesce(redis: Redis): Promise<void> {
  const waitIdle = async () => {
    while (await persistenceBusy(redis)) await new Promise((r) => setTimeout(r, 100));
  };
  await waitIdle();
  if (parseInfo(await redis.info('persistence')).aof_enabled === '1') {
    await redis.bgrewriteaof();
    await waitIdle();
  }
}

const signedMib = (bytes: number) => `${bytes < 0 ? '-' : '+'}${mib(Math.abs(bytes))}`;

interface SideRun {
  ms: number;
  removed: number;
  maxRssBytes?: number;
  redis: { cpu: number; rewrites: number };
  matchingLeft: number;
  othersRemoved: number;
}

/** What a run left behind: `ai:*` keys it missed and other keys it removed (there were `others` of them). */
async function leftOver(redis: Redis, others: number): Promise<{ matchingLeft: number; othersRemoved: number }> {
  const matchingLeft = await countMatching(redis, 'ai:*');
  return { matchingLeft, othersRemoved: others - ((await redis.dbsize()) - matchingLeft) };
}

/** The JavaScript heap in use after a full collection: what the process still holds, garbage aside. */
function liveHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Child mode: the activity alone in a fresh process (run with --expose-gc), so its RSS is its own, and the heap
 * it still holds after the purge can be told apart from garbage. Prints one JSON line.
 */
async function runOurs(db: number, scanCount: number): Promise<void> {
  const redis = new Redis(redisUrl(db));
  await redis.ping();
  const heapBefore = liveHeap();
  const sampler = rssSampler();
  const t0 = performance.now();
  const result = (await new MockActivityEnvironment().run(createRedisActivities({ redis }).purgeCacheKeys, {
    pattern: 'ai:*',
    scanCount,
  })) as PurgeCacheResult;
  const ms = performance.now() - t0;
  const memory = sampler.stop();
  const heapRetained = liveHeap() - heapBefore;
  redis.disconnect();
  process.stdout.write(`${JSON.stringify({ ms, memory, heapRetained, result })}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const keys = flag('keys', 1_000_000);
  const others = flag('others', 1_000_000, 0);
  const db = flag('db', 15, 0);
  const scanCount = flag('scan-count', validatePurgeInput(undefined).scanCount);
  if (process.argv.includes('--ours')) return runOurs(db, scanCount);

  const rounds = flag('rounds', 5);
  const redis = new Redis(redisUrl(db));
  const cli = `redis-cli -h 127.0.0.1 -p ${LOCAL_PORTS.redis} -n ${db}`;
  const seedRuns: SideRun[] = [];
  const ourRuns: (SideRun & { memory: RssSample; heapRetained: number; result: PurgeCacheResult })[] = [];
  for (let round = 1; round <= rounds; round++) {
    await redis.flushdb();
    say(`round ${round}/${rounds}: loading ${keys} ai:* keys and ${others} others into DB ${db}`);
    await load(redis, others, (i) => OTHER_SHAPES[i % OTHER_SHAPES.length](i));
    await load(redis, keys, (i) => `ai:rec:${i}`);
    await quiesce(redis);
    say(`round ${round}/${rounds}: the seed command`);
    const seedStart = await redisWork(redis);
    const seed = await timeShell(`${cli} --scan --pattern 'ai:*' | xargs -L 1000 ${cli} DEL > /dev/null`);
    seedRuns.push({
      ms: seed.ms,
      removed: keys,
      maxRssBytes: seed.maxRssBytes,
      redis: await workSince(redis, seedStart),
      ...(await leftOver(redis, others)),
    });

    say(`round ${round}/${rounds}: reloading the ai:* keys; ours, in a process of its own`);
    await load(redis, keys, (i) => `ai:rec:${i}`);
    await quiesce(redis);
    const oursStart = await redisWork(redis);
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', __filename, '--ours', '--db', String(db), '--scan-count', String(scanCount)],
      {
        encoding: 'utf8',
      },
    );
    if (child.status !== 0) throw new Error(`ours failed: ${child.stderr}`);
    const ours = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      ms: number;
      memory: RssSample;
      heapRetained: number;
      result: PurgeCacheResult;
    };
    ourRuns.push({
      ...ours,
      removed: ours.result.removed,
      redis: await workSince(redis, oursStart),
      ...(await leftOver(redis, others)),
    });
  }
  await redis.flushdb();
  redis.disconnect();

  const rate = (r: SideRun) => r.removed / (r.ms / 1000);
  const seedMs = median(seedRuns.map((r) => r.ms));
  const oursMs = median(ourRuns.map((r) => r.ms));
  const seedCpu = median(seedRuns.map((r) => r.redis.cpu));
  const oursCpu = median(ourRuns.map((r) => r.redis.cpu));
  const worst = ourRuns.reduce((a, b) =>
    b.memory.peakRss - b.memory.startRss > a.memory.peakRss - a.memory.startRss ? b : a,
  );
  const seedRss = Math.max(...seedRuns.map((r) => r.maxRssBytes ?? 0));
  printTable([
    [
      '',
      'time (median)',
      'keys/s (median)',
      'Redis CPU (median)',
      'peak memory (largest round)',
      'ai:* left',
      'other keys removed',
    ],
    [
      'seed: redis-cli --scan \\| xargs -L 1000 redis-cli DEL',
      `${(seedMs / 1000).toFixed(2)} s`,
      median(seedRuns.map(rate)).toFixed(0),
      `${seedCpu.toFixed(2)} s`,
      seedRss ? `${mib(seedRss)} (largest process, max RSS)` : 'n/a',
      String(sum(seedRuns.map((r) => r.matchingLeft))),
      String(sum(seedRuns.map((r) => r.othersRemoved))),
    ],
    [
      `ours: purgeCacheKeys (${ourRuns[0].result.cursors.length} SCAN lanes, COUNT ${scanCount}, UNLINK behind each)`,
      `${(oursMs / 1000).toFixed(2)} s`,
      median(ourRuns.map(rate)).toFixed(0),
      `${oursCpu.toFixed(2)} s`,
      `${mib(worst.memory.peakRss)} peak RSS (+${mib(worst.memory.peakRss - worst.memory.startRss)}); ` +
        `heap held after it ${signedMib(Math.max(...ourRuns.map((r) => r.heapRetained)))}`,
      String(sum(ourRuns.map((r) => r.matchingLeft))),
      String(sum(ourRuns.map((r) => r.othersRemoved))),
    ],
    [
      'ratio (ours / seed)',
      `${(oursMs / seedMs).toFixed(2)}×`,
      `${(seedMs / oursMs).toFixed(2)}×`,
      `${(oursCpu / seedCpu).toFixed(2)}×`,
      '',
      '',
      '',
    ],
  ]);
  const perRound = seedRuns.map((seed, i) => `${(rate(ourRuns[i]) / rate(seed)).toFixed(2)}×`).join(', ');
  process.stdout.write(
    `\n${keys} ai:* keys among ${others} others, ${rounds} rounds (seed, then ours, on freshly loaded keys); ours/seed keys/s by round: ${perRound}. ` +
      `Ours: ${ourRuns[0].result.batches} SCAN batches a run. Append-only-file rewrites forked during the timed runs (each takes a core while it lasts): ` +
      `seed ${sum(seedRuns.map((r) => r.redis.rewrites))}, ours ${sum(ourRuns.map((r) => r.redis.rewrites))}. ` +
      `Targets: ≥ 4× the seed's keys/s, memory flat, 0 other keys removed.\n`,
  );
}

main().catch(exitFailed);
