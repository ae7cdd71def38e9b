/**
 * The worker process the crash tests kill: the real worker (prebuilt bundle, all activities), except that
 * heartbeats reach the server within 100 ms instead of every 24 s, so the test can read the checkpoint the
 * worker dies at.
 */
import { loadConfig } from '../../src/config';
import { createDeps } from '../../src/workers/deps';
import { createWorker } from '../../src/workers/worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const worker = await createWorker(config, deps, { overrides: { maxHeartbeatThrottleInterval: '100 ms' } });
  await worker.run();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
