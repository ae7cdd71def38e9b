/**
 * `npm run bench -- backup`: seed 002's database backup against ours on the same database in the same run.
 *
 *   seed   sh -c "pg_dump --exclude-table=temp_* --exclude-table=logs_* <db> | gzip > file"   (the seed's pipeline)
 *   limit  sh -c "pg_dump -Fc -Z0 <db> > /dev/null"               (bare pg_dump, the format ours stores)
 *   ours   dumpDatabase (pg_dump -Fc -Z0 → zstd → S3 multipart upload into the stack's MinIO, manifest and row
 *          counts included), in a node process of its own, which reports its peak RSS
 *
 * Then ours once more as a databaseBackup workflow on the stack's two worker processes (the workflow worker, built
 * by createWorker, and the backup worker, which runs the dump), for what each holds idle and what the dump adds,
 * beside the same figures of the bench process.
 *
 * Every side is timed from its process's start to its exit, in rotating order per round, the first round a
 * warm-up left out of the figures. Data: the database aiops_bench_backup, filled once to --mb megabytes of rows
 * that compress about as application tables do (text, numbers, timestamps, repeated words) and kept between runs.
 */
import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import { createBackupActivities } from '../../src/activities/backups';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/config/temporal-connection';
import type { BackupManifest } from '../../src/contracts/backups';
import { createDeps } from '../../src/workers/deps';
import { createS3Client } from '../../src/workers/s3-client';
import { BACKUP_WORKER_NODE_FLAGS } from '../../src/workers/backup-worker';
import { createWorker } from '../../src/workers/worker';
import type { databaseBackup } from '../../src/workflows';
import { DATA_DIR, ROOT } from '../lib/paths';
import { localPostgresAdminUrl } from '../lib/stack';
import { POSTGRES_BIN } from '../lib/tools';
import {
  exitFailed,
  flag,
  median,
  memorySampler,
  mib,
  printTable,
  progress,
  UsageError,
  type MemoryFigures,
  type MemorySample,
} from './report';

const HELP = `Usage: npm run bench -- backup [--mb N] [--database NAME] [--drop] [--rounds N] [--level N]
         [--only seed|ours|limit] [--no-worker] [--memory-trace] [--restore] [--plain-node]

Defaults: a 2000 MB database (aiops_bench_backup, made once and kept), 3 rounds after a warm-up, zstd level 1.
--database names another database (aiops_bench_*) for another size, and --drop drops it when the run is over.
After the rounds, ours runs once more as a databaseBackup workflow on the stack's two worker processes (the workflow
worker and the backup worker, which runs the dump; on a task queue of the bench's), idle first, for their RSS beside
the dump's increment (--no-worker skips it);
--memory-trace prints every memory sample of our processes (200 ms). Our dump and restore run on node with the
backup worker's flags (src/workers/backup-worker.ts); --plain-node runs them with node's defaults instead.
--restore also restores one of our backups with restoreBackup against pg_restore of the same dump from a file.
Needs the stack (npm start, or npm run stack -- up).
`;

/** --database: another size beside the kept 2 GB one (`--mb 8000 --database aiops_bench_backup_8g --drop`). */
function databaseName(): string {
  const i = process.argv.indexOf('--database');
  if (i < 0) return 'aiops_bench_backup';
  const name = process.argv[i + 1] ?? '';
  // Written into CREATE and DROP DATABASE, where a name cannot be a parameter.
  if (!/^aiops_bench_[a-z0-9_]{1,40}$/.test(name))
    throw new UsageError('--database: a name of lower-case letters, digits and _ that starts with aiops_bench_');
  return name;
}
/** Set from --database by main. */
let DB = 'aiops_bench_backup';
const say = progress('backup');

/** CPU seconds of a process from /proc (clock ticks of 1/100 s), with its reaped children's when asked. */
function cpuSeconds(pid: number | 'self', children: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of proc(5): utime, stime, cutime, cstime; f[0] is field 3.
  return (Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)) / 100;
}

