/**
 * A Temporal dev server of a test's own on a SQLite file, with the flags the start command uses, that the test may
 * stop and start again on the same file and ports: what a restarted production server looks like to its workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';

export interface DevServer {
  child: ChildProcess;
  address: string;
  port: number;
  uiPort: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a dev server on the SQLite file, on `ports` or free ports of its own. The server picks further ports for
 * its internal services itself, and one of them can take the port chosen here before the front end binds it; a
 * server that exits during start-up is therefore tried again (on fresh ports unless `ports` were given).
 */
export async function startDevServer(dbFile: string, ports?: { port: number; uiPort: number }): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    const { port, uiPort } = ports ?? { port: await freePort(), uiPort: await freePort() };
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
        return { child, address, port, uiPort };
      } catch {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`dev server did not start in 60 s: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    if (attempt >= 3) throw new Error(`dev server exited during start-up ${attempt} times; last output: ${stderr}`);
    // The ports may still be held by the server that just stopped: give them a moment.
    if (ports) await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Stops the server as an operator does (SIGTERM) and waits for it to exit. */
export function stopDevServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
