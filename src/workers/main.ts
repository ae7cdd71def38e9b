/**
 * The worker process: `npm run worker`. Reads configuration, connects to Temporal and the systems the
 * activities act on, and polls the task queue until SIGINT/SIGTERM, finishing in-flight work before it exits.
 */
import { loadConfigOrExit, redactConfig } from '../config';
import { createDeps } from './deps';
import { createWorker } from './worker';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'Usage: npm run worker\n\nRuns the aiops-runbooks worker. Configuration comes from the environment and the\n' +
        'optional JSON file named by AIOPS_CONFIG_FILE; see README.md "Configuration".\n',
    );
    return;
  }
  const config = loadConfigOrExit();
  const deps = await createDeps(config);
  const worker = await createWorker(config, deps);
  const safe = redactConfig(config);
  process.stdout.write(
    `worker polling task queue "${config.temporal.taskQueue}" on ${safe.temporal.address} (namespace ${safe.temporal.namespace})\n`,
  );
  try {
    await worker.run(); // the SDK shuts down gracefully on SIGINT/SIGTERM
  } finally {
    await deps.close();
  }
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
