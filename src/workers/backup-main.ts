/**
 * The backup worker process: `npm run backup-worker`, and the backup Deployment's command. Polls the backup task
 * queue (backupTaskQueue of TEMPORAL_TASK_QUEUE) for the dump and the restore only, serves the readiness and
 * liveness endpoints on WORKER_HEALTH_ADDRESS, and stops on SIGINT/SIGTERM as the workflow worker does
 * (src/workers/shutdown.ts). It imports nothing the two activities do not need, which is what keeps it small.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { backupTaskQueue } from '../contracts/backups';
import { backupWorkerActivities, createBackupWorker } from './backup-worker';
import { startProbes } from './probes';
import { createS3Client } from './s3-client';
import { SHUTDOWN_CANCEL_SECONDS, SHUTDOWN_MARGIN_SECONDS, shutdownOptions } from './shutdown';

const CLOSE_TIMEOUT_MS = (SHUTDOWN_MARGIN_SECONDS - SHUTDOWN_CANCEL_SECONDS - 1) * 1000;

const log = (level: 'info' | 'error', message: string, fields: Record<string, unknown> = {}) =>
  (level === 'error' ? process.stderr : process.stdout).write(
    `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`,
  );

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'Usage: npm run backup-worker\n\nRuns the aiops-runbooks backup worker: the database dump and restore, on the task\n' +
        'queue TEMPORAL_TASK_QUEUE + "-backups". Configuration as for the worker (README.md "Configuration");\n' +
        'its probes listen on WORKER_HEALTH_ADDRESS.\n',
    );
    return 0;
  }
  const config = loadConfigOrExit();
  const s3 = createS3Client(config.s3);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const worker = await createBackupWorker(
    config,
    backupWorkerActivities({ s3, buckets: config.s3.buckets, backups: config.backups }),
    { connection, overrides: shutdownOptions(config) },
  );
  const probes = await startProbes({ worker, connection, ...config.worker.health, activitiesOnly: true });
  log('info', 'backup worker polling', {
    taskQueue: backupTaskQueue(config.temporal.taskQueue),
    probes: `http://${probes.address.host}:${probes.address.port}/readyz`,
  });
  let code = 0;
  try {
    await worker.run(); // the SDK starts the graceful shutdown on SIGINT/SIGTERM
  } catch (err) {
    log('error', 'backup worker stopped with an error', {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    code = 1;
  }
  const closed = Promise.allSettled([probes.close(), connection.close(), Promise.resolve(s3.destroy())]);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`backup worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
