/**
 * `npm run bench`: the wedding-day crisis protocol under load. Starts N crises at once (distinct weddings, a
 * handful of affected couples each, webhooks answered by a local receiver) against the dev server and one
 * worker, and measures start → stage 1 complete (p50/p99), sustained crises per second and the worker
 * process's peak memory. Beside it, the seed's own stage-1 commands (curl, curl, psql) run one crisis after
 * another against the same receiver and database, as an on-call engineer would.
 * The worker runs in a process of its own, built by the same createWorker as `npm run worker`, so its options,
 * memory and CPU are the production worker's and not shared with the client, the receiver or the measuring.
 */
import { Client, Connection } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { loadConfig } from '../../src/config';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { createDeps } from '../../src/workers/deps';
import { createWorker, WORKER_TUNING } from '../../src/workers/worker';
import { crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { outboundUrlsAt } from '../lib/local-receiver';
import { bringUp, runningSession, type Session } from '../lib/session';
import { readLocalStackFile, withLocalStack } from '../lib/local-stack';
import { runningPid } from '../lib/processes';
import { localPostgresAdminUrl } from '../lib/stack';
import { exitFailed, flag, percentile, printTable, progress as reportProgress } from './report';

const HELP = `Usage: npm run bench -- [--crises N] [--couples N] [--baseline-runs N]
         [--activity-slots N] [--local-activity-slots N] [--workflow-slots N] [--pollers N] [--workflow-threads N] [--cached-workflows N]

Defaults: 500 crises, 3 couples each, 20 baseline runs, and the worker options aiops-runbooks ships with
(src/workers/worker.ts); the worker flags override one option each.
Uses the running npm start stack, or brings one up for the run.
`;

/** The worker flags given on the command line; the rest stay as createWorker sets them. */
function workerOverrides(): Partial<WorkerOptions> {
  const pollers = flag('pollers');
  const given: Partial<WorkerOptions> = {
    maxConcurrentActivityTaskExecutions: flag('activity-slots'),
    maxConcurrentLocalActivityExecutions: flag('local-activity-slots'),
    maxConcurrentWorkflowTaskExecutions: flag('workflow-slots'),
    maxConcurrentActivityTaskPolls: pollers,
    maxConcurrentWorkflowTaskPolls: pollers,
    workflowThreadPoolSize: flag('workflow-threads'),
    maxCachedWorkflows: flag('cached-workflows'),
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}

type WorkerReport = { peakRssBytes: number; cpuMs: number; options: Record<string, unknown> };

/** The worker process: polls the bench's task queue until told to stop, then reports what it used. */
async function workerProcess(): Promise<void> {
  const config = loadConfig(process.env);
  const deps = await createDeps(config);
  const worker = await createWorker(config, deps, { overrides: workerOverrides() });
  const options = { ...WORKER_TUNING, ...workerOverrides(), maxCachedWorkflows: worker.options.maxCachedWorkflows };
  // Told to stop, or left behind by a bench that died: either way the worker drains and exits.
  process.once('message', () => worker.shutdown());
  process.once('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown());
  const running = worker.run();
  process.send!({ ready: true });
  await running;
  await deps.close();
  const cpu = process.cpuUsage();
  // ru_maxrss is in KiB: the process's true peak, sampled by the kernel rather than by us.
  const report: WorkerReport = {
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMs: (cpu.user + cpu.system) / 1000,
    options,
  };
  // Letting go of the channel is what lets this process end.
  process.send!(report, () => process.disconnect());
}

function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; report: Promise<WorkerReport> }> {
  const child = fork(__filename, ['--worker-process', ...process.argv.slice(2)], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.on('message', (m: Partial<WorkerReport>) => m.peakRssBytes !== undefined && resolve(m as WorkerReport));
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) without a report`)));
  });
  report.catch(() => undefined);
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ child, report }));
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it was ready`)));
  });
}

