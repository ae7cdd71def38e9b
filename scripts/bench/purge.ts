/**
 * `npm run bench -- purge`: seed 002's cache purge against ours on the same data in the same run.
 *
 *   seed      redis-cli --scan --pattern "ai:*" | xargs -L 1000 redis-cli DEL   (the seed's command)
 *   activity  purgeCacheKeys (four SCAN lanes, COUNT 1000, each UNLINK pipelined behind its SCAN), in a process of its own
 *   workflow  purgeCache through Temporal as an operator starts it: `temporal workflow execute`, the production
 *             worker (on a task queue of the bench's own, pointed at the bench's Redis DB)
 *
 * The seed and the workflow are timed from their command's process start to its exit, the activity from its first
 * command to its result; the seed's own start-up (a shell and redis-cli: a few ms) is measured and printed beside
 * it. Rounds go in ABBA order after a discarded warm-up.
 * Data: N `ai:*` keys among N other keys (some of them near misses such as `cache:ai:…` and `ai-model:…`), in a
 * Redis DB index of the benchmark's own, emptied first. What each run removed is counted from Redis against a
 * count taken before it, and the bench fails before printing any time if one side missed a key or took another.
 * Meanwhile a client does GET/SET on other keys at a steady rate: its latency idle, during the seed's command
 * and during ours is the figure that says whether the purge is safe beside live traffic.
 */
import { spawn } from 'node:child_process';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import { createRedisActivities, parseInfo } from '../../src/activities/redis';
import type { PurgeCacheResult } from '../../src/contracts/maintenance';
import { loadConfig } from '../../src/config';
import { LOCAL_PORTS } from '../lib/local-stack';
import { validatePurgeInput } from '../../src/contracts/maintenance';
import {
  abbaOrder,
  exitFailed,
  flag,
  latencySummary,
  machineBusyMs,
  median,
  mib,
  p99OverIdle,
  pooled,
  printTable,
  progress,
  rssSampler,
  secondsSpread,
  sum,
  timeShell,
  type RssSample,
} from './report';
import { closeTemporalClient, executeWorkflow, startBenchWorker, type BenchWorker } from './workflow-runs';

const HELP = `Usage: npm run bench -- purge [--keys N] [--others N] [--db N] [--scan-count N] [--rounds N] [--live-rate N]

Defaults: 1,000,000 ai:* keys, 1,000,000 others, Redis DB 15 (emptied first), SCAN COUNT 1000, 4 rounds after a
warm-up (ABBA: seed, activity, workflow, then the reverse), a live client at 500 GET/SET a second.
Each run: reload the ai:* keys, count, one side, count again. The table gives medians and ranges.
Needs the stack (npm start, or npm run stack -- up: Redis and Temporal) and redis-cli on PATH.
`;

const say = progress('purge');
const OTHER_SHAPES = [
  (i: number) => `user:${i}:profile`,
  (i: number) => `cache:ai:${i}`,
  (i: number) => `ai-model:${i}`,
  (i: number) => `session:${i}`,
];
const VALUE = 'x'.repeat(48);
/** The live client's keys: other keys, present before any count and only overwritten, so the counts hold. */
const LIVE_KEYS = 1000;
const liveKey = (i: number) => `live:${i}`;

function redisUrl(db: number): string {
  const url = new URL(loadConfig().redis.url);
  url.pathname = `/${db}`;
  return url.toString();
}