/** A service of the local stack, by the pid its start recorded. */
const servicePid = (name: string) =>
  Number(
    readFileSync(join(DATA_DIR, 'run', `${name}.pid`), 'utf8')
      .trim()
      .split(/\s+/)[0],
  );

/**
 * The server side's CPU: PostgreSQL's postmaster with the backends it has reaped (the dump's connections end with
 * it), and MinIO.
 */
function serverCpu(): { postgres: number; minio: number } {
  return readServerCpu();
}

/** The same, read once the postmaster has had time to reap the backends of the connections that just ended. */
async function serverCpuSettled(): Promise<{ postgres: number; minio: number }> {
  await new Promise((r) => setTimeout(r, 1000));
  return readServerCpu();
}

function readServerCpu(): { postgres: number; minio: number } {
  return { postgres: cpuSeconds(servicePid('postgres'), true), minio: cpuSeconds(servicePid('s3'), false) };
}

/** A shell pipeline timed from its start to its exit, with the CPU of the shell and everything it ran. */
function timeShell(script: string): Promise<{ ms: number; cpu: number }> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'cpu %U %S', 'sh', '-c', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      const ms = performance.now() - t0;
      const m = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`"${script}" exited ${code}: ${stderr}`));
      resolve({ ms, cpu: Number(m[1]) + Number(m[2]) });
    }),
  );
}

async function ensureData(mb: number): Promise<number> {
  const admin = new Client({ connectionString: localPostgresAdminUrl() });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB]);
    if (!exists.rowCount) await admin.query(`CREATE DATABASE ${DB}`);
  } finally {
    await admin.end();
  }
  const c = new Client({ connectionString: localPostgresAdminUrl(DB) });
  await c.connect();
  try {
    const size = async () =>
      Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
    if ((await size()) >= mb * 1e6) return await size();
    say(`filling ${DB} to ${mb} MB (once; kept for the next run)...`);
    await c.query(`CREATE TABLE IF NOT EXISTS events (
      id bigserial PRIMARY KEY, at timestamptz NOT NULL, account text NOT NULL, kind text NOT NULL,
      amount numeric(12,2), note text)`);
    while ((await size()) < mb * 1e6) {
      await c.query(`INSERT INTO events (at, account, kind, amount, note)
        SELECT now() - make_interval(secs => g), 'account-' || (g % 50000),
               (ARRAY['view','click','purchase','refund','signup'])[1 + g % 5], (g % 100000) / 100.0,
               'wedding ' || (g % 9973) || ' vendor ' || md5((g % 100003)::text) || ' guest count ' || (g % 300)
          FROM generate_series(1, 1000000) g`);
      say(`${((await size()) / 1e9).toFixed(2)} GB`);
    }
    await c.query('VACUUM ANALYZE events');
    return await size();
  } finally {
    await c.end();
  }
}

/** The child: one dumpDatabase through the real activity, as a worker runs it; prints its result and peak RSS. */
async function child(level: number): Promise<void> {
  const config = loadConfig();
  const s3 = createS3Client(config.s3);
  const activities = createBackupActivities({ s3, buckets: config.s3.buckets, backups: config.backups });
  const env = new MockActivityEnvironment();
  const trace = process.argv.includes('--memory-trace');
  const sampler = memorySampler(200, trace);
  const manifest = (await env.run(activities.dumpDatabase, {
    backupId: `20000101T000000Z-${Math.random().toString(36).slice(2, 8)}`,
    compressionLevel: level,
    workflowId: 'bench',
  })) as BackupManifest;
  const memory = sampler.stop();
  if (memory.trace) for (const m of memory.trace) say(memoryLine(m));
  const head = await s3.send(new HeadObjectCommand({ Bucket: manifest.bucket, Key: manifest.key }));
  if (head.ContentLength !== manifest.size) throw new Error(`stored ${head.ContentLength}, manifest ${manifest.size}`);
  // --keep leaves the backup for the restore comparison, which deletes it when done.
  if (!process.argv.includes('--keep')) await activities.deleteBackup({ backupId: manifest.backupId });
  process.stdout.write(
    JSON.stringify({
      backupId: manifest.backupId,
      key: manifest.key,
      size: manifest.size,
      dumpBytes: manifest.dumpBytes,
      startRss: memory.start.rss,
      maxRss: process.resourceUsage().maxRSS * 1024,
      memory,
      // This process and pg_dump, which it has reaped by now.
      cpu: cpuSeconds('self', true),
    }),
  );
  s3.destroy();
}

