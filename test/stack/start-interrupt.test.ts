/**
 * `npm start` keeps its promise that Ctrl-C stops it all, tried as a user would: the start command itself, with a
 * stack of its own (state in a temporary AIOPS_DATA_DIR, every port moved by AIOPS_PORT_OFFSET clear of the shared
 * stack's), interrupted in the middle of its start-up, and killed outright and started again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCAL_PORTS } from '../../scripts/lib/local-stack';

const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'dist', 'scripts', 'start.js');

/** Whether nothing listens on the port (a listener of our own can take it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The first offset from which every port of the stack is free, so this stack touches no other. */
async function freeOffset(): Promise<number> {
  for (const offset of [300, 400, 500, 600, 700, 800]) {
    const free = await Promise.all(Object.values(LOCAL_PORTS).map((port) => portFree(port + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('no free set of ports for a second stack');
}

/**
 * Every process that belongs to the stack in `dataDir`: each service, the worker and their children inherit the
 * start command's environment, AIOPS_DATA_DIR included, or name the directory in their arguments, or work in it.
 * (Redis and PostgreSQL's backends write their process titles over their arguments and environment, but Redis
 * works in its --dir and PostgreSQL in its data directory.)
 */
function processesOf(dataDir: string): { pid: number; command: string }[] {
  const marker = `AIOPS_DATA_DIR=${dataDir}\0`;
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return ''; // gone meanwhile, or a kernel thread
    }
  };
  const cwd = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      return '';
    }
  };
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const command = read(`/proc/${pid}/cmdline`).split('\0').join(' ').trim();
    const ours =
      command.includes(dataDir) || read(`/proc/${pid}/environ`).includes(marker) || cwd(pid).startsWith(dataDir);
    if (ours) found.push({ pid, command });
  }
  return found;
}

async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface StartRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('npm start stops everything it started or adopted, on an interrupt at any point', () => {
  let dataDir: string;
  let offset: number;
  const runs: StartRun[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aiops-start-interrupt-'));
    offset = await freeOffset();
  });

  after(async () => {
    // Whatever a failed assertion left behind: every process here was started by this test.
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    for (const { pid } of processesOf(dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** `node dist/scripts/start.js` with none of the shared stack's settings: only this stack's directory and ports. */
  function start(): StartRun {
    const pass = [
      'PATH',
      'HOME',
      'LANG',
      'XDG_CACHE_HOME',
      'GOPATH',
      'GOCACHE',
      'GOMODCACHE',
      'TEMPORAL_CLI_PATH',
      'MINIO_PATH',
      'ETCD_PATH',
      'KUBE_APISERVER_PATH',
    ];
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      pass.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
    );
    const child = spawn(process.execPath, [START], {
      cwd: ROOT,
      env: { ...env, AIOPS_DATA_DIR: dataDir, AIOPS_PORT_OFFSET: String(offset) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const run = { child, output: () => text, exited };
    runs.push(run);
    return run;
  }

  async function exitOf(run: StartRun, timeoutMs: number) {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`start did not exit within ${timeoutMs / 1000} s:\n${run.output()}`)),
        timeoutMs,
      ).unref(),
    );
    return Promise.race([run.exited, timeout]);
  }

  async function assertAllGone(run: StartRun): Promise<void> {
    const left = await until(
      'every process of the stack gone',
      () => {
        const now = processesOf(dataDir);
        return now.length === 0 ? now : false;
      },
      15_000,
    ).catch(() => processesOf(dataDir));
    assert.deepEqual(left, [], `still running after the start command exited:\n${run.output()}`);
    const open = [];
    for (const port of Object.values(LOCAL_PORTS)) if (await portAnswers(port + offset)) open.push(port + offset);
    assert.deepEqual(open, [], 'ports of the stack still answer');
  }

  it('stops the services it had started when Ctrl-C comes in the middle of the start-up', async () => {
    const run = start();
    // The first service to answer: the others are still starting, the worker and schedules are not there yet.
    await until(
      'a first service up',
      () => /\[aiops\] \w+ is up on/.test(run.output()) || (run.child.exitCode !== null && 'exited'),
      300_000,
    );
    assert.equal(run.child.exitCode, null, run.output());
    assert.ok(!run.output().includes('aiops-runbooks is up'), run.output());
    const spawned = processesOf(dataDir).filter((p) => p.pid !== run.child.pid);
    assert.ok(spawned.length > 0, 'no service of the stack is running yet');

    run.child.kill('SIGINT');
    const { code } = await exitOf(run, 120_000);
    assert.equal(code, 130, run.output());
    assert.match(run.output(), /SIGINT: stopping/);
    assert.match(run.output(), /stopped during start-up/);
    await assertAllGone(run);
  });

  it('adopts what a killed start left running, names it, and stops it with the worker on SIGTERM', async () => {
    const first = start();
    await until(
      'the first start up',
      () => first.output().includes('Press Ctrl-C to stop everything') || (first.child.exitCode !== null && 'exited'),
      600_000,
    );
    assert.equal(first.child.exitCode, null, first.output());
    // Killed where no handler runs (as Ctrl-C killed a start before its handler was installed): all is left running.
    first.child.kill('SIGKILL');
    await exitOf(first, 30_000);
    const orphans = processesOf(dataDir);
    for (const service of [
      'temporal',
      'postgres',
      'redis-server',
      'minio',
      'etcd',
      'kube-apiserver',
      'workers/main.js',
    ]) {
      assert.ok(
        orphans.some((p) => p.command.includes(service)),
        `${service} is not running after the kill: ${JSON.stringify(orphans)}`,
      );
    }

    const second = start();
    const adopted = await until(
      'the line naming the adopted services',
      () =>
        /adopting what an earlier start left running: (.*); they stop with this one/.exec(second.output()) ??
        (second.child.exitCode !== null && 'exited'),
      60_000,
    );
    assert.notEqual(adopted, 'exited', second.output());
    const names = (adopted as RegExpExecArray)[1];
    for (const name of ['temporal', 'postgres', 'redis', 's3', 'etcd', 'kubernetes', 'worker'])
      assert.match(names, new RegExp(`\\b${name} \\(pid \\d+\\)`));
    await until(
      'the second start up',
      () => second.output().includes('Press Ctrl-C to stop everything') || (second.child.exitCode !== null && 'exited'),
      300_000,
    );
    assert.equal(second.child.exitCode, null, second.output());

    second.child.kill('SIGTERM');
    const { code } = await exitOf(second, 180_000);
    assert.equal(code, 0, second.output());
    assert.match(second.output(), /stopped; state is kept/);
    await assertAllGone(second);
  });
});