/** User + system CPU a process has used so far, from /proc (Linux's clock ticks are 100 a second). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// Async: the receiver answering these commands lives in this process.
const run = promisify(execFile);

const progress = reportProgress('crisis');

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  if (process.argv.includes('--worker-process')) return workerProcess();
  const crises = flag('crises', 500);
  const couples = flag('couples', 3);
  const baselineRuns = flag('baseline-runs', 20);

  progress('preparing');
  const session: Session | undefined = runningSession() ? undefined : await bringUp({ adopt: false });
  // The stack's settings for what the operator did not set (the preload found no settings file before this start).
  Object.assign(process.env, withLocalStack(process.env, readLocalStackFile()));
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dbUrl = new URL(loadConfig().postgres.url);
  dbUrl.pathname = '/aiops_bench';
  await bootstrapDatabase({
    adminUrl: localPostgresAdminUrl(),
    appUrl: dbUrl.toString(),
  });
  // Every run starts from empty tables: the worker role may not delete audit records, and earlier runs' rows
  // would make each progress poll and each insert of this run dearer than the one before.
  const admin = new PgClient({ connectionString: localPostgresAdminUrl('aiops_bench') });
  await admin.connect();
  await admin.query('TRUNCATE audit_log, crisis_notifications, couple_notifications, active_crises');
  await admin.end();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...outboundUrlsAt(base),
    DATABASE_URL: dbUrl.toString(),
    DATABASE_POOL_MAX: '20',
  };
  const config = loadConfig(env);
  const deps = await createDeps(config);
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
      await run('curl', [
        '-sf',
        '-o',
        '/dev/null',
        '-X',
        'POST',
        url,
        '-H',
        'Content-Type: application/json',
        '-d',
        '{"type": "ai_crisis_failure", "severity": "critical"}',
      ]);
    }
    const q = await run('psql', [
      dbUrl.toString(),
      '-Atc',
      "SELECT wedding_id, couple_email, crisis_type FROM active_crises WHERE status = 'ai_processing' AND created_at > NOW() - INTERVAL '1 hour';",
    ]);
    // One notification per couple found, as the runbook leaves it to the engineer: a curl each.
    for (const line of q.stdout.trim().split('\n')) {
      await run('curl', [
        '-sf',
        '-o',
        '/dev/null',
        '-X',
        'POST',
        env.WEDSYNC_COUPLE_NOTIFY_URL!,
        '-d',
        JSON.stringify({ couple: line.split('|')[1] }),
      ]);
    }
    baseline.push(performance.now() - t0);
  }

  progress(`workflows: starting ${crises} crises at once`);
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await startWorkerProcess({ ...env, TEMPORAL_TASK_QUEUE: taskQueue });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const runTag = randomUUID().slice(0, 8);

  const serverPid = runningPid('temporal');
  const serverCpuBefore = serverPid === undefined ? undefined : processCpuMs(serverPid);
  const t0 = Date.now();
  const handles = await Promise.all(
    Array.from({ length: crises }, (_, i) => {
      const input = { failure: `bench-${runTag}`, weddingId: `bench-${i}` };
      return client.workflow.start('weddingDayCrisis', {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
    }),
  );
  const startedAllMs = Date.now() - t0;
  progress(`all started in ${startedAllMs} ms; waiting for stage 1`);
  // Completion is read from the audit log, not by querying workflows, so measuring adds no load to the worker.
  const prefix = `crisis-takeover-bench-${runTag}-%`;
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
  const { rows: done } = await deps.pool.query<{ at: Date }>(
    `SELECT recorded_at AS at FROM audit_log WHERE workflow_id LIKE $1 AND step = 'stage1' AND action = 'stage'`,
    [prefix],
  );
  const serverCpuMs =
    serverPid === undefined || serverCpuBefore === undefined ? undefined : processCpuMs(serverPid) - serverCpuBefore;
  const results = {
    latencies: done.map((r) => r.at.getTime() - t0).sort((a, b) => a - b),
    startedAllMs,
    spanMs: Math.max(...done.map((r) => r.at.getTime())) - t0,
  };
  await Promise.all(handles.map((h) => h.terminate('benchmark over')));
  worker.child.send('stop');
  const used = await worker.report;
  await new Promise((resolve) =>
    worker.child.exitCode === null ? worker.child.once('exit', resolve) : resolve(undefined),
  );

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
      `${(used.peakRssBytes / 1024 / 1024).toFixed(0)} MiB`,
    ],
  ];
  printTable(rows);
  process.stdout.write(
    `\nstarting all ${crises} took ${results.startedAllMs} ms; the worker used ${(used.cpuMs / 1000).toFixed(1)} s of CPU ` +
      `(${(used.cpuMs / crises).toFixed(0)} ms a crisis)` +
      (serverCpuMs === undefined
        ? "; the dev server is not the local stack's, so its CPU is not shown"
        : `, the dev server ${(serverCpuMs / 1000).toFixed(1)} s until the last crisis was through stage 1 (${(serverCpuMs / crises).toFixed(0)} ms a crisis)`) +
      `; worker options ${JSON.stringify(used.options)}; targets: p99 < 5000 ms, ≥ 35 crises/s\n`,
  );

  await connection.close();
  await deps.close();
  server.close();
  await session?.stop();
}

main().catch(exitFailed);
