/**
 * `node dist/scripts/record-maintenance-histories.js`: records one history each of purgeCache and
 * pruneOptimizations into test/histories/maintenance/, for test/maintenance-replay.test.ts. Kept apart from
 * `npm run record-histories`, which rewrites every history under test/histories/. Needs the stack's Temporal,
 * Redis and PostgreSQL (`npm run stack -- up`); works in Redis DB 13 and database aiops_test_retention_wf.
 */
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities } from '../src/activities';
import { LOCAL_PORTS, loadConfig } from '../src/config';
import { bootstrapDatabase } from '../src/db/bootstrap';
import { createDeps } from '../src/workers/deps';
import { pruneOptimizations, purgeCache } from '../src/workflows';
import { ROOT } from './lib/paths';
import { POSTGRES_ADMIN } from './lib/stack';

async function main(): Promise<void> {
  const base = loadConfig();
  const dbUrl = new URL(base.postgres.url);
  dbUrl.pathname = '/aiops_test_retention_wf';
  await bootstrapDatabase({
    adminUrl: `postgres://${POSTGRES_ADMIN.user}:${POSTGRES_ADMIN.password}@127.0.0.1:${LOCAL_PORTS.postgres}/postgres`,
    appUrl: dbUrl.toString(),
  });
  const redisUrl = new URL(base.redis.url);
  redisUrl.pathname = '/13';
  const config = loadConfig({ ...process.env, DATABASE_URL: dbUrl.toString(), REDIS_URL: redisUrl.toString() });
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
  const tag = randomUUID().slice(0, 8);
  for (let i = 0; i < 50; i++) await deps.redis.set(`ai:record-${tag}:${i}`, 'v');
  const dir = join(ROOT, 'test', 'histories', 'maintenance');
  mkdirSync(dir, { recursive: true });
  await worker.runUntil(async () => {
    const handles = [
      await client.workflow.start(purgeCache, { taskQueue, workflowId: `record-purge-${tag}`, args: [{ pattern: `ai:record-${tag}:*` }] }),
      await client.workflow.start(pruneOptimizations, { taskQueue, workflowId: `record-prune-${tag}`, args: [{ olderThanDays: 90 }] }),
    ];
    for (const handle of handles) {
      await handle.result();
      const { type } = await handle.describe();
      const file = `${type}@${handle.workflowId}.json`;
      writeFileSync(join(dir, file), `${JSON.stringify(JSON.parse(historyToJSON(await handle.fetchHistory())), null, 2)}\n`);
      process.stdout.write(`recorded ${file}\n`);
    }
  });
  await deps.close();
  await connection.close();
  await nativeConnection.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
