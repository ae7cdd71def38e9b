/**
 * The worker process: `npm run worker`, and the container's command. Reads configuration, connects to Temporal
 * and the systems the activities act on, serves the readiness and liveness endpoints, and polls the task queue
 * until SIGINT/SIGTERM. Then it stops polling, gives running activities the shutdown grace time to finish
 * (cancelling them after it), closes its clients and exits, within the pod's terminationGracePeriodSeconds.
 * SIGHUP re-reads the roster (roster-reload.ts).
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startAlertReceiver, type AlertReceiver } from '../alerts/receiver';
import { dataConverter } from '../client/data-converter';
import { startCodecServer } from '../codec/server';
import { loadConfigOrExit, redactConfig } from '../config';
import { createDeps } from './deps';
import { startProbes } from './probes';
import { reloadRosterOnHangup } from './roster-reload';
import { installTelemetry } from './telemetry';
import { SHUTDOWN_CANCEL_SECONDS, SHUTDOWN_MARGIN_SECONDS, shutdownOptions } from './shutdown';
import { createWorker } from './worker';
import { temporalConnectionOptions } from '../config/temporal-connection';

/** Bounds closing the clients: an activity the SDK gave up on may still hold a database client, and pool.end waits for it. */
const CLOSE_TIMEOUT_MS = (SHUTDOWN_MARGIN_SECONDS - SHUTDOWN_CANCEL_SECONDS - 1) * 1000;

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'Usage: npm run worker\n\nRuns the aiops-runbooks worker. Configuration comes from the environment and the\n' +
        'optional JSON file named by AIOPS_CONFIG_FILE; see README.md "Configuration".\n',
    );
    return 0;
  }
  const config = loadConfigOrExit();
  installTelemetry(config);
  const deps = await createDeps(config);
  const stopReloading = reloadRosterOnHangup(deps.roster);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const worker = await createWorker(config, deps, { connection, overrides: shutdownOptions(config) });
  const probes = await startProbes({ worker, connection, ...config.worker.health });
  let alerts: AlertReceiver | undefined;
  let alertConnection: Connection | undefined;
  if (config.alerts) {
    alertConnection = await Connection.connect(temporalConnectionOptions(config.temporal));
    alerts = await startAlertReceiver({
      client: new Client({
        connection: alertConnection,
        namespace: config.temporal.namespace,
        dataConverter: dataConverter(config),
      }),
      taskQueue: config.temporal.taskQueue,
      ...config.alerts,
    });
  }
  const codecServer =
    config.codecServer &&
    (await startCodecServer({ codec: dataConverter(config).payloadCodecs[0], ...config.codecServer }));
  const safe = redactConfig(config);
  process.stdout.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      level: 'info',
      message: 'worker polling',
      taskQueue: config.temporal.taskQueue,
      temporal: safe.temporal.address,
      namespace: safe.temporal.namespace,
      probes: `http://${probes.address.host}:${probes.address.port}/readyz`,
      ...(config.worker.metricsAddress && { metrics: `http://${config.worker.metricsAddress}/metrics` }),
      ...(alerts && { alertReceiver: alerts.url }),
      ...(codecServer && { codecServer: codecServer.url }),
    })}\n`,
  );
  let code = 0;
  try {
    await worker.run(); // the SDK starts the graceful shutdown on SIGINT/SIGTERM
  } catch (err) {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: 'worker stopped with an error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) })}\n`,
    );
    code = 1;
  }
  stopReloading();
  const closed = Promise.allSettled([
    probes.close(),
    (async () => {
      await alerts?.close();
      await alertConnection?.close();
    })(),
    connection.close(),
    deps.close(),
    codecServer?.close(),
  ]);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