/** The restore child: one restoreBackup into a scratch database through the real activity, then the drop. */
async function restoreChild(backupId: string): Promise<void> {
  const config = loadConfig();
  const s3 = createS3Client(config.s3);
  const activities = createBackupActivities({ s3, buckets: config.s3.buckets, backups: config.backups });
  const database = 'aiops_bench_restore_ours';
  const t0 = performance.now();
  await new MockActivityEnvironment().run(activities.restoreBackup, {
    backupId,
    target: { database },
    workflowId: 'bench-restore',
  });
  const ms = performance.now() - t0;
  const check = await activities.checkRestoredDatabase({ backupId, database });
  if (!check.ok) throw new Error(`restore differs from the manifest: ${check.problems.join('; ')}`);
  await activities.dropScratchDatabase({ database });
  process.stdout.write(
    JSON.stringify({ ms, maxRss: process.resourceUsage().maxRSS * 1024, cpu: cpuSeconds('self', true) }),
  );
  s3.destroy();
}

/**
 * Restore, download included, against pg_restore of the same dump from a local file (downloaded and decompressed
 * beforehand, untimed): each into a fresh database, one transaction, no owners or grants, as the drill restores.
 */
async function compareRestore(): Promise<void> {
  const ours = await runOurs(flag('level', 1), ['--keep']);
  const config = loadConfig({ ...process.env, BACKUP_DATABASE_URL: localPostgresAdminUrl(DB) });
  const s3 = createS3Client(config.s3);
  const file = join(process.env.TMPDIR ?? '/tmp', `aiops-bench-restore-${process.pid}.pgdump`);
  const admin = new Client({ connectionString: localPostgresAdminUrl() });
  await admin.connect();
  const rows: string[][] = [['', 'time', 'CPU s: client / PostgreSQL', 'peak RSS']];
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: config.s3.buckets.backups, Key: ours.key }));
    await pipeline(res.Body as NodeJS.ReadableStream, createZstdDecompress(), createWriteStream(file));
    const u = new URL(localPostgresAdminUrl());
    for (let round = 0; round < 2; round++) {
      await admin.query('DROP DATABASE IF EXISTS aiops_bench_restore_file');
      await admin.query('CREATE DATABASE aiops_bench_restore_file');
      let before = serverCpu();
      const file_ = await timeShell(
        `PGPASSWORD='${u.password}' ${join(POSTGRES_BIN, 'pg_restore')} -h ${u.hostname} -p ${u.port} -U ${u.username} ` +
          `--single-transaction --no-owner --no-privileges -d aiops_bench_restore_file ${file}`,
      );
      const fileCpu = (await serverCpuSettled()).postgres - before.postgres;
      await admin.query('DROP DATABASE aiops_bench_restore_file');
      before = serverCpu();
      const restored = await runRestore(ours.backupId);
      const oursCpu = (await serverCpuSettled()).postgres - before.postgres;
      say(
        `restore round ${round}: pg_restore from a file ${(file_.ms / 1000).toFixed(1)} s, ours ${(restored.ms / 1000).toFixed(1)} s`,
      );
      if (round === 1) {
        rows.push([
          'pg_restore from a local file',
          `${(file_.ms / 1000).toFixed(1)} s`,
          `${file_.cpu.toFixed(1)} / ${fileCpu.toFixed(1)}`,
          '',
        ]);
        rows.push([
          'ours: restoreBackup from MinIO',
          `${(restored.ms / 1000).toFixed(1)} s (${(restored.ms / file_.ms).toFixed(2)}×)`,
          `${restored.cpu.toFixed(1)} / ${oursCpu.toFixed(1)}`,
          mib(restored.maxRss),
        ]);
      }
    }
  } finally {
    rmSync(file, { force: true });
    await admin.query('DROP DATABASE IF EXISTS aiops_bench_restore_file');
    await admin.end();
    await createBackupActivities({ s3, buckets: config.s3.buckets, backups: config.backups }).deleteBackup({
      backupId: ours.backupId,
    });
    s3.destroy();
  }
  process.stdout.write('\nrestore of the same backup (second of two rounds; the first warms the caches):\n');
  printTable(rows);
}

