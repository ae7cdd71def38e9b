/**
 * The worker process the crash tests kill: the real workflow worker (prebuilt bundle, all activities) and the real
 * backup worker in one process, so that one kill stops whichever runs the step under test; heartbeats reach the
 * server within 100 ms instead of every 24 s, so the test can read the checkpoint the worker dies at.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/config/temporal-connection';
import { backupWorkerActivities, createBackupWorker } from '../../src/workers/backup-worker';
import { createDeps } from '../../src/workers/deps';
import { createWorker } from '../../src/workers/worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const overrides = { maxHeartbeatThrottleInterval: '100 ms' };
  const workers = await Promise.all([
    createWorker(config, deps, { connection, overrides }),
    createBackupWorker(config, backupWorkerActivities(deps), { connection, overrides }),
  ]);
  await Promise.all(workers.map((w) => w.run()));
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