/** SETs in pipelines of 20,000; any command that failed fails the load, so a count cannot start short. */
async function load(redis: Redis, count: number, name: (i: number) => string): Promise<void> {
  for (let i = 0; i < count; i += 20_000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(count, i + 20_000); j++) p.set(name(j), VALUE);
    const replies = (await p.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed || replies.length !== Math.min(count, i + 20_000) - i) {
      throw new Error(`loading keys ${i}+: ${failed?.[0]?.message ?? `${replies.length} replies`}`);
    }
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

/** What the store holds: `ai:*` keys and all others, counted from Redis. */
async function census(redis: Redis): Promise<{ matching: number; others: number }> {
  const matching = await countMatching(redis, 'ai:*');
  return { matching, others: (await redis.dbsize()) - matching };
}

/** Redis's own CPU seconds so far (user + system, all its threads) and the append-only-file rewrites it has forked. */
async function redisWork(redis: Redis): Promise<{ cpu: number; rewrites: number }> {
  const cpu = parseInfo(await redis.info('cpu'));
  const persistence = parseInfo(await redis.info('persistence'));
  return { cpu: Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys), rewrites: Number(persistence.aof_rewrites ?? 0) };
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

/**
 * The application beside the purge: on a connection of its own, a GET or a SET of one of the live keys every
 * `everyMs`, sent on the clock whether or not the last one has answered (so a stall delays every request behind
 * it, as it would real users'). Each request's latency is kept with its start, to be cut into windows later.
 */
function startLiveClient(url: string, everyMs: number) {
  const redis = new Redis(url);
  const ops: { start: number; ms: number }[] = [];
  let errors = 0;
  let n = 0;
  const timer = setInterval(() => {
    const i = n++;
    const t0 = performance.now();
    const sent = i % 2 ? redis.set(liveKey(i % LIVE_KEYS), VALUE) : redis.get(liveKey(i % LIVE_KEYS));
    sent.then(
      () => ops.push({ start: t0, ms: performance.now() - t0 }),
      () => errors++,
    );
  }, everyMs);
  return {
    /** Sorted latencies of the requests started in [from, to]. */
    window: (from: number, to: number) =>
      ops
        .filter((o) => o.start >= from && o.start <= to)
        .map((o) => o.ms)
        .sort((a, b) => a - b),
    errors: () => errors,
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 200));
      redis.disconnect();
    },
  };
}

type Side = 'seed' | 'activity' | 'workflow';

interface Run {
  side: Side;
  round: number;
  /** The seed and the workflow: process start → exit. The activity: its first command → its result. */
  ms: number;
  /** The activity's process start → exit (most of the difference is loading the test harness that runs it). */
  processMs?: number;
  before: { matching: number; others: number };
  after: { matching: number; others: number };
  redisCpu: number;
  rewrites: number;
  machineBusy: number;
  /** CPU seconds of the side's own processes: the shell pipeline, our process, or the worker. */
  clientCpu: number;
  live: number[];
  idle: number[];
  maxRssBytes?: number;
  ours?: OursReport;
  workflow?: Awaited<ReturnType<typeof executeWorkflow<PurgeCacheResult>>>;
}

interface OursReport {
  ms: number;
  cpuSeconds: number;
  memory: RssSample;
  heapRetained: number;
  result: PurgeCacheResult;
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
  const cpu = process.cpuUsage();
  const report: OursReport = { ms, cpuSeconds: (cpu.user + cpu.system) / 1e6, memory, heapRetained, result };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** The activity in a process of its own, timed from that process's start to its exit (as the seed's command is). */