/**
 * Runs this script again as a child (`args` select its part), so its memory and CPU are measured apart from ours;
 * the child prints its figures as JSON, and the time is the parent's from spawn to exit.
 */
/** Ours runs on node as the backup worker runs it, with its flags, unless --plain-node asks for node's defaults. */
const childNodeFlags = () => (process.argv.includes('--plain-node') ? [] : BACKUP_WORKER_NODE_FLAGS);

function runChild<T>(args: string[], what: string): Promise<T & { ms: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...childNodeFlags(), __filename, ...args], {
    env: { ...process.env, BACKUP_DATABASE_URL: localPostgresAdminUrl(DB) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    proc.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${what} exited ${code}`));
      resolve({ ...(JSON.parse(out) as T), ms });
    }),
  );
}

const runRestore = (backupId: string) =>
  runChild<{ maxRss: number; cpu: number }>(['--restore-child', backupId], 'our restore');

interface OursResult {
  ms: number;
  backupId: string;
  key: string;
  size: number;
  dumpBytes: number;
  /** RSS with everything loaded, before the dump, and the process's peak. */
  startRss: number;
  maxRss: number;
  memory: MemorySample;
  cpu: number;
}

const runOurs = (level: number, extra: string[] = []): Promise<OursResult> =>
  runChild<Omit<OursResult, 'ms'>>(
    ['--child', '--level', String(level), ...extra, ...process.argv.filter((a) => a === '--memory-trace')],
    'our backup',
  ).then((r) => {
    const { start, peak } = r.memory;
    say(
      `ours: peak rss ${mib(r.maxRss)} (${mib(start.rss)} before the dump), peaks: heapUsed ${mib(peak.heapUsed)}, ` +
        `arrayBuffers ${mib(peak.arrayBuffers)}, external ${mib(peak.external)}`,
    );
    return r;
  });

/** How long the worker polls before its idle RSS is read: idle is measured after its start-up, not during it. */
const WORKER_SETTLE_MS = 10_000;

/**
 * The worker child: the real worker, built by createWorker as `npm run worker` builds it (the prebuilt workflow
 * bundle, every activity, the same options), polling a task queue of its own. It tells the parent once it has
 * polled idle for a while, samples its memory until told to stop, and reports.
 */
async function workerChild(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const worker = await createWorker(config, deps);
  // Told to stop, or left behind by a bench that died: either way the worker drains and exits.
  process.once('message', () => worker.shutdown());
  process.once('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown());
  const running = worker.run();
  await new Promise((r) => setTimeout(r, WORKER_SETTLE_MS));
  const sampler = memorySampler(200, process.argv.includes('--memory-trace'));
  process.send!({ ready: true });
  await running;
  const memory = sampler.stop();
  await deps.close();
  if (memory.trace) for (const m of memory.trace) say(`worker ${memoryLine(m)}`);
  // ru_maxrss is in KiB: the process's true peak, start-up included, sampled by the kernel rather than by us.
  process.send!({ memory, maxRss: process.resourceUsage().maxRSS * 1024 }, () => process.disconnect());
}

interface WorkerResult {
  ms: number;
  /** Sampled from the idle worker's settled state (start) to its stop after the backup (peak). */
  memory: MemorySample;
  maxRss: number;
}

/** The backup worker process's memory, read from /proc: what it held idle, its sampled peak and the kernel's. */
interface ProcessMemory {
  idleRss: number;
  peakRss: number;
  /** VmHWM: the process's peak since it started, start-up included. */
  hwm: number;
}

const procStatus = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split(`${field}:`)[1] ?? '')?.[1] ?? 0) * 1024;

/** The real backup worker (`npm run backup-worker`'s entry, with its node flags) on the bench's task queue. */
async function startBackupWorker(env: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    [...BACKUP_WORKER_NODE_FLAGS, join(ROOT, 'dist', 'src', 'workers', 'backup-main.js')],
    { env: { ...env, WORKER_HEALTH_ADDRESS: '127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('backup worker polling')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the backup worker exited (${code}) before polling`)));
  });
  child.stdout.resume();
  let idleRss = 0;
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;
  return {
    child,
    /** From now on its RSS is sampled every 20 ms: the idle figure first. */
    watch() {
      idleRss = procStatus(child.pid!, 'VmRSS');
      peakRss = idleRss;
      sampler = setInterval(() => (peakRss = Math.max(peakRss, procStatus(child.pid!, 'VmRSS'))), 20);
    },
    async stop(): Promise<ProcessMemory> {
      clearInterval(sampler);
      const hwm = procStatus(child.pid!, 'VmHWM');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return { idleRss, peakRss, hwm };
    },
  };
}

