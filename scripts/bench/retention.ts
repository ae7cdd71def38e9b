/**
 * `npm run bench -- retention`: seed 002's retention delete against ours on the same data in the same run.
 *
 *   baseline  psql -c "DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days'
 *             AND status = 'completed'"                                       (the seed's command, one statement)
 *   ours      deleteCompletedOptimizations (primary-key ranges, ~40 ms transactions), called directly
 *
 * Data: N rows in a database of the benchmark's own (aiops_bench), 40 % eligible, reloaded identically before
 * each run. During both, a concurrent writer (two connections, each transaction updating a random existing row
 * and inserting a new one, as the application does) records its latencies; WAL written is read from
 * pg_current_wal_lsn() (it includes the writer's few MB).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Pool } from 'pg';
import { createPostgresActivities } from '../../src/activities/postgres';
import type { RetentionResult } from '../../src/contracts/maintenance';
import { loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { localPostgresAdminUrl } from '../lib/stack';
import {
  exitFailed,
  flag,
  median,
  mib,
  percentile,
  printTable,
  progress,
  rssSampler,
  sum,
  timeShell,
  type RssSample,
} from './report';

const HELP = `Usage: npm run bench -- retention [--rows N] [--writers N] [--rounds N]

Defaults: 2,000,000 rows (40 % eligible) in database aiops_bench, 2 writer connections, 5 rounds (each: load,
the seed's DELETE, reload, ours); the table gives medians, and writer latencies pooled over the rounds.
Needs the stack's PostgreSQL (npm run stack -- up) and psql on PATH.
`;

const SEED_DELETE =
  "DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days' AND status = 'completed';";

const say = progress('retention');

/**
 * The same rows every time (ids restart at 1): the older half is 91-400 days old, the newer half 0-89 days,
 * and four rows in five are completed, so 40 % are eligible.
 */
async function reload(admin: Client, rows: number): Promise<number> {
  await admin.query('TRUNCATE wedding_optimizations RESTART IDENTITY');
  await admin.query(
    `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score, created_at)
     SELECT 'wedding-' || g, DATE '2026-06-01' + (g % 365),
            CASE WHEN g % 5 = 0 THEN (ARRAY['pending', 'active', 'failed'])[1 + g % 3] ELSE 'completed' END,
            0.5 + (g % 50) / 100.0,
            CASE WHEN g <= $1 / 2 THEN now() - make_interval(days => 400 - (g::bigint * 309 / ($1 / 2))::int, hours => 1)
                 ELSE now() - make_interval(days => 89 - ((g - $1 / 2)::bigint * 89 / ($1 / 2))::int, hours => 1) END
       FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await admin.query('VACUUM ANALYZE wedding_optimizations');
  await admin.query('CHECKPOINT');
  const { rows: r } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'`,
  );
  return Number(r[0].n);
}

/**
 * The application's writes: until stopped, each connection runs short transactions back to back. Only the
 * transactions that overlap the delete count: those before it would dilute a stall it causes.
 */
function startWriters(url: string, connections: number, maxId: number) {
  const transactions: { start: number; ms: number }[] = [];
  let running = true;
  const loops = Array.from({ length: connections }, async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      while (running) {
        const t0 = performance.now();
        await c.query('BEGIN');
        await c.query('UPDATE wedding_optimizations SET quality_score = 0.9 WHERE id = $1', [
          1 + Math.floor(Math.random() * maxId),
        ]);
        await c.query(
          `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score) VALUES ('writer', DATE '2026-06-01', 'pending', 0.5)`,
        );
        await c.query('COMMIT');
        transactions.push({ start: t0, ms: performance.now() - t0 });
      }
    } finally {
      await c.end();
    }
  });
  return {
    /** Stops the writers; the latencies, sorted, of the transactions that were running at some point in [from, to]. */
    async stop(from: number, to: number) {
      running = false;
      await Promise.all(loops);
      return transactions
        .filter((t) => t.start <= to && t.start + t.ms >= from)
        .map((t) => t.ms)
        .sort((a, b) => a - b);
    },
  };
}

const writerLatency = (sorted: number[]) =>
  [50, 99]
    .map((p) => `${percentile(sorted, p).toFixed(1)}`)
    .concat(sorted.at(-1)!.toFixed(1))
    .join(' / ') + ' ms';

