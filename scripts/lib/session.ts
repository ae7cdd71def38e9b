/**
 * Brings the whole local environment up: the stack, the database schema and demo data, the buckets, the
 * Temporal namespace, the demo API, the worker and the schedules. Used by `npm start` and, when nothing is
 * running yet, by `npm test`. A failure or an interrupt at any step stops what was started so far (and, for
 * `npm start`, what it adopted) before the error goes on.
 */
import Long from 'long';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig, type AppConfig } from '../../src/config';
import { bootstrapDatabase, seedDemoData } from '../../src/db/bootstrap';
import { registerSchedules, type RegistrationResult } from '../../src/schedules/register';
import { SCHEDULES } from '../../src/schedules/table';
import { backupTaskQueue } from '../../src/contracts/backups';
import { BACKUP_WORKER_NODE_FLAGS } from '../../src/workers/backup-worker';
import { createS3Client } from '../../src/workers/s3-client';
import { SHUTDOWN_MARGIN_SECONDS } from '../../src/workers/shutdown';
import { startDemoApi, type DemoApi } from './demo-api';
import { throwIfInterrupted } from './interrupt';
import { LOCAL_PORTS, localStackSettings, usesDemoApi, withLocalStack } from './local-stack';
import { ensureDir, ROOT, RUN_DIR } from './paths';
import {
  forgetService,
  isAlive,
  log,
  logPath,
  runningPid,
  runningServices,
  spawnService,
  stopPid,
  waitFor,
} from './processes';
import { emptyStackState, localPostgresAdminUrl, SERVICE_NAMES, stackDown, stackUp } from './stack';
import { ensureTemporalCli } from './tools';
import { temporalConnectionOptions } from '../../src/config/temporal-connection';

export const SESSION_FILE = join(RUN_DIR, 'session.json');
/** The pid of an `npm start` from its first moment, before the session is up (session.json says it is up). */
export const START_FILE = join(RUN_DIR, 'start.pid');

export interface SessionInfo {
  pid: number;
  startedAt: string;
  temporalCli: string;
  schedules: RegistrationResult[];
}

export interface Session {
  config: AppConfig;
  /** The environment of the worker: the operator's settings, with the local stack's for the rest. */
  env: NodeJS.ProcessEnv;
  info: SessionInfo;
  stop(): Promise<void>;
}

/** The session of an `npm start` that is still running, if any. */
export function runningSession(): SessionInfo | undefined {
  if (!existsSync(SESSION_FILE)) return undefined;
  const info = JSON.parse(readFileSync(SESSION_FILE, 'utf8')) as SessionInfo;
  return isAlive(info.pid) ? info : undefined;
}

/** The pid of an `npm start` that is running, up or still starting, if any. */
export function runningStart(): number | undefined {
  const session = runningSession();
  if (session) return session.pid;
  if (!existsSync(START_FILE)) return undefined;
  const pid = Number(readFileSync(START_FILE, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/** Records this process as the running `npm start` until `release` is called. */
export function claimStart(): { release: () => void } {
  ensureDir(RUN_DIR);
  writeFileSync(START_FILE, String(process.pid));
  return {
    release: () => {
      if (existsSync(START_FILE) && readFileSync(START_FILE, 'utf8').trim() === String(process.pid))
        rmSync(START_FILE, { force: true });
    },
  };
}

async function ensureBuckets(config: AppConfig): Promise<void> {
  const s3 = createS3Client(config.s3);
  try {
    for (const bucket of [...Object.values(config.s3.buckets), config.scrollUniversity.evidenceBucket]) {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        log(`created bucket ${bucket}`);
      }
    }
  } finally {
    s3.destroy();
  }
}

async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(30 * 24 * 3600) },
    });
    log(`registered Temporal namespace ${namespace}`);
  }
}

async function polled(client: Client, config: AppConfig, taskQueue: string, type: 'workflow' | 'activity') {
  const res = await client.workflowService.describeTaskQueue({
    namespace: config.temporal.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: type === 'workflow' ? 1 : 2, // TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY
  });
  return (res.pollers ?? []).length > 0;
}

/** The two worker processes: the workflow worker and the backup worker (src/workers/backup-worker.ts). */
const WORKERS = ['worker', 'backup-worker'] as const;

export interface BringUpOptions {
  /**
   * Whether this session owns the services an earlier start left running: `npm start` does (it says so, and stops
   * them on exit); `npm test` leaves them as it found them and stops only what it started.
   */
  adopt: boolean;
}

