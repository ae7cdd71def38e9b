/**
 * `npm run bench -- purge`: seed 002's cache purge against ours on the same data in the same run.
 *
 *   baseline  redis-cli --scan --pattern "ai:*" | xargs -L 1000 redis-cli DEL   (the seed's command)
 *   ours      purgeCacheKeys (SCAN COUNT 5000 + pipelined UNLINK), called directly in a process of its own
 *
 * Data: N `ai:*` keys among N other keys (some of them near misses such as `cache:ai:…` and `ai-model:…`), in a
 * Redis DB index of the benchmark's own, emptied first. Counts that every `ai:*` key went and no other did.
 */
import { spawnSync } from 'node:child_process';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import { createRedisActivities, parseInfo, type PurgeCacheResult } from '../../src/activities/redis';
import { LOCAL_PORTS, loadConfig } from '../../src/config';
import { flag, mib, printTable, progress, rssSampler, timeShell, type RssSample } from './report';

const HELP = `Usage: npm run bench -- purge [--keys N] [--others N] [--db N] [--scan-count N]

Defaults: 1,000,000 ai:* keys, 1,000,000 others, Redis DB 15 (emptied first), SCAN COUNT 5000.
Needs the stack's Redis (npm run stack -- up) and redis-cli on PATH.
`;

const say = progress('purge');
const OTHER_SHAPES = [(i: number) => `user:${i}:profile`, (i: number) => `cache:ai:${i}`, (i: number) => `ai-model:${i}`, (i: number) => `session:${i}`];
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

async function workSince(redis: Redis, before: { cpu: number; rewrites: number }): Promise<{ cpu: number; rewrites: number }> {
  const now = await redisWork(redis);
  return { cpu: now.cpu - before.cpu, rewrites: now.rewrites - before.rewrites };
}

/**
 * Waits out an append-only-file rewrite or snapshot the loading set off: its forked child would take a core from
 * whichever run happened to overlap it, and both runs must start on the same quiet server.
 */
async function quiesce(redis: Redis): Promise<void> {
  for (;;) {
    const p = parseInfo(await redis.info('persistence'));
    if (p.aof_rewrite_in_progress === '0' && p.rdb_bgsave_in_progress === '0' && p.aof_rewrite_scheduled === '0') return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Child mode: the activity alone in a fresh process, so its RSS is its own. Prints one JSON line. */
async function runOurs(db: number, scanCount: number): Promise<void> {
  const redis = new Redis(redisUrl(db));
  await redis.ping();
  const sampler = rssSampler();
  const t0 = performance.now();
  const result = (await new MockActivityEnvironment().run(createRedisActivities({ redis }).purgeCacheKeys, {
    pattern: 'ai:*',
    scanCount,
  })) as PurgeCacheResult;
  const ms = performance.now() - t0;
  const memory = sampler.stop();
  redis.disconnect();
  process.stdout.write(`${JSON.stringify({ ms, memory, result })}\n`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const keys = flag('keys', 1_000_000);
  const others = flag('others', 1_000_000, 0);
  const db = flag('db', 15, 0);
  const scanCount = flag('scan-count', 5000);
  if (process.argv.includes('--ours')) return runOurs(db, scanCount);

  const redis = new Redis(redisUrl(db));
  await redis.flushdb();
  say(`loading ${keys} ai:* keys and ${others} others into DB ${db}`);
  await load(redis, others, (i) => OTHER_SHAPES[i % OTHER_SHAPES.length](i));
  await load(redis, keys, (i) => `ai:rec:${i}`);

  await quiesce(redis);
  say('baseline: the seed command');
  const cli = `redis-cli -h 127.0.0.1 -p ${LOCAL_PORTS.redis} -n ${db}`;
  const baselineStart = await redisWork(redis);
  const baseline = await timeShell(`${cli} --scan --pattern 'ai:*' | xargs -L 1000 ${cli} DEL > /dev/null`);
  const baselineRedis = await workSince(redis, baselineStart);
  const baselineLeft = await countMatching(redis, 'ai:*');
  const baselineOthers = (await redis.dbsize()) - baselineLeft;

  say('reloading the ai:* keys; ours: purgeCacheKeys in a process of its own');
  await load(redis, keys, (i) => `ai:rec:${i}`);
  await quiesce(redis);
  const oursStart = await redisWork(redis);
  const child = spawnSync(process.execPath, [__filename, '--ours', '--db', String(db), '--scan-count', String(scanCount)], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`ours failed: ${child.stderr}`);
  const ours = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { ms: number; memory: RssSample; result: PurgeCacheResult };
  const oursRedis = await workSince(redis, oursStart);
  const oursLeft = await countMatching(redis, 'ai:*');
  const oursOthers = (await redis.dbsize()) - oursLeft;
  await redis.flushdb();
  redis.disconnect();

  const baseRate = keys / (baseline.ms / 1000);
  const ourRate = ours.result.removed / (ours.ms / 1000);
  printTable([
    ['', 'time', 'keys/s', 'Redis CPU', 'peak memory', 'ai:* left', 'other keys removed'],
    [
      'seed: redis-cli --scan \\| xargs -L 1000 redis-cli DEL',
      `${(baseline.ms / 1000).toFixed(2)} s`,
      baseRate.toFixed(0),
      `${baselineRedis.cpu.toFixed(2)} s`,
      baseline.maxRssBytes ? `${mib(baseline.maxRssBytes)} (largest process, max RSS)` : 'n/a',
      String(baselineLeft),
      String(others - baselineOthers),
    ],
    [
      `ours: purgeCacheKeys (SCAN COUNT ${scanCount} + UNLINK, overlapped)`,
      `${(ours.ms / 1000).toFixed(2)} s`,
      ourRate.toFixed(0),
      `${oursRedis.cpu.toFixed(2)} s`,
      `${mib(ours.memory.peakRss)} peak RSS (+${mib(ours.memory.peakRss - ours.memory.startRss)}; ` +
        `first half +${mib(ours.memory.firstHalfPeak - ours.memory.startRss)}, second +${mib(ours.memory.secondHalfPeak - ours.memory.startRss)})`,
      String(oursLeft),
      String(others - oursOthers),
    ],
    ['ratio (ours / seed)', `${(ours.ms / baseline.ms).toFixed(2)}×`, `${(ourRate / baseRate).toFixed(2)}×`, `${(oursRedis.cpu / baselineRedis.cpu).toFixed(2)}×`, '', '', ''],
  ]);
  process.stdout.write(
    `\n${keys} ai:* keys among ${others} others; ours: ${ours.result.batches} SCAN batches, ${ours.result.removed} removed. ` +
      `Append-only-file rewrites forked during the runs (each takes a core while it lasts): seed ${baselineRedis.rewrites}, ours ${oursRedis.rewrites}. ` +
      `Targets: ≥ 4× the seed's keys/s, memory flat, 0 other keys removed.\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
