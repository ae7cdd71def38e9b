/**
 * `npm run bench -- retention`: seed 002's retention delete against ours on the same data in the same run.
 *
 *   seed      psql -c "DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days'
 *             AND status = 'completed'" -c "ANALYZE wedding_optimizations, ai_recommendations, ai_feedback"
 *             (the seed's commands; the DELETE is one statement)
 *   activity  deleteCompletedOptimizations (primary-key ranges, ~25 ms transactions), called directly
 *   workflow  pruneOptimizations (the delete, then ANALYZE) through Temporal as an operator starts it:
 *             `temporal workflow execute`, the production worker on a task queue of the bench's own
 *
 * Two boundaries, each the same on both sides: the delete itself from its first command to its result (psql's
 * \timing of the statement; the activity called in this process on connections already open), and the whole
 * command from its process's start to its exit (psql; `temporal workflow execute`, whose run also does ANALYZE).
 *
 * Data: N rows in a database of the benchmark's own (aiops_bench), 40 % eligible, reloaded identically before
 * each run, in two layouts: ages correlated with the id (old rows first, as a table filled over time has) and
 * ages scattered across the id range. During every run concurrent writers (each transaction updating a random
 * existing row and inserting a new one, as the application does) record their latencies. After every run the
 * store is counted: no eligible row left, and every other row, the writers' new ones included, still there (count
 * and an MD5 of their ids in order); the bench fails before printing any time if a run got it wrong.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Pool } from 'pg';
import { createPostgresActivities } from '../../src/activities/postgres';
import type { RetentionResult } from '../../src/contracts/maintenance';
import { loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import type { PruneOptimizationsResult } from '../../src/workflows/operations/retention/messages';
import { runningPid } from '../lib/processes';
import { localPostgresAdminUrl } from '../lib/stack';
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
  secondsSpread,
  timeShell,
  treeCpuMs,
  UsageError,
} from './report';
import { closeTemporalClient, executeWorkflow, startBenchWorker, type WorkflowRun } from './workflow-runs';

const HELP = `Usage: npm run bench -- retention [--rows N] [--writers N] [--rounds N] [--layout correlated|scattered|both]

Defaults: 2,000,000 rows (40 % eligible) in database aiops_bench, both layouts, 2 writer connections, 4 rounds
after a warm-up (ABBA: seed, activity, workflow, then the reverse); the table gives medians and ranges, writer
latencies pooled over the rounds. Needs the stack (npm start: PostgreSQL and Temporal) and psql on PATH.
`;

const ELIGIBLE = `status = 'completed' AND created_at < now() - interval '90 days'`;
const SEED_DELETE = `DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days' AND status = 'completed';`;
const SEED_ANALYZE = 'ANALYZE wedding_optimizations, ai_recommendations, ai_feedback;';

const say = progress('retention');

type Layout = 'correlated' | 'scattered';
type Side = 'seed' | 'activity' | 'workflow';

/**
 * Each row's age. Correlated: the older half of the ids 91-400 days old, the newer half 0-89 days. Scattered: a
 * hash of the id picks old or new and the age within, so old rows are spread over every part of the table.
 * Every age is an hour past a whole day, well clear of the 90-day line whenever the delete runs.
 */
const AGE: Record<Layout, string> = {
  correlated: `CASE WHEN g <= $1 / 2 THEN make_interval(days => 400 - (g::bigint * 309 / ($1 / 2))::int, hours => 1)
                    ELSE make_interval(days => 89 - ((g - $1 / 2)::bigint * 89 / ($1 / 2))::int, hours => 1) END`,
  scattered: `CASE WHEN abs(hashint4(g)) % 2 = 0 THEN make_interval(days => 91 + abs(hashint4(g)) / 2 % 310, hours => 1)
                   ELSE make_interval(days => abs(hashint4(g)) / 2 % 90, hours => 1) END`,
};