export async function bringUp(options: BringUpOptions): Promise<Session> {
  // The operator's settings, with the local stack's for the rest; bad ones fail before anything starts.
  const settings = localStackSettings();
  const env = withLocalStack(process.env, settings);
  const config = loadConfig(env);
  const left = runningServices([...SERVICE_NAMES, ...WORKERS]);
  if (left.size > 0) {
    const names = [...left].map(([name, pid]) => `${name} (pid ${pid})`).join(', ');
    log(
      options.adopt
        ? `adopting what an earlier start left running: ${names}; they stop with this one`
        : `using what an earlier start left running: ${names}; left running afterwards`,
    );
  }
  const stack = emptyStackState();
  let demoApi: DemoApi | undefined;
  let connection: Connection | undefined;
  // As long as a pod would wait: the worker lets running activities finish first (src/workers/worker.ts).
  const workerStopMs = (config.worker.shutdownGraceSeconds + SHUTDOWN_MARGIN_SECONDS) * 1000;

  const stop = async () => {
    await Promise.all(
      WORKERS.map(async (name) => {
        const pid = runningPid(name);
        if (pid === undefined) return;
        await stopPid(pid, 'SIGTERM', workerStopMs);
        forgetService(name);
        log(`${name} stopped`);
      }),
    );
    await demoApi?.close();
    await connection?.close();
    await stackDown(options.adopt ? SERVICE_NAMES : stack.started);
    rmSync(SESSION_FILE, { force: true });
  };

  try {
    const temporalCli = await ensureTemporalCli();
    await stackUp(stack);

    if (!stack.external.includes('postgres')) {
      throwIfInterrupted();
      const adminUrl = localPostgresAdminUrl();
      const { applied } = await bootstrapDatabase({ adminUrl, appUrl: config.postgres.url });
      if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
      const adminApp = new URL(adminUrl);
      adminApp.pathname = new URL(config.postgres.url).pathname;
      if (await seedDemoData(adminApp.toString())) log('loaded demo data');
    }
    throwIfInterrupted();
    await ensureBuckets(config);

    throwIfInterrupted();
    if (usesDemoApi(settings)) {
      demoApi = await startDemoApi(config.postgres.url, LOCAL_PORTS.demoApi, logPath('demo-api-received'), {
        kubeconfig: config.kubernetes.kubeconfig,
        namespace: config.scrollUniversity.namespace,
        aiNamespace: config.kubernetes.aiNamespace,
      });
    }

    throwIfInterrupted();
    connection = await Connection.connect(temporalConnectionOptions(config.temporal));
    await ensureNamespace(connection, config.temporal.namespace);
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(config),
    });

    // Workers left over from an earlier start may run older code: replace them.
    await Promise.all(
      WORKERS.map(async (name) => {
        const stale = runningPid(name);
        if (stale !== undefined) await stopPid(stale, 'SIGTERM', workerStopMs);
      }),
    );
    const workerPid = spawnService('worker', process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      cwd: ROOT,
      env,
    });
    const backups = backupTaskQueue(config.temporal.taskQueue);
    const backupWorkerPid = spawnService(
      'backup-worker',
      process.execPath,
      [...BACKUP_WORKER_NODE_FLAGS, join(ROOT, 'dist', 'src', 'workers', 'backup-main.js')],
      { cwd: ROOT, env: { ...env, WORKER_HEALTH_ADDRESS: `127.0.0.1:${LOCAL_PORTS.backupWorkerHealth}` } },
    );
    await Promise.all([
      waitFor('worker', () => polled(client, config, config.temporal.taskQueue, 'workflow'), {
        timeoutMs: 120_000,
        pid: workerPid,
      }),
      waitFor('backup-worker', () => polled(client, config, backups, 'activity'), {
        timeoutMs: 120_000,
        pid: backupWorkerPid,
      }),
    ]);
    log(`worker is polling task queue ${config.temporal.taskQueue} (pid ${workerPid})`);
    log(`backup worker is polling task queue ${backups} (pid ${backupWorkerPid})`);

    throwIfInterrupted();
    const schedules = await registerSchedules(client, SCHEDULES, config.temporal.taskQueue);
    throwIfInterrupted();
    const info: SessionInfo = { pid: process.pid, startedAt: new Date().toISOString(), temporalCli, schedules };
    ensureDir(RUN_DIR);
    writeFileSync(SESSION_FILE, JSON.stringify(info, null, 2));
    return { config, env, info, stop };
  } catch (err) {
    await stop().catch((stopErr: unknown) =>
      log(`could not stop everything: ${stopErr instanceof Error ? stopErr.message : String(stopErr)}`),
    );
    throw err;
  }
}