async function spawnOurs(db: number, scanCount: number): Promise<{ ms: number; report: OursReport }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    ['--expose-gc', __filename, '--ours', '--db', String(db), '--scan-count', String(scanCount)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`ours exited ${code}: ${err}`);
  return { ms, report: JSON.parse(out.trim().split('\n').at(-1)!) as OursReport };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

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
  const rounds = flag('rounds', 4);
  const liveRate = flag('live-rate', 500);

  const redis = new Redis(redisUrl(db));
  const cli = `redis-cli -h 127.0.0.1 -p ${LOCAL_PORTS.redis} -n ${db}`;
  say('starting the production worker on the bench DB');
  const worker: BenchWorker = await startBenchWorker({ REDIS_URL: redisUrl(db) });
  await redis.flushdb();
  say(`loading ${others} other keys and ${LIVE_KEYS} live keys into DB ${db}`);
  await load(redis, others, (i) => OTHER_SHAPES[i % OTHER_SHAPES.length](i));
  await load(redis, LIVE_KEYS, liveKey);
  const live = startLiveClient(redisUrl(db), 1000 / liveRate);
  const runs: Run[] = [];
  try {
    for (const { round, side } of abbaOrder<Side>(['seed', 'activity', 'workflow'], rounds)) {
      say(`${round === 0 ? 'warm-up' : `round ${round}/${rounds}`}: loading ${keys} ai:* keys; ${side}`);
      await load(redis, keys, (i) => `ai:rec:${i}`);
      await quiesce(redis);
      const before = await census(redis);
      // A second of the live client with nothing else running: the idle figure beside this run's.
      const idleFrom = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      const work = await redisWork(redis);
      const workerCpu = worker.cpuSeconds();
      const machine = machineBusyMs();
      const t0 = performance.now();
      const run: Partial<Run> = { side, round, before };
      if (side === 'seed') {
        const seed = await timeShell(`${cli} --scan --pattern 'ai:*' | xargs -L 1000 ${cli} DEL > /dev/null`);
        Object.assign(run, { ms: seed.ms, maxRssBytes: seed.maxRssBytes, clientCpu: seed.cpuSeconds ?? NaN });
      } else if (side === 'activity') {
        const { ms, report } = await spawnOurs(db, scanCount);
        Object.assign(run, { ms: report.ms, processMs: ms, ours: report, clientCpu: report.cpuSeconds });
      } else {
        const wf = await executeWorkflow<PurgeCacheResult>('purgeCache', worker.taskQueue, {
          pattern: 'ai:*',
          scanCount,
        });
        Object.assign(run, { ms: wf.ms, workflow: wf, clientCpu: worker.cpuSeconds() - workerCpu });
      }
      const t1 = performance.now();
      const done = await redisWork(redis);
      Object.assign(run, {
        redisCpu: done.cpu - work.cpu,
        rewrites: done.rewrites - work.rewrites,
        // Of the 2 cores' time over the run: how much the whole machine used, ours and everyone else's.
        machineBusy: (machineBusyMs() - machine) / (t1 - t0),
        live: live.window(t0, t1),
        idle: live.window(idleFrom, t0),
        after: await census(redis),
      });
      runs.push(run as Run);
    }
  } finally {
    await live.stop();
    await worker.stop();
    await closeTemporalClient();
    await redis.flushdb();
    redis.disconnect();
  }

  // Correctness first, from the store, every run including the warm-up; no time is printed if any run is wrong.
  const sides: Side[] = ['seed', 'activity', 'workflow'];
  const label: Record<Side, string> = {
    seed: 'seed: redis-cli --scan \\| xargs -L 1000 redis-cli DEL, process start → exit',
    activity: `activity: purgeCacheKeys, first command → result`,
    workflow: 'workflow: temporal workflow execute --type purgeCache, process start → exit',
  };
  const wrong = runs.filter(
    (r) => r.before.matching !== keys || r.after.matching !== 0 || r.after.others !== r.before.others,
  );
  printTable([
    ['correctness, counted from Redis', 'runs', 'ai:* before (each run)', 'ai:* left', 'other keys removed'],
    ...sides.map((side) => {
      const mine = runs.filter((r) => r.side === side);
      return [
        label[side],
        String(mine.length),
        [...new Set(mine.map((r) => r.before.matching))].join(', '),
        String(sum(mine.map((r) => r.after.matching))),
        String(sum(mine.map((r) => r.before.others - r.after.others))),
      ];
    }),
  ]);
  if (wrong.length > 0 || live.errors() > 0) {
    throw new Error(
      `${wrong.length} runs did not remove exactly the ai:* keys (${wrong.map((r) => `${r.side} round ${r.round}`).join(', ')}); ` +
        `live client errors: ${live.errors()}`,
    );
  }

  const measured = runs.filter((r) => r.round > 0);
  const startups: number[] = [];
  for (let i = 0; i < 5; i++) startups.push((await timeShell(`${cli} PING > /dev/null`)).ms);
  const seedStartup = median(startups);
  const of = (side: Side) => measured.filter((r) => r.side === side);
  const rate = (r: Run) => (r.before.matching - r.after.matching) / (r.ms / 1000);
  const idle = pooled(measured, (r) => r.idle);
  const seedRate = median(of('seed').map(rate));
  const row = (side: Side): string[] => {
    const rs = of(side);
    const during = pooled(rs, (r) => r.live);
    return [
      label[side],
      secondsSpread(rs.map((r) => r.ms)),
      `${median(rs.map(rate)).toFixed(0)} (${(median(rs.map(rate)) / seedRate).toFixed(2)}×)`,
      `${median(rs.map((r) => r.redisCpu)).toFixed(2)} / ${median(rs.map((r) => r.clientCpu)).toFixed(2)} s`,
      latencySummary(during),
      p99OverIdle(during, idle),
      String(sum(rs.map((r) => r.rewrites))),
      median(rs.map((r) => r.machineBusy)).toFixed(1),
    ];
  };
  printTable([
    [
      '',
      'time (median, range)',
      'keys/s (median, × seed)',
      'CPU: Redis / client (median)',
      `live GET/SET p50 / p99 / max (${liveRate}/s)`,
      'live p99 / idle p99',
      'AOF rewrites',
      'machine busy, cores of 2',
    ],
    ...sides.map(row),
    ['idle (the second before each run)', '', '', '', latencySummary(idle), '1.00×', '', ''],
  ]);

  const act = of('activity').map((r) => r.ours!);
  const worst = act.reduce((a, b) =>
    b.memory.peakRss - b.memory.startRss > a.memory.peakRss - a.memory.startRss ? b : a,
  );
  const wfs = of('workflow').map((r) => r.workflow!);
  const byRound = (side: Side) =>
    of('seed')
      .map((seed) => of(side).find((r) => r.round === seed.round)!)
      .map((r, i) => `${(rate(r) / rate(of('seed')[i])).toFixed(2)}×`)
      .join(', ');
  process.stdout.write(
    `\n${keys} ai:* keys among ${others + LIVE_KEYS} others, ${rounds} rounds after a warm-up, ABBA order; ` +
      `keys/s against the seed by round: activity ${byRound('activity')}; workflow ${byRound('workflow')}. ` +
      `The seed's start-up (sh -c 'redis-cli PING', process start → exit): ${seedStartup.toFixed(1)} ms (median of 5). ` +
      `Activity: ${seconds(median(of('activity').map((r) => r.processMs!)))} from its process's start (median), ${act[0].result.cursors.length} SCAN lanes, ` +
      `COUNT ${scanCount}, ${act[0].result.batches} batches; peak RSS ${mib(worst.memory.peakRss)} (+${mib(worst.memory.peakRss - worst.memory.startRss)}), ` +
      `heap held after it ${(Math.max(...act.map((a) => a.heapRetained)) / 1024 / 1024).toFixed(1)} MiB. ` +
      `Workflow (medians): command start → started ${median(wfs.map((w) => w.startMs)).toFixed(0)} ms, ` +
      `→ activity started ${median(wfs.map((w) => w.firstActivityMs)).toFixed(0)} ms, ` +
      `purgeCacheKeys ${median(wfs.map((w) => w.activityMs.purgeCacheKeys ?? 0)).toFixed(0)} ms, ` +
      `→ completed ${median(wfs.map((w) => w.betweenMs)).toFixed(0)} ms, → command exit ${median(wfs.map((w) => w.exitMs)).toFixed(0)} ms. ` +
      `Client CPU is the shell pipeline's (seed), our process's (activity) or the worker's (workflow). ` +
      `Targets: ≥ 4× the seed's keys/s; live p99 ≤ 2× idle and no request over 50 ms during ours.\n`,
  );
}

main().catch(exitFailed);
