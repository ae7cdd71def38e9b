/**
 * The end-to-end side of the maintenance benchmarks: the production worker (`npm run worker`'s entry point and
 * prebuilt bundle) in a process of its own, on a task queue of the bench's own and pointed at the bench's
 * database or Redis DB, and each workflow started as an operator starts it, `temporal workflow execute`, timed
 * from that command's process start to its exit. The run's history then says where the time went.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { ensureTemporalCli } from '../lib/tools';
import { ownCpuMs } from './report';
import { temporalConnectionOptions } from '../../src/config/temporal-connection';

const ROOT = join(__dirname, '..', '..');

export interface BenchWorker {
  taskQueue: string;
  /** CPU seconds the worker process has used so far (user + system, from /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Starts the production worker with `env` over this process's settings; resolves once it polls. */
export async function startBenchWorker(env: Record<string, string>): Promise<BenchWorker> {
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', join(ROOT, 'scripts', 'use-local-stack.js'), join(ROOT, 'src', 'workers', 'main.js')],
    {
      // Probes on a port of the system's choosing: the stack's own worker holds the configured one.
      env: {
        ...process.env,
        ...env,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
        // the stack's own worker holds the default metrics and alert-receiver ports
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
        CODEC_SERVER_ADDRESS: '127.0.0.1:0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // The worker's log is kept for a failure's message only.
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the bench worker did not poll within 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench worker exited (${code}) before it polled: ${out}${log}`));
    });
  });
  child.stdout!.resume();
  return {
    taskQueue,
    cpuSeconds: () => ownCpuMs(child.pid!) / 1000,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Where one run's time went, in ms: the command, the server's events, and the activities by type. */
export interface WorkflowRun<T> {
  ms: number;
  workflowId: string;
  result: T;
  /** Command start → WorkflowExecutionStarted (the CLI's own start and the start request). */
  startMs: number;
  /** WorkflowExecutionStarted → the first activity started (the first workflow task, the dispatch). */
  firstActivityMs: number;
  /** Each activity's started → completed, by type (summed when it ran more than once). */
  activityMs: Record<string, number>;
  /** Everything else between the first activity's start and the workflow's completion (tasks between activities). */
  betweenMs: number;
  /** WorkflowExecutionCompleted → the command's exit (the result's way back and the CLI's exit). */
  exitMs: number;
}

let cli: Promise<string> | undefined;
let client: Promise<Client> | undefined;

function temporalClient(): Promise<Client> {
  client ??= Connection.connect(temporalConnectionOptions(loadConfig().temporal)).then(
    (connection) =>
      new Client({
        connection,
        namespace: loadConfig().temporal.namespace,
        dataConverter: dataConverter(loadConfig()),
      }),
  );
  return client;
}

export async function closeTemporalClient(): Promise<void> {
  if (client) await (await client).connection.close();
  client = undefined;
}

/**
 * `temporal workflow execute --type <type> --task-queue <queue> --input <json>`, timed from the command's process
 * start to its exit, then read back from the run's history.
 */
export async function executeWorkflow<T>(type: string, taskQueue: string, input: unknown): Promise<WorkflowRun<T>> {
  cli ??= ensureTemporalCli();
  const config = loadConfig();
  const workflowId = `bench-${type}-${randomUUID()}`;
  const args = ['workflow', 'execute', '--type', type, '--task-queue', taskQueue, '--workflow-id', workflowId];
  args.push('--input', JSON.stringify(input), '--address', config.temporal.address);
  args.push('--namespace', config.temporal.namespace, '-o', 'json');
  const path = await cli;
  const startedAt = Date.now();
  const t0 = performance.now();
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const ms = performance.now() - t0;
  const endedAt = startedAt + ms;
  if (code !== 0) throw new Error(`temporal workflow execute --type ${type} exited ${code}: ${err}${out}`);

  const handle = (await temporalClient()).workflow.getHandle(workflowId);
  const history = await handle.fetchHistory();
  const at = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const events = history.events ?? [];
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
  const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes);
  if (!started || !completed) throw new Error(`${workflowId} did not complete: ${err}${out}`);
  const typeOf = new Map<number, string>();
  const startedAtOf = new Map<number, number>();
  const activityMs: Record<string, number> = {};
  let firstActivity: number | undefined;
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      typeOf.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    } else if (e.activityTaskStartedEventAttributes) {
      startedAtOf.set(Number(e.activityTaskStartedEventAttributes.scheduledEventId), at(e));
      firstActivity ??= at(e);
    } else if (e.activityTaskCompletedEventAttributes) {
      const scheduled = Number(e.activityTaskCompletedEventAttributes.scheduledEventId);
      const name = typeOf.get(scheduled) ?? '?';
      activityMs[name] = (activityMs[name] ?? 0) + at(e) - (startedAtOf.get(scheduled) ?? at(e));
    }
  }
  const firstAt = firstActivity ?? at(completed);
  const inActivities = Object.values(activityMs).reduce((a, b) => a + b, 0);
  return {
    ms,
    workflowId,
    // Through the client: the worker seals results, and the CLI here has no codec endpoint to open them.
    result: (await handle.result()) as T,
    startMs: at(started) - startedAt,
    firstActivityMs: firstAt - at(started),
    activityMs,
    betweenMs: at(completed) - firstAt - inActivities,
    exitMs: endedAt - at(completed),
  };
}
