/**
 * `npm run record-histories`: runs each workflow once on the dev server against the real stack and saves its
 * event history under test/histories/, for the replay tests that guard against non-determinism. Re-record
 * only when a change is meant to be incompatible with runs already in flight (otherwise use patched()).
 */
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createActivities } from '../src/activities';
import { loadConfig } from '../src/config';
import { createDeps } from '../src/workers/deps';
import { morningHealthCheck, monitorUntilHealthy } from '../src/workflows';
import { ROOT } from './lib/paths';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write('Usage: npm run record-histories\n\nNeeds a running stack (npm start).\n');
    return;
  }
  // A local endpoint answering as the seed's healthy service, so the recorded path is the common one.
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ status: 'healthy', optimization_engine: 'operational', response_time_ms: 250, accuracy_rate: 0.92, availability: 0.999, errors: [], error_rate: 0.001, queue_length: 1 }),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadConfig({
    ...process.env,
    WEDSYNC_HEALTH_URLS: `${base}/ai/health`,
    WEDSYNC_METRICS_URL: `${base}/ai/metrics/daily`,
    WEDSYNC_ERRORS_URL: `${base}/ai/errors/recent`,
  });
  const deps = await createDeps(config);
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const taskQueue = `record-${randomUUID()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows'),
    activities: createActivities(deps),
  });

  const recordings = [
    { file: 'morningHealthCheck.json', start: () => client.workflow.start(morningHealthCheck, { taskQueue, workflowId: `record-morning-${randomUUID()}`, args: [{}] }) },
    { file: 'monitorUntilHealthy.json', start: () => client.workflow.start(monitorUntilHealthy, { taskQueue, workflowId: `record-monitor-${randomUUID()}`, args: [{ intervalSeconds: 1, healthyChecksRequired: 2, timeoutSeconds: 60 }] }) },
  ];
  await worker.runUntil(async () => {
    for (const r of recordings) {
      const handle = await r.start();
      await handle.result();
      const history = await handle.fetchHistory();
      writeFileSync(join(ROOT, 'test', 'histories', r.file), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
      process.stdout.write(`recorded ${r.file}\n`);
    }
  });
  await deps.close();
  await connection.close();
  await nativeConnection.close();
  server.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