/**
 * One databaseBackup workflow as the stack runs it: the workflow worker (see workerChild) and the backup worker,
 * each a process of its own, on a task queue of the bench's, started through the Temporal server as a schedule
 * starts it; the backup is deleted after.
 */
async function runOnWorker(level: number): Promise<WorkerResult & { backupWorker: ProcessMemory }> {
  const taskQueue = `bench-backup-${randomUUID()}`;
  const env = { ...process.env, BACKUP_DATABASE_URL: localPostgresAdminUrl(DB), TEMPORAL_TASK_QUEUE: taskQueue };
  const config = loadConfig(env);
  const child = fork(__filename, ['--worker-child', ...process.argv.filter((a) => a === '--memory-trace')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before its report`))),
  );
  exited.catch(() => undefined);
  const next = () =>
    Promise.race([new Promise<Record<string, unknown>>((resolve) => child.once('message', resolve)), exited]);
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const s3 = createS3Client(config.s3);
  const backupWorker = await startBackupWorker(env);
  try {
    await next();
    backupWorker.watch();
    const client = new TemporalClient({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config),
    });
    const t0 = performance.now();
    const result = await Promise.race([
      client.workflow.execute<typeof databaseBackup>('databaseBackup', {
        taskQueue,
        workflowId: taskQueue,
        args: [{ compressionLevel: level }],
        workflowExecutionTimeout: '1 hour',
      }),
      exited,
    ]);
    const ms = performance.now() - t0;
    const backupMemory = await backupWorker.stop();
    const report = next();
    child.send('stop');
    const used = (await report) as Omit<WorkerResult, 'ms'>;
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    await createBackupActivities({ s3, buckets: config.s3.buckets, backups: config.backups }).deleteBackup({
      backupId: result.backupId,
    });
    return { ...used, ms, backupWorker: backupMemory };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (backupWorker.child.exitCode === null) backupWorker.child.kill('SIGKILL');
    await connection.close();
    s3.destroy();
  }
}

/**
 * What the dump costs a worker: the bench process's own figures (a node process with only the backup activities
 * loaded) beside the backup worker's, idle and then running the dump of one databaseBackup, and the workflow
 * worker's, which runs that workflow and never the dump.
 */
async function compareMemory(level: number, ours: { maxRss?: number; startRss?: number }[]): Promise<void> {
  say("ours on the stack's two worker processes: idle, then one databaseBackup...");
  const worker = await runOnWorker(level);
  const { start, peak } = worker.memory;
  const backup = worker.backupWorker;
  say(
    `workflow worker: idle ${mib(start.rss)}, peak ${mib(peak.rss)} in ${(worker.ms / 1000).toFixed(1)} s (peaks: ` +
      `heapUsed ${mib(peak.heapUsed)}, arrayBuffers ${mib(peak.arrayBuffers)}, external ${mib(peak.external)}; ` +
      `the process's peak since it started ${mib(worker.maxRss)})`,
  );
  const increments = ours.map((r) => r.maxRss! - r.startRss!);
  process.stdout.write(
    `\nmemory: RSS before the dump, peak RSS, and the dump's increment (peak less before; over ${ours.length} runs ` +
      `of the bench process, one on the workers)\n`,
  );
  printTable([
    ['', 'RSS before the dump', 'peak RSS', "the dump's increment", 'peak since its start'],
    [
      'bench process: dumpDatabase alone',
      mib(median(ours.map((r) => r.startRss!))),
      mib(Math.max(...ours.map((r) => r.maxRss!))),
      `${mib(median(increments))} (${mib(Math.min(...increments))}-${mib(Math.max(...increments))})`,
      '',
    ],
    [
      'backup worker (npm run backup-worker): the dump',
      mib(backup.idleRss),
      mib(backup.peakRss),
      mib(backup.peakRss - backup.idleRss),
      mib(backup.hwm),
    ],
    [
      'workflow worker (createWorker): the workflow',
      mib(start.rss),
      mib(peak.rss),
      mib(peak.rss - start.rss),
      mib(worker.maxRss),
    ],
  ]);
}

const memoryLine = (m: MemoryFigures & { ms: number }) =>
  `${(m.ms / 1000).toFixed(1).padStart(6)} s  rss ${mib(m.rss)}  heapUsed ${mib(m.heapUsed)}  ` +
  `arrayBuffers ${mib(m.arrayBuffers)}  external ${mib(m.external)}`;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const level = flag('level', 1);
  if (process.argv.includes('--child')) return child(level);
  if (process.argv.includes('--worker-child')) return workerChild();
  const restoreOf = process.argv.indexOf('--restore-child');
  if (restoreOf >= 0) return restoreChild(process.argv[restoreOf + 1]);
  DB = databaseName();
  const mb = flag('mb', 2000);
  const rounds = flag('rounds', 3);
  try {
    await compare(level, mb, rounds);
  } finally {
    if (process.argv.includes('--drop')) await dropData();
  }
}

/** --drop: the database goes once the run is over (a size measured once, too large to keep). */
async function dropData(): Promise<void> {
  const admin = new Client({ connectionString: localPostgresAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    say(`dropped ${DB}`);
  } finally {
    await admin.end();
  }
}

async function compare(level: number, mb: number, rounds: number): Promise<void> {
  const dbSize = await ensureData(mb);
  const u = new URL(localPostgresAdminUrl(DB));
  const conn = `PGPASSWORD='${u.password}' ${join(POSTGRES_BIN, 'pg_dump')} -h ${u.hostname} -p ${u.port} -U ${u.username}`;
  const seedFile = join(process.env.TMPDIR ?? '/tmp', `aiops-bench-seed-${process.pid}.sql.gz`);
  const sides = {
    seed: async () => {
      const r = await timeShell(`${conn} --exclude-table='temp_*' --exclude-table='logs_*' ${DB} | gzip > ${seedFile}`);
      const size = statSync(seedFile).size;
      rmSync(seedFile);
      return { ...r, size };
    },
    limit: async () => ({ ...(await timeShell(`${conn} -Fc -Z0 ${DB} > /dev/null`)), size: 0 }),
    ours: () => runOurs(level),
  };
  type Side = keyof typeof sides;
  interface Run {
    ms: number;
    size: number;
    /** The client side's CPU (the shell and all it ran; or our process and its pg_dump), then the servers'. */
    cpu: number;
    postgresCpu?: number;
    minioCpu?: number;
    maxRss?: number;
    startRss?: number;
    dumpBytes?: number;
  }
  const results: Record<Side, Run[]> = { seed: [], limit: [], ours: [] };
  // --only ours (or seed, limit): one side alone, for trying a change to it quickly; the full run compares all three.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const order = (['seed', 'ours', 'limit'] as Side[]).filter((side) => !only || side === only);
  for (let round = 0; round <= rounds; round++) {
    const sequence = round % 2 ? [...order].reverse() : order;
    for (const side of sequence) {
      const before = serverCpu();
      const r: Run = await sides[side]();
      const after = await serverCpuSettled();
      r.postgresCpu = after.postgres - before.postgres;
      r.minioCpu = after.minio - before.minio;
      say(`round ${round}${round === 0 ? ' (warm-up)' : ''} ${side}: ${(r.ms / 1000).toFixed(1)} s`);
      if (round > 0) results[side].push(r);
    }
  }
  // pg_dump's output size, from our side's manifest (the same dump the others make); 0 when ours did not run.
  const dumpBytes = results.ours.length ? median(results.ours.map((r) => r.dumpBytes!)) : 0;
  const row = (side: Side, label: string) => {
    const ms = results[side].map((r) => r.ms);
    const mbps = (dumpBytes / 1e6 / (median(ms) / 1000)).toFixed(0);
    return [
      label,
      `${(median(ms) / 1000).toFixed(1)} s (${(Math.min(...ms) / 1000).toFixed(1)}-${(Math.max(...ms) / 1000).toFixed(1)})`,
      `${mbps} MB/s`,
      side === 'limit' ? '' : mib(median(results[side].map((r) => r.size))),
      (['cpu', 'postgresCpu', 'minioCpu'] as const)
        .map((k) => median(results[side].map((x) => x[k] ?? 0)).toFixed(1))
        .join(' / '),
      side === 'ours'
        ? `${mib(Math.max(...results.ours.map((r) => r.maxRss!)))} (${mib(median(results.ours.map((r) => r.startRss!)))} before the dump)`
        : '',
    ];
  };
  process.stdout.write(
    `\ndatabase ${DB}: ${(dbSize / 1e9).toFixed(2)} GB on disk, ${(dumpBytes / 1e9).toFixed(2)} GB of pg_dump output; ` +
      `${rounds} rounds after a warm-up, medians (range); MB/s of pg_dump output; zstd level ${level}\n`,
  );
  const labels: Record<Side, string> = {
    seed: 'seed: pg_dump | gzip > file',
    ours: 'ours: dumpDatabase into MinIO',
    limit: 'limit: pg_dump -Fc -Z0 > /dev/null',
  };
  printTable([
    ['', 'time', 'throughput', 'stored', 'CPU s: client / PostgreSQL / MinIO', 'peak RSS'],
    ...(['seed', 'ours', 'limit'] as Side[])
      .filter((side) => results[side].length)
      .map((side) => row(side, labels[side])),
  ]);
  if (results.ours.length && !process.argv.includes('--no-worker')) await compareMemory(level, results.ours);
  if (process.argv.includes('--restore')) await compareRestore();
  if (only) return;
  const ratio = (a: Side, b: Side) =>
    (median(results[b].map((r) => r.ms)) / median(results[a].map((r) => r.ms))).toFixed(2);
  process.stdout.write(
    `\nours: ${ratio('ours', 'seed')}× the seed's throughput, ${ratio('ours', 'limit')}× bare pg_dump's\n`,
  );
}

main().catch(exitFailed);
