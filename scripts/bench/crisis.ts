/**
 * `npm run bench`: the wedding-day crisis protocol under load. Starts N crises at once (distinct weddings, a
 * handful of affected couples each, webhooks answered by a local receiver) against the dev server and one
 * worker, and measures start → stage 1 complete (p50/p99), sustained crises per second and the worker
 * process's peak memory. Beside it, the seed's own stage-1 commands (curl, curl, psql) run one crisis after
 * another against the same receiver and database, as an on-call engineer would.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createActivities } from '../../src/activities';
import { LOCAL_PORTS, loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { createDeps } from '../../src/workers/deps';
import { WORKFLOW_BUNDLE_PATH } from '../../src/workers/worker';
import { crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { outboundUrlsAt } from '../lib/local-receiver';
import { bringUp, runningSession, type Session } from '../lib/session';
import { POSTGRES_ADMIN } from '../lib/stack';

const HELP = `Usage: npm run bench -- [--crises N] [--couples N] [--baseline-runs N] [--activity-slots N] [--workflow-slots N] [--pollers N]

Defaults: 500 crises, 3 couples each, 20 baseline runs, and the worker options aiops-runbooks ships with.
Uses the running npm start stack, or brings one up for the run.
`;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: must be a whole number above 0`);
  return n;
}

// Async: the receiver answering these commands lives in this process.
const run = promisify(execFile);

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const crises = flag('crises', 500);
  const couples = flag('couples', 3);
  const baselineRuns = flag('baseline-runs', 20);
  const tuning: Partial<WorkerOptions> = {
    maxConcurrentActivityTaskExecutions: flag('activity-slots', 200),
    maxConcurrentWorkflowTaskExecutions: flag('workflow-slots', 100),
    maxConcurrentActivityTaskPolls: flag('pollers', 8),
    maxConcurrentWorkflowTaskPolls: flag('pollers', 8),
  };

  progress('preparing');
  const session: Session | undefined = runningSession() ? undefined : await bringUp();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dbUrl = new URL(loadConfig().postgres.url);
  dbUrl.pathname = '/aiops_bench';
  await bootstrapDatabase({
    adminUrl: `postgres://${POSTGRES_ADMIN.user}:${POSTGRES_ADMIN.password}@127.0.0.1:${LOCAL_PORTS.postgres}/postgres`,
    appUrl: dbUrl.toString(),
  });
  const env: NodeJS.ProcessEnv = { ...process.env, ...outboundUrlsAt(base), DATABASE_URL: dbUrl.toString(), DATABASE_POOL_MAX: '20' };
  const config = loadConfig(env);
  const deps = await createDeps(config);
  await deps.pool.query('DELETE FROM active_crises');
  await deps.pool.query(
    `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
     SELECT 'bench-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now() FROM generate_series(1, $1) g`,
    [couples],
  );

  progress(`baseline: the seed's commands, ${baselineRuns} crises one after another`);
  // Baseline: the seed's stage-1 commands, one crisis after another.
  const baseline: number[] = [];
  for (let i = 0; i < baselineRuns; i++) {
    const t0 = performance.now();
    for (const url of [env.WEDSYNC_EMERGENCY_ALERT_URL!, env.WEDSYNC_MANUAL_MODE_URL!]) {
      await run('curl', ['-sf', '-o', '/dev/null', '-X', 'POST', url, '-H', 'Content-Type: application/json', '-d', '{"type": "ai_crisis_failure", "severity": "critical"}']);
    }
    const q = await run('psql', [dbUrl.toString(), '-Atc', "SELECT wedding_id, couple_email, crisis_type FROM active_crises WHERE status = 'ai_processing' AND created_at > NOW() - INTERVAL '1 hour';"]);
    // One notification per couple found, as the runbook leaves it to the engineer: a curl each.
    for (const line of q.stdout.trim().split('\n')) {
      await run('curl', ['-sf', '-o', '/dev/null', '-X', 'POST', env.WEDSYNC_COUPLE_NOTIFY_URL!, '-d', JSON.stringify({ couple: line.split('|')[1] })]);
    }
    baseline.push(performance.now() - t0);
  }

  progress(`workflows: starting ${crises} crises at once`);
  const taskQueue = `bench-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
    activities: createActivities(deps),
    ...tuning,
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const runTag = randomUUID().slice(0, 8);

  const results = await worker.runUntil(async () => {
    const t0 = Date.now();
    const handles = await Promise.all(
      Array.from({ length: crises }, (_, i) => {
        const input = { weddingId: `bench-${runTag}-${i}`, crisisType: 'ai_failure' as const };
        return client.workflow.start('weddingDayCrisis', { taskQueue, workflowId: crisisWorkflowId(input), args: [input] });
      }),
    );
    const startedAllMs = Date.now() - t0;
    progress(`all started in ${startedAllMs} ms; waiting for stage 1`);
    // Completion is read from the audit log, not by querying workflows, so measuring adds no load to the worker.
    const prefix = `wedding-crisis-bench-${runTag}-%`;
    for (;;) {
      const { rows } = await deps.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_log WHERE workflow_id LIKE $1 AND step = 'stage1' AND action = 'stage'`,
        [prefix],
      );
      const done = Number(rows[0].n);
      if (done >= crises) break;
      progress(`${done}/${crises} through stage 1`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // recorded_at is the database's clock when the stage-1 record landed, after stage 1 really finished; the
    // record's occurred_at is workflow time, which stands still while local activities run inside one task.
    const { rows } = await deps.pool.query<{ at: Date }>(
      `SELECT recorded_at AS at FROM audit_log WHERE workflow_id LIKE $1 AND step = 'stage1' AND action = 'stage'`,
      [prefix],
    );
    const latencies = rows.map((r) => r.at.getTime() - t0);
    const lastDone = Math.max(...rows.map((r) => r.at.getTime()));
    await Promise.all(handles.map((h) => h.terminate('benchmark over')));
    return { latencies: latencies.sort((a, b) => a - b), startedAllMs, spanMs: lastDone - t0 };
  });
  clearInterval(sampler);

  const sortedBaseline = baseline.sort((a, b) => a - b);
  const rows = [
    ['', 'p50 start→stage 1', 'p99 start→stage 1', 'crises/s', 'peak RSS'],
    [
      `seed commands (curl, curl, psql, curl ×${couples}), one crisis at a time`,
      `${percentile(sortedBaseline, 50).toFixed(0)} ms`,
      `${percentile(sortedBaseline, 99).toFixed(0)} ms`,
      (1000 / (sortedBaseline.reduce((a, b) => a + b, 0) / sortedBaseline.length)).toFixed(1),
      'n/a',
    ],
    [
      `weddingDayCrisis ×${crises} at once, one worker`,
      `${percentile(results.latencies, 50)} ms`,
      `${percentile(results.latencies, 99)} ms`,
      (crises / (results.spanMs / 1000)).toFixed(1),
      `${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
    ],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  process.stdout.write(`\n${line(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.slice(1).map(line).join('\n')}\n`);
  process.stdout.write(
    `\nstarting all ${crises} took ${results.startedAllMs} ms; worker options ${JSON.stringify(tuning)}; targets: p99 < 5000 ms, ≥ 35 crises/s\n`,
  );

  await connection.close();
  await nativeConnection.close();
  await deps.close();
  server.close();
  await session?.stop();
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