/** The same rows every time (ids restart at 1); four in five completed. Returns how many are eligible. */
async function reload(admin: Client, rows: number, layout: Layout): Promise<number> {
  await admin.query('TRUNCATE wedding_optimizations RESTART IDENTITY');
  await admin.query(
    `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score, created_at)
     SELECT 'wedding-' || g, DATE '2026-06-01' + (g % 365),
            CASE WHEN g % 5 = 0 THEN (ARRAY['pending', 'active', 'failed'])[1 + g % 3] ELSE 'completed' END,
            0.5 + (g % 50) / 100.0, now() - ${AGE[layout]}
       FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await admin.query('VACUUM ANALYZE wedding_optimizations');
  await admin.query('CHECKPOINT');
  // What must survive the run: every row not eligible now, to be compared with the store's after it.
  await admin.query('DROP TABLE IF EXISTS bench_kept');
  await admin.query(`CREATE TABLE bench_kept AS SELECT id FROM wedding_optimizations WHERE NOT (${ELIGIBLE})`);
  return countEligible(admin);
}

async function countEligible(admin: Client): Promise<number> {
  return Number(
    (await admin.query<{ n: string }>(`SELECT count(*) AS n FROM wedding_optimizations WHERE ${ELIGIBLE}`)).rows[0].n,
  );
}

/** Count and MD5 of the ids in order, of the table and of what should be in it. */
async function keptCheck(
  admin: Client,
  inserted: string[],
): Promise<{ expected: number; found: number; same: boolean }> {
  await admin.query('INSERT INTO bench_kept (id) SELECT unnest($1::bigint[])', [inserted]);
  const digest = `count(*) AS n, md5(string_agg(id::text, ',' ORDER BY id)) AS h`;
  const { rows: e } = await admin.query<{ n: string; h: string }>(`SELECT ${digest} FROM bench_kept`);
  const { rows: f } = await admin.query<{ n: string; h: string }>(`SELECT ${digest} FROM wedding_optimizations`);
  return { expected: Number(e[0].n), found: Number(f[0].n), same: e[0].h === f[0].h && e[0].n === f[0].n };
}

/**
 * The application's writes: until stopped, each connection runs short transactions back to back, keeping the
 * ids it inserted (they must survive the delete) and its backend's pid (its transactions are not the delete's).
 */
async function startWriters(url: string, connections: number, maxId: number) {
  const transactions: { start: number; ms: number }[] = [];
  const inserted: string[] = [];
  const pids: number[] = [];
  let running = true;
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      pids.push((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      return c;
    }),
  );
  const loops = clients.map(async (c) => {
    try {
      while (running) {
        const t0 = performance.now();
        await c.query('BEGIN');
        await c.query('UPDATE wedding_optimizations SET quality_score = 0.9 WHERE id = $1', [
          1 + Math.floor(Math.random() * maxId),
        ]);
        const { rows } = await c.query<{ id: string }>(
          `INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score)
           VALUES ('writer', DATE '2026-06-01', 'pending', 0.5) RETURNING id`,
        );
        await c.query('COMMIT');
        inserted.push(rows[0].id);
        transactions.push({ start: t0, ms: performance.now() - t0 });
      }
    } finally {
      await c.end();
    }
  });
  return {
    pids,
    /** Sorted latencies of the transactions running at some point in [from, to]. */
    window: (from: number, to: number) =>
      transactions
        .filter((t) => t.start <= to && t.start + t.ms >= from)
        .map((t) => t.ms)
        .sort((a, b) => a - b),
    async stop() {
      running = false;
      await Promise.all(loops);
      return inserted;
    },
  };
}

/**
 * The longest transaction of anyone but the writers and this sampler, from pg_stat_activity every 5 ms: what a
 * replica's replay, VACUUM and every lock behind it wait for. A lower bound by up to the sampling interval.
 */
async function startTransactionSampler(url: string, excluded: number[]) {
  const c = new Client({ connectionString: url });
  await c.connect();
  const longest = { analyze: 0, delete: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await c.query<{ ms: number; analyze: boolean }>(
        `SELECT extract(epoch FROM clock_timestamp() - xact_start)::float8 * 1000 AS ms, query ILIKE '%analyze%' AS analyze
           FROM pg_stat_activity
          WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
            AND NOT (pid = ANY($1::int[])) AND state <> 'idle'`,
        [excluded],
      );
      for (const r of rows) {
        const kind = r.analyze ? 'analyze' : 'delete';
        longest[kind] = Math.max(longest[kind], r.ms);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    /** The longest transaction seen of ANALYZE, and of everything else (the delete and what it asks). */
    async stop() {
      running = false;
      await loop;
      await c.end();
      return longest;
    },
  };
}

async function walLsn(admin: Client): Promise<string> {
  return (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
}

async function walSince(admin: Client, lsn: string): Promise<number> {
  const { rows } = await admin.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS b', [
    lsn,
  ]);
  return Number(rows[0].b);
}

interface Run {
  layout: Layout;
  side: Side;
  round: number;
  /** First command → result: psql's \timing of the DELETE, or the activity's call. The workflow: its delete activity. */
  deleteMs: number;
  /** Process start → exit: psql, or `temporal workflow execute`, each the DELETE and ANALYZE. Not for the activity. */
  commandMs?: number;
  analyzeMs?: number;
  eligible: number;
  eligibleLeft: number;
  kept: { expected: number; found: number; same: boolean };
  wal: number;
  /** PostgreSQL's CPU over the run (every backend: the delete's, the writers', the sampler's), ms. */
  postgresCpuMs: number;
  machineBusy: number;
  longestTransactionMs: { analyze: number; delete: number };
  writer: number[];
  idle: number[];
  writes: number;
  result?: RetentionResult;
  workflow?: WorkflowRun<PruneOptimizationsResult>;
}

function layouts(): Layout[] {
  const i = process.argv.indexOf('--layout');
  const given = i < 0 ? 'both' : process.argv[i + 1];
  if (given === 'both') return ['correlated', 'scattered'];
  if (given === 'correlated' || given === 'scattered') return [given];
  throw new UsageError('--layout: correlated, scattered or both');
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const rows = flag('rows', 2_000_000);
  const writers = flag('writers', 2);
  const rounds = flag('rounds', 4);
  const which = layouts();
  const appUrl = new URL(loadConfig().postgres.url);
  appUrl.pathname = '/aiops_bench';
  await bootstrapDatabase({ adminUrl: localPostgresAdminUrl(), appUrl: appUrl.toString() });
  const admin = new Client({ connectionString: localPostgresAdminUrl('aiops_bench') });
  await admin.connect();
  say('starting the production worker on the bench database');
  const worker = await startBenchWorker({ DATABASE_URL: appUrl.toString() });
  const pool = new Pool({ connectionString: appUrl.toString(), max: 3 });
  const activities = createPostgresActivities({ pool });
  const activityEnv = new MockActivityEnvironment();
  const runs: Run[] = [];
  try {
    for (const layout of which) {
      for (const { round, side } of abbaOrder<Side>(['seed', 'activity', 'workflow'], rounds)) {
        say(`${layout}, ${round === 0 ? 'warm-up' : `round ${round}/${rounds}`}: loading ${rows} rows; ${side}`);
        const eligible = await reload(admin, rows, layout);
        // Open before the clock starts, as a worker's pool is: the seed's \timing does not count connecting either.
        await Promise.all([1, 2, 3].map(() => pool.query('SELECT 1')));
        const writer = await startWriters(appUrl.toString(), writers, rows);
        const idleFrom = performance.now();
        await new Promise((r) => setTimeout(r, 1000));
        const sampler = await startTransactionSampler(localPostgresAdminUrl('aiops_bench'), writer.pids);
        const lsn = await walLsn(admin);
        const postgresPid = runningPid('postgres');
        const cpuBefore = { postgres: postgresPid ? treeCpuMs(postgresPid) : NaN, machine: machineBusyMs() };
        const t0 = performance.now();
        const run: Partial<Run> = { layout, side, round, eligible };
        if (side === 'seed') {
          // As the table's owner, who may ANALYZE it (the runbook is a DBA's); the DELETE is the same statement.
          const psql =
            `psql '${localPostgresAdminUrl('aiops_bench')}' -X -v ON_ERROR_STOP=1 -c '\\timing on' ` +
            `-c "${SEED_DELETE}" -c "${SEED_ANALYZE}"`;
          const { ms, stdout } = await timeShellOutput(psql);
          const timings = [...stdout.matchAll(/Time: ([\d.]+) ms/g)].map((m) => Number(m[1]));
          if (timings.length !== 2) throw new Error(`psql printed no timing: ${stdout}`);
          Object.assign(run, { deleteMs: timings[0], analyzeMs: timings[1], commandMs: ms });
        } else if (side === 'activity') {
          const result = (await activityEnv.run(activities.deleteCompletedOptimizations, {})) as RetentionResult;
          Object.assign(run, { deleteMs: performance.now() - t0, result });
        } else {
          const wf = await executeWorkflow<PruneOptimizationsResult>('pruneOptimizations', worker.taskQueue, {});
          Object.assign(run, {
            deleteMs: wf.activityMs.deleteCompletedOptimizations,
            analyzeMs: wf.activityMs.analyzeTables,
            commandMs: wf.ms,
            workflow: wf,
            result: wf.result.retention,
          });
        }
        const t1 = performance.now();
        // The postmaster reaps psql's backend just after psql exits: counted once it has.
        await new Promise((r) => setTimeout(r, 200));
        const cpu = {
          postgres: (postgresPid ? treeCpuMs(postgresPid) : NaN) - cpuBefore.postgres,
          machine: machineBusyMs() - cpuBefore.machine,
        };
        const longestTransactionMs = await sampler.stop();
        const wal = await walSince(admin, lsn);
        const during = writer.window(t0, t1);
        const idle = writer.window(idleFrom, t0);
        const inserted = await writer.stop();
        Object.assign(run, {
          postgresCpuMs: cpu.postgres,
          // Of the 2 cores' time over the run: how much the whole machine was using, ours and everyone else's.
          machineBusy: cpu.machine / (t1 - t0 + 200),
          wal,
          longestTransactionMs,
          writer: during,
          idle,
          writes: during.length / ((t1 - t0) / 1000),
          eligibleLeft: await countEligible(admin),
          kept: await keptCheck(admin, inserted),
        });
        runs.push(run as Run);
      }
    }
  } finally {
    await pool.end();
    await worker.stop();
    await closeTemporalClient();
    await admin.query('TRUNCATE wedding_optimizations RESTART IDENTITY');
    await admin.query('DROP TABLE IF EXISTS bench_kept');
    await admin.end();
  }
  report(runs, { rows, writers, rounds });
}

/** timeShell, keeping what the command printed (psql's \timing line). */
async function timeShellOutput(script: string): Promise<{ ms: number; stdout: string }> {
  const out = `/tmp/aiops-bench-retention-${process.pid}.out`;
  const { ms } = await timeShell(`${script} > ${out}`);
  const { readFileSync, rmSync } = await import('node:fs');
  const stdout = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  return { ms, stdout };
}

function report(runs: Run[], { rows, writers, rounds }: { rows: number; writers: number; rounds: number }): void {
  const sides: Side[] = ['seed', 'activity', 'workflow'];
  const label: Record<Side, string> = {
    seed: 'seed: one DELETE, then ANALYZE (psql)',
    activity: 'activity: deleteCompletedOptimizations',
    workflow: 'workflow: temporal workflow execute --type pruneOptimizations',
  };
  const layoutsRun = [...new Set(runs.map((r) => r.layout))];
  // Correctness first, from the store, every run including the warm-up; no time is printed if any run is wrong.
  const wrong = runs.filter((r) => r.eligibleLeft !== 0 || !r.kept.same);
  printTable([
    [
      'correctness, counted from PostgreSQL',
      'layout',
      'runs',
      'eligible before',
      'eligible left',
      'other rows kept (count, MD5 of ids)',
    ],
    ...layoutsRun.flatMap((layout) =>
      sides.map((side) => {
        const mine = runs.filter((r) => r.side === side && r.layout === layout);
        return [
          label[side],
          layout,
          String(mine.length),
          [...new Set(mine.map((r) => r.eligible))].join(', '),
          String(mine.reduce((a, r) => a + r.eligibleLeft, 0)),
          `${mine.filter((r) => r.kept.same).length} of ${mine.length} runs exact (${mine.map((r) => `${r.kept.found}/${r.kept.expected}`).join(', ')})`,
        ];
      }),
    ),
  ]);
  if (wrong.length > 0) {
    throw new Error(
      `${wrong.length} runs left eligible rows or lost others: ${wrong.map((r) => `${r.side} ${r.layout} round ${r.round}`).join(', ')}`,
    );
  }
  for (const layout of layoutsRun) {
    const measured = runs.filter((r) => r.round > 0 && r.layout === layout);
    const of = (side: Side) => measured.filter((r) => r.side === side);
    const idle = pooled(measured, (r) => r.idle);
    const seedDelete = median(of('seed').map((r) => r.deleteMs));
    const seedCommand = median(of('seed').map((r) => r.commandMs!));
    const eligible = measured[0].eligible;
    const line = (side: Side): string[] => {
      const rs = of(side);
      const during = pooled(rs, (r) => r.writer);
      const commands = rs.filter((r) => r.commandMs !== undefined).map((r) => r.commandMs!);
      return [
        label[side],
        `${secondsSpread(rs.map((r) => r.deleteMs))}, ${(median(rs.map((r) => r.deleteMs)) / seedDelete).toFixed(2)}×`,
        commands.length ? `${secondsSpread(commands)}, ${(median(commands) / seedCommand).toFixed(2)}×` : '',
        `${Math.max(...rs.map((r) => r.longestTransactionMs.delete)).toFixed(0)} ms` +
          (side === 'activity' ? '' : ` / ${Math.max(...rs.map((r) => r.longestTransactionMs.analyze)).toFixed(0)} ms`),
        latencySummary(during),
        p99OverIdle(during, idle),
        `${median(rs.map((r) => r.writes)).toFixed(0)}`,
        mib(median(rs.map((r) => r.wal))),
        `${median(rs.map((r) => r.postgresCpuMs / 1000)).toFixed(2)} s`,
        `${median(rs.map((r) => r.machineBusy)).toFixed(1)}`,
      ];
    };
    process.stdout.write(
      `\n### ${layout}: ${rows} rows, ${eligible} eligible (${((100 * eligible) / rows).toFixed(0)} %)\n`,
    );
    printTable([
      [
        '',
        'delete: first command → result (median, range, × seed)',
        'command: process start → exit',
        'longest transaction: delete / ANALYZE (sampled)',
        `writer p50 / p99 / max, ${writers} conns`,
        'writer p99 / idle p99',
        'writes/s',
        'WAL (median)',
        'PostgreSQL CPU (median)',
        'machine busy, cores of 2',
      ],
      ...sides.map(line),
      ['writers idle (the second before each run)', '', '', '', latencySummary(idle), '1.00×', '', '', '', ''],
    ]);
    const wfs = of('workflow').map((r) => r.workflow!);
    const ours = [...of('activity'), ...of('workflow')].map((r) => r.result!);
    const m = (pick: (w: WorkflowRun<PruneOptimizationsResult>) => number) => median(wfs.map(pick)).toFixed(0);
    process.stdout.write(
      `\n${rounds} rounds after a warm-up, ABBA order. Ours: ${Math.round(median(ours.map((r) => r.batches)))} key-range batches ` +
        `(median), longest batch ${Math.max(...ours.map((r) => r.longestBatchMs)).toFixed(0)} ms by its own clock. ` +
        `The workflow's time (medians): command start → started ${m((w) => w.startMs)} ms, → delete started ${m((w) => w.firstActivityMs)} ms, ` +
        `delete ${m((w) => w.activityMs.deleteCompletedOptimizations ?? 0)} ms, ANALYZE ${m((w) => w.activityMs.analyzeTables ?? 0)} ms ` +
        `(the seed's ANALYZE statement: ${median(of('seed').map((r) => r.analyzeMs!)).toFixed(0)} ms), ` +
        `workflow tasks between ${m((w) => w.betweenMs)} ms, completed → command exit ${m((w) => w.exitMs)} ms. ` +
        `Targets: the delete ≤ the single statement, no transaction over 100 ms, writer p99 ≤ 2× idle.\n`,
    );
  }
}

main().catch(exitFailed);
