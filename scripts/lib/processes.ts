/**
 * Starting, finding and stopping the stack's background processes. Each writes a pid file under .data/run/ the
 * moment it is spawned: those files are the registry of what runs, which a start adopts and an interrupt stops.
 */
import { spawn, spawnSync, type SpawnOptions, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Interrupted, onInterrupt, throwIfInterrupted } from './interrupt';
import { ensureDir, LOG_DIR, RUN_DIR } from './paths';

export function log(message: string): void {
  process.stdout.write(`[aiops] ${message}\n`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const pidFile = (name: string) => join(RUN_DIR, `${name}.pid`);

/**
 * When the process started, in clock ticks since boot (/proc/<pid>/stat, field 22), so that a pid file is not
 * taken for a later process that reuses its pid (after a reboot, say); undefined where /proc is not readable.
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The pid of a service we started earlier that is still running, if any. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const [pidText, started] = readFileSync(file, 'utf8').trim().split(/\s+/);
  const pid = Number(pidText);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const now = started === undefined ? undefined : startTime(pid);
    if (now === undefined || now === started) return pid;
  }
  rmSync(file, { force: true });
  return undefined;
}

/** Those of the named processes whose pid file names a running process, by name. */
export function runningServices(names: readonly string[]): Map<string, number> {
  const running = new Map<string, number>();
  for (const name of names) {
    const pid = runningPid(name);
    if (pid !== undefined) running.set(name, pid);
  }
  return running;
}

export function logPath(name: string): string {
  return join(ensureDir(LOG_DIR), `${name}.log`);
}

/**
 * Starts a process in its own process group with output to .data/logs/<name>.log and records its pid file before
 * returning its pid. Refuses after an interrupt, so that nothing starts behind the clean-up.
 */
export function spawnService(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  throwIfInterrupted();
  ensureDir(RUN_DIR);
  const out = openSync(logPath(name), 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (!child.pid) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  writeFileSync(pidFile(name), `${child.pid} ${startTime(child.pid) ?? ''}`.trim());
  return child.pid;
}

export function forgetService(name: string): void {
  rmSync(pidFile(name), { force: true });
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; pid?: number; logName?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    throwIfInterrupted();
    if (await check()) return;
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new Error(`${what} exited during start-up; see ${logPath(options.logName ?? what)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready after ${options.timeoutMs / 1000}s; see ${logPath(options.logName ?? what)}`);
}

/** Signals a whole process group (or only its leader), then waits for the leader to exit, escalating to SIGKILL. */
export async function stopPid(
  pid: number,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 20_000,
  group = true,
): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    try {
      if (!group) throw new Error('leader only');
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  send(signal);
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) send('SIGKILL');
}

/**
 * Runs a long command (a build, a package install) to completion without blocking the event loop, so that an
 * interrupt is handled at once: it stops the command's whole process group and rejects with `Interrupted`.
 */
export async function runInterruptible(command: string, args: string[], options: SpawnOptions = {}): Promise<void> {
  throwIfInterrupted();
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options, detached: true });
  let interruptedBy: NodeJS.Signals | undefined;
  const unsubscribe = onInterrupt((signal) => {
    interruptedBy = signal;
    if (child.pid !== undefined) void stopPid(child.pid, 'SIGTERM', 10_000);
  });
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`${command}: ${err.message}`)));
      child.once('exit', (c, s) => resolve([c, s]));
    });
    if (interruptedBy) throw new Interrupted(interruptedBy);
    if (code !== 0)
      throw new Error(`${command} ${args.join(' ')} ${signal ? `was killed by ${signal}` : `exited ${code}`}`);
  } finally {
    unsubscribe();
  }
}

/** Runs a short command to completion, throwing with its output when it fails. */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    );
  }
  return String(result.stdout ?? '');
}

export function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}
