/**
 * Brings the whole local environment up: the stack, the database schema and demo data, the buckets, the
 * Temporal namespace, the demo API, the worker and the schedules. Used by `npm start` and, when nothing is
 * running yet, by `npm test`.
 */
import Long from 'long';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endpointsSetByOperator, LOCAL_PORTS, loadConfig, type AppConfig } from '../../src/config';
import { bootstrapDatabase, seedDemoData } from '../../src/db/bootstrap';
import { registerSchedules, type RegistrationResult } from '../../src/schedules/register';
import { SCHEDULES } from '../../src/schedules/table';
import { createS3Client } from '../../src/workers/deps';
import { SHUTDOWN_MARGIN_SECONDS } from '../../src/workers/worker';
import { startDemoApi, type DemoApi } from './demo-api';
import { ensureDir, ROOT, RUN_DIR } from './paths';
import { isAlive, log, logPath, runningPid, spawnService, stopPid, waitFor, forgetService } from './processes';
import { localClusterEnv } from './kube-local';
import { localPostgresAdminUrl, stackDown, stackUp, type StackState } from './stack';
import { ensureTemporalCli } from './tools';

export const SESSION_FILE = join(RUN_DIR, 'session.json');

export interface SessionInfo {
  pid: number;
  startedAt: string;
  temporalCli: string;
  schedules: RegistrationResult[];
}

export interface Session {
  config: AppConfig;
  info: SessionInfo;
  stop(): Promise<void>;
}

/** The session of an `npm start` that is still running, if any. */
export function runningSession(): SessionInfo | undefined {
  if (!existsSync(SESSION_FILE)) return undefined;
  const info = JSON.parse(readFileSync(SESSION_FILE, 'utf8')) as SessionInfo;
  return isAlive(info.pid) ? info : undefined;
}

async function ensureBuckets(config: AppConfig): Promise<void> {
  const s3 = createS3Client(config.s3);
  try {
    for (const bucket of Object.values(config.s3.buckets)) {
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

async function workerPolling(client: Client, config: AppConfig): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: config.temporal.namespace,
    taskQueue: { name: config.temporal.taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (res.pollers ?? []).length > 0;
}

export async function bringUp(): Promise<Session> {
  const config = loadConfig(); // fail on bad configuration before starting anything
  const temporalCli = ensureTemporalCli();
  let stack: StackState | undefined;
  let demoApi: DemoApi | undefined;
  let connection: Connection | undefined;
  // As long as a pod would wait: the worker lets running activities finish first (src/workers/worker.ts).
  const workerStopMs = (config.worker.shutdownGraceSeconds + SHUTDOWN_MARGIN_SECONDS) * 1000;

  const stop = async () => {
    const workerPid = runningPid('worker');
    if (workerPid !== undefined) {
      await stopPid(workerPid, 'SIGTERM', workerStopMs);
      forgetService('worker');
      log('worker stopped');
    }
    await demoApi?.close();
    await connection?.close();
    if (stack) await stackDown(stack.started);
    rmSync(SESSION_FILE, { force: true });
  };

  try {
    stack = await stackUp();

    if (!stack.external.includes('postgres')) {
      const adminUrl = localPostgresAdminUrl();
      const { applied } = await bootstrapDatabase({ adminUrl, appUrl: config.postgres.url });
      if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
      const adminApp = new URL(adminUrl);
      adminApp.pathname = new URL(config.postgres.url).pathname;
      if (await seedDemoData(adminApp.toString())) log('loaded demo data');
    }
    await ensureBuckets(config);

    if (!endpointsSetByOperator().wedsyncApi) {
      demoApi = await startDemoApi(config.postgres.url, LOCAL_PORTS.demoApi, logPath('demo-api-received'));
    }

    connection = await Connection.connect({ address: config.temporal.address });
    await ensureNamespace(connection, config.temporal.namespace);
    const client = new Client({ connection, namespace: config.temporal.namespace });

    // A worker left over from an earlier start may run older code: replace it.
    const stale = runningPid('worker');
    if (stale !== undefined) await stopPid(stale, 'SIGTERM', workerStopMs);
    const workerPid = spawnService('worker', process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...localClusterEnv() },
    });
    await waitFor('worker', () => workerPolling(client, config), { timeoutMs: 120_000, pid: workerPid });
    log(`worker is polling task queue ${config.temporal.taskQueue} (pid ${workerPid})`);

    const schedules = await registerSchedules(client, SCHEDULES, config.temporal.taskQueue);
    const info: SessionInfo = { pid: process.pid, startedAt: new Date().toISOString(), temporalCli, schedules };
    ensureDir(RUN_DIR);
    writeFileSync(SESSION_FILE, JSON.stringify(info, null, 2));
    return { config, info, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