async function walLsn(admin: Client): Promise<string> {
  return (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

async function walSince(admin: Client, lsn: string): Promise<number> {
  return Number(
    (await admin.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS b', [lsn])).rows[0]
      .b,
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const rows = flag('rows', 2_000_000);
  const writers = flag('writers', 2);
  const appUrl = new URL(loadConfig().postgres.url);
  appUrl.pathname = '/aiops_bench';
  await bootstrapDatabase({ adminUrl: localPostgresAdminUrl(), appUrl: appUrl.toString() });
  const admin = new Client({ connectionString: localPostgresAdminUrl('aiops_bench') });
  await admin.connect();

  const rounds = flag('rounds', 5);
  const eligibleLeft = async () =>
    Number(
      (
        await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'`,
        )
      ).rows[0].n,
    );
  /** Loads the rows, starts the writer, runs `work` timed, and stops the writer. */
  const timedWithWriter = async <T>(work: () => Promise<T>) => {
    const writer = startWriters(appUrl.toString(), writers, rows);
    await new Promise((r) => setTimeout(r, 500));
    const lsn = await walLsn(admin);
    const t0 = performance.now();
    const result = await work();
    const t1 = performance.now();
    const wal = await walSince(admin, lsn);
    return { result, ms: t1 - t0, wal, latencies: await writer.stop(t0, t1) };
  };

  let eligible: number | undefined;
  const checkEligible = (n: number) => {
    if (eligible !== undefined && n !== eligible) throw new Error(`reload made ${n} eligible rows, not ${eligible}`);
    eligible = n;
  };
  const seedRuns: { ms: number; wal: number; latencies: number[]; maxRssBytes?: number; left: number }[] = [];
  const ourRuns: { ms: number; wal: number; latencies: number[]; result: RetentionResult; memory: RssSample }[] = [];
  for (let round = 1; round <= rounds; round++) {
    say(
      `round ${round}/${rounds}: loading ${rows} rows; the seed's single DELETE through psql, with the writer running`,
    );
    checkEligible(await reload(admin, rows));
    const seed = await timedWithWriter(() =>
      timeShell(`psql '${appUrl.toString()}' -v ON_ERROR_STOP=1 -qc "${SEED_DELETE}"`),
    );
    seedRuns.push({
      ms: seed.ms,
      wal: seed.wal,
      latencies: seed.latencies,
      maxRssBytes: seed.result.maxRssBytes,
      left: await eligibleLeft(),
    });

    say(`round ${round}/${rounds}: reloading; ours: deleteCompletedOptimizations, with the writer running`);
    checkEligible(await reload(admin, rows));
    const pool = new Pool({ connectionString: appUrl.toString(), max: 3 });
    const sampler = rssSampler();
    const ours = await timedWithWriter(
      () =>
        new MockActivityEnvironment().run(
          createPostgresActivities({ pool }).deleteCompletedOptimizations,
          {},
        ) as Promise<RetentionResult>,
    );
    ourRuns.push({ ...ours, memory: sampler.stop() });
    await pool.end();
  }
  const all = (runs: { latencies: number[] }[]) => runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seedLatencies = all(seedRuns);
  const ourLatencies = all(ourRuns);
  const seedMs = median(seedRuns.map((r) => r.ms));
  const oursMs = median(ourRuns.map((r) => r.ms));
  const seedWal = median(seedRuns.map((r) => r.wal));
  const oursWal = median(ourRuns.map((r) => r.wal));
  const psqlRss = Math.max(0, ...seedRuns.map((r) => r.maxRssBytes ?? 0));
  const memory = ourRuns.reduce((a, b) =>
    b.memory.peakRss - b.memory.startRss > a.memory.peakRss - a.memory.startRss ? b : a,
  ).memory;
  const deleted = ourRuns.map((r) => r.result.deleted);
  const n = eligible ?? 0;

  printTable([
    [
      '',
      'total time (median)',
      'rows/s (median)',
      'longest transaction',
      `writer p50 / p99 / max, ${writers} conns`,
      'WAL written (median)',
      'peak memory (client)',
    ],
    [
      'seed: one DELETE (psql)',
      `${(seedMs / 1000).toFixed(2)} s`,
      (n / (seedMs / 1000)).toFixed(0),
      `${Math.max(...seedRuns.map((r) => r.ms)).toFixed(0)} ms`,
      writerLatency(seedLatencies),
      mib(seedWal),
      psqlRss ? `${mib(psqlRss)} (psql max RSS)` : 'n/a',
    ],
    [
      `ours: ${Math.round(median(ourRuns.map((r) => r.result.batches)))} key-range batches`,
      `${(oursMs / 1000).toFixed(2)} s`,
      (median(deleted) / (oursMs / 1000)).toFixed(0),
      `${Math.max(...ourRuns.map((r) => r.result.longestBatchMs)).toFixed(1)} ms`,
      writerLatency(ourLatencies),
      mib(oursWal),
      `${mib(memory.peakRss)} (process RSS, +${mib(memory.peakRss - memory.startRss)})`,
    ],
    [
      'ratio (ours / seed)',
      `${(oursMs / seedMs).toFixed(2)}×`,
      `${(median(deleted) / oursMs / (n / seedMs)).toFixed(2)}×`,
      '',
      `p99 ${(percentile(ourLatencies, 99) / percentile(seedLatencies, 99)).toFixed(2)}×, max ${(ourLatencies.at(-1)! / seedLatencies.at(-1)!).toFixed(2)}×`,
      `${(oursWal / seedWal).toFixed(2)}×`,
      '',
    ],
  ]);
  const perRound = seedRuns.map((seed, i) => `${(ourRuns[i].ms / seed.ms).toFixed(2)}×`).join(', ');
  process.stdout.write(
    `\n${rows} rows, ${n} eligible, ${rounds} rounds (seed, then ours, each on freshly loaded rows); ours/seed time by round: ${perRound}. ` +
      `The seed left ${sum(seedRuns.map((r) => r.left))} eligible in all; ours deleted ${deleted.join(', ')} ` +
      `(${ourRuns.every((r) => r.result.complete) ? 'complete' : 'INCOMPLETE'}). ` +
      `Writer transactions while deleting: ${seedLatencies.length} in the seed's runs (${((seedLatencies.length / sum(seedRuns.map((r) => r.ms))) * 1000).toFixed(0)}/s), ` +
      `${ourLatencies.length} in ours (${((ourLatencies.length / sum(ourRuns.map((r) => r.ms))) * 1000).toFixed(0)}/s). ` +
      `Targets: total time ≤ the single statement, no transaction > 100 ms.\n`,
  );
  await admin.query('TRUNCATE wedding_optimizations RESTART IDENTITY');
  await admin.end();
}

main().catch(exitFailed);
