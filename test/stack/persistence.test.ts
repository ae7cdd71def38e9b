import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { morningHealthCheck } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { startDevServer, stopDevServer as stop } from '../helpers/dev-server';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { quietRuntime, uniqueId, workflowBundle } from '../helpers/temporal';

describe('dev server persistence', () => {
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stop(c);
  });

  it('keeps a completed workflow visible after the server restarts on the same SQLite file', async () => {
    quietRuntime();
    const dbFile = join(mkdtempSync(join(tmpdir(), 'aiops-temporal-')), 'temporal.db');
    const receiver = await new HttpReceiver().route('/ai/health', { status: 200, body: HEALTHY_BODY }).start();
    const deps = await testDeps({ WEDSYNC_HEALTH_URLS: receiver.url('/ai/health') });
    const workflowId = uniqueId('persisted-health-check');

    try {
      const first = await startDevServer(dbFile);
      children.push(first.child);
      const nativeConnection = await NativeConnection.connect({ address: first.address });
      const connection = await Connection.connect({ address: first.address });
      try {
        const taskQueue = uniqueId('persist');
        const worker = await Worker.create({
          connection: nativeConnection,
          taskQueue,
          workflowBundle: await workflowBundle(),
          activities: createActivities(deps),
        });
        const client = new Client({ connection });
        await worker.runUntil(client.workflow.execute(morningHealthCheck, { taskQueue, workflowId, args: [{}] }));
      } finally {
        await connection.close();
        await nativeConnection.close();
      }
      await stop(first.child);

      const second = await startDevServer(dbFile);
      children.push(second.child);
      const again = await Connection.connect({ address: second.address });
      try {
        const description = await new Client({ connection: again }).workflow.getHandle(workflowId).describe();
        assert.equal(description.status.name, 'COMPLETED');
        assert.equal(description.type, 'morningHealthCheck');
      } finally {
        await again.close();
      }
    } finally {
      await deps.close();
      await receiver.stop();
    }
  });
});
