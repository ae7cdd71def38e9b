/**
 * The backup worker: the dump and the restore (BACKUP_WORKER_ACTIVITIES), polled on their own task queue
 * (backupTaskQueue) by a process that loads only what they need. They stream gigabytes; in the workflow worker,
 * beside its workflow threads and every other system's client, they would share one memory limit with everything
 * else. Here the process idles near 100 MiB and the dump's fixed part buffers are most of what it adds.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from '../activities';
import { createDumpActivities } from '../activities/backups/dump';
import { createRestoreActivities } from '../activities/backups/restore';
import { createBackupStore, type BackupDeps } from '../activities/backups/store';
import { configuredSecrets, redactingActivityInterceptor } from '../activities/redaction';
import { dataConverter } from '../client/data-converter';
import type { AppConfig } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { BACKUP_WORKER_ACTIVITIES, backupTaskQueue } from '../contracts/backups';
import { HEARTBEAT_OPTIONS } from './heartbeats';

export type BackupWorkerActivities = Pick<Activities, (typeof BACKUP_WORKER_ACTIVITIES)[number]>;

/**
 * Two at a time: a scheduled dump and a verification drill's restore may overlap, and each holds fixed buffers
 * (the dump's three 8 MiB parts), so the worker's memory is bounded by this count, not by the databases' sizes.
 */
export const BACKUP_WORKER_CONCURRENCY = 2;

/**
 * Node's flags for the backup worker's process (the npm script, the session's start, the image's command). The
 * dump's and the restore's work is done by pg_dump, zstd, pg_restore and native hashing; the JavaScript between them
 * runs per chunk, so V8's compilers bought nothing measurable (README, Benchmark: the same client CPU either way)
 * and cost memory; a small young generation keeps V8 from growing semi-spaces for what the dump frees at once.
 * Together they take the peak of a 2 GB dump from 141 to 125 MiB, and of its restore from 195 to 113 MiB.
 */
export const BACKUP_WORKER_NODE_FLAGS = ['--max-semi-space-size=1', '--jitless'] as const;

export function backupWorkerActivities(deps: BackupDeps): BackupWorkerActivities {
  const store = createBackupStore(deps);
  return {
    dumpDatabase: createDumpActivities(deps, store).dumpDatabase,
    restoreBackup: createRestoreActivities(deps, store).restoreBackup,
  };
}

/** The backup worker's activities out of a larger set, e.g. a test's with its faults. */
export function pickBackupWorkerActivities(activities: BackupWorkerActivities): BackupWorkerActivities {
  const { dumpDatabase, restoreBackup } = activities;
  return { dumpDatabase, restoreBackup };
}

export async function createBackupWorker(
  config: AppConfig,
  activities: BackupWorkerActivities,
  options: { connection?: NativeConnection; overrides?: Partial<WorkerOptions> } = {},
): Promise<Worker> {
  const connection = options.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config.temporal)));
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: backupTaskQueue(config.temporal.taskQueue),
    activities: pickBackupWorkerActivities(activities),
    dataConverter: dataConverter(config),
    interceptors: { activity: [redactingActivityInterceptor(configuredSecrets(config))] },
    maxConcurrentActivityTaskExecutions: BACKUP_WORKER_CONCURRENCY,
    ...HEARTBEAT_OPTIONS,
    ...options.overrides,
  });
}
