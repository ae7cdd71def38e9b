import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { morningHealthCheck } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { quietRuntime, uniqueId, workflowBundle } from '../helpers/temporal';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a dev server on the SQLite file, on free ports of its own (the same flags the start command uses). The
 * server picks further ports for its internal services itself, and one of them can take the port chosen here
 * before the front end binds it; a server that exits during start-up is therefore tried again on fresh ports.
 */
async function startDevServer(dbFile: string): Promise<{ child: ChildProcess; address: string }> {
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.env.TEMPORAL_CLI_PATH!,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
        '--db-filename',
        dbFile,
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const address = `127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (child.exitCode === null && child.signalCode === null) {
      try {
        const c = await Connection.connect({ address, connectTimeout: 1000 });
        await c.close();
        return { child, address };
      } catch {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`dev server did not start in 60 s: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    if (attempt >= 3) throw new Error(`dev server exited during start-up ${attempt} times; last output: ${stderr}`);
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

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
