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
import { createPostgresActivities, type RetentionResult } from '../../src/activities/postgres';
import { loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { localPostgresAdminUrl } from '../lib/stack';
import { flag, mib, printTable, progress, rssSampler, timeShell } from './report';

const HELP = `Usage: npm run bench -- retention [--rows N] [--writers N]

Defaults: 2,000,000 rows (40 % eligible) in database aiops_bench, 2 writer connections.
Needs the stack's PostgreSQL (npm run stack -- up) and psql on PATH.
`;

const SEED_DELETE = "DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days' AND status = 'completed';";

const say = progress('retention');
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

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

/** The application's writes: until stopped, each connection runs short transactions back to back. */
function startWriters(url: string, connections: number, maxId: number) {
  const latencies: number[] = [];
  let running = true;
  const loops = Array.from({ length: connections }, async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      while (running) {
        const t0 = performance.now();
        await c.query('BEGIN');
        await c.query('UPDATE wedding_optimizations SET quality_score = 0.9 WHERE id = $1', [1 + Math.floor(Math.random() * maxId)]);
        await c.query(
          `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score) VALUES ('writer', DATE '2026-06-01', 'pending', 0.5)`,
        );
        await c.query('COMMIT');
        latencies.push(performance.now() - t0);
      }
    } finally {
      await c.end();
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return latencies.sort((a, b) => a - b);
    },
  };
}

async function walLsn(admin: Client): Promise<string> {
  return (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

async function walSince(admin: Client, lsn: string): Promise<number> {
  return Number((await admin.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS b', [lsn])).rows[0].b);
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

  say(`loading ${rows} rows`);
  const eligible = await reload(admin, rows);
  say(`${eligible} eligible; baseline: the seed's single DELETE through psql, with the writer running`);
  let writer = startWriters(appUrl.toString(), writers, rows);
  await new Promise((r) => setTimeout(r, 500));
  let lsn = await walLsn(admin);
  const baseline = await timeShell(`psql '${appUrl.toString()}' -v ON_ERROR_STOP=1 -qc "${SEED_DELETE}"`);
  const baselineWal = await walSince(admin, lsn);
  const baselineLatencies = await writer.stop();
  const baselineLeft = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM wedding_optimizations WHERE status = 'completed' AND created_at < now() - interval '90 days'`)).rows[0].n);

  say('reloading; ours: deleteCompletedOptimizations, with the writer running');
  const eligibleAgain = await reload(admin, rows);
  if (eligibleAgain !== eligible) throw new Error(`reload made ${eligibleAgain} eligible rows, not ${eligible}`);
  const pool = new Pool({ connectionString: appUrl.toString(), max: 2 });
  writer = startWriters(appUrl.toString(), writers, rows);
  await new Promise((r) => setTimeout(r, 500));
  lsn = await walLsn(admin);
  const sampler = rssSampler();
  const t0 = performance.now();
  const ours = (await new MockActivityEnvironment().run(createPostgresActivities({ pool }).deleteCompletedOptimizations, {})) as RetentionResult;
  const oursMs = performance.now() - t0;
  const memory = sampler.stop();
  const oursWal = await walSince(admin, lsn);
  const oursLatencies = await writer.stop();
  await pool.end();
  const psqlRss = baseline.maxRssBytes;

  printTable([
    ['', 'total time', 'rows/s', 'longest transaction', `writer p99 (p50), ${writers} conns`, 'WAL written', 'peak memory (client)'],
    [
      'seed: one DELETE (psql)',
      `${(baseline.ms / 1000).toFixed(2)} s`,
      (eligible / (baseline.ms / 1000)).toFixed(0),
      `${baseline.ms.toFixed(0)} ms`,
      `${percentile(baselineLatencies, 99).toFixed(1)} ms (${percentile(baselineLatencies, 50).toFixed(1)} ms)`,
      mib(baselineWal),
      psqlRss ? `${mib(psqlRss)} (psql max RSS)` : 'n/a',
    ],
    [
      `ours: ${ours.batches} key-range batches`,
      `${(oursMs / 1000).toFixed(2)} s`,
      (ours.deleted / (oursMs / 1000)).toFixed(0),
      `${ours.longestBatchMs.toFixed(1)} ms`,
      `${percentile(oursLatencies, 99).toFixed(1)} ms (${percentile(oursLatencies, 50).toFixed(1)} ms)`,
      mib(oursWal),
      `${mib(memory.peakRss)} (process RSS, +${mib(memory.peakRss - memory.startRss)})`,
    ],
    [
      'ratio (ours / seed)',
      `${(oursMs / baseline.ms).toFixed(2)}×`,
      `${(ours.deleted / oursMs / (eligible / baseline.ms)).toFixed(2)}×`,
      '',
      `${(percentile(oursLatencies, 99) / percentile(baselineLatencies, 99)).toFixed(2)}×`,
      `${(oursWal / baselineWal).toFixed(2)}×`,
      '',
    ],
  ]);
  process.stdout.write(
    `\n${rows} rows, ${eligible} eligible; seed left ${baselineLeft} eligible, ours deleted ${ours.deleted} (${ours.complete ? 'complete' : 'INCOMPLETE'}). ` +
      `Writer transactions: ${baselineLatencies.length} during the seed's, ${oursLatencies.length} during ours. ` +
      `Targets: total time ≤ the single statement, no transaction > 100 ms.\n`,
  );
  await admin.query('TRUNCATE wedding_optimizations RESTART IDENTITY');
  await admin.end();
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
