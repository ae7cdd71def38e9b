/**
 * One place that gives tests a Temporal server: the time-skipping Java test server for anything with timers,
 * the dev server (the running stack's, TEMPORAL_ADDRESS, or one started from TEMPORAL_CLI_PATH) for the rest.
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter, QueryDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decodeHistory } from '../../src/codec/history';
import { createAuditActivities } from '../../src/activities/audit';
import { auditSinks } from '../../src/workers/sinks';
import { dataConverter, FAILURE_CONVERTER_PATH } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { BACKUP_WORKER_ACTIVITIES, backupTaskQueue } from '../../src/contracts/backups';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../src/workers/worker';
import { signingInterceptor } from './operators';
import { DATA_DIR } from '../../scripts/lib/paths';

let runtimeQuiet = false;
/** Worker logs at WARN keep test output readable; errors still show. */
export function quietRuntime(): void {
  if (runtimeQuiet) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeQuiet = true;
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = process.env.AIOPS_TIME_SKIPPING_SERVER;
  if (!path) throw new Error('AIOPS_TIME_SKIPPING_SERVER is not set: run the tests with `npm test`');
  // Decisions expire by the server's clock, which time skipping moves ahead of the machine's.
  let env: TestWorkflowEnvironment | undefined;
  const now = () => (env ? env.currentTimeMs() : Promise.resolve(Date.now()));
  // The SDK gives the server's JVM five seconds to listen; on a loaded machine a start can miss that once.
  for (let attempt = 1; ; attempt++) {
    try {
      env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path } },
        client: signingClient(now),
      });
      return env;
    } catch (err) {
      if (attempt >= 5 || !/Failed to start ephemeral server/.test(String(err))) throw err;
    }
  }
}

/** Client options under which every decision a test sends is signed (test/helpers/operators.ts). */
function signingClient(now?: () => Promise<number>) {
  return { interceptors: { workflow: [signingInterceptor(now)] } };
}

/**
 * Sinks for a test's worker: refused updates are audited as the real worker audits them, through the activities'
 * own audit write when the test gives one.
 */
export function testSinks(activities: object) {
  const recordAudit = (activities as Partial<ReturnType<typeof createAuditActivities>>).recordAudit;
  return recordAudit ? { sinks: auditSinks(recordAudit) } : {};
}

/**
 * The stack's dev server (or TEMPORAL_ADDRESS); with `own`, a dev server of the test's own, started from the
 * CLI as an existing-path executable, for tests that should leave nothing behind on the shared one.
 */
export async function devServerEnv(options: { own?: boolean } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  if (!options.own) {
    return TestWorkflowEnvironment.createFromExistingServer({ address, client: signingClient() });
  }
  const path = process.env.TEMPORAL_CLI_PATH;
  if (!path) throw new Error('TEMPORAL_CLI_PATH is not set: run the tests with `npm test`');
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path } },
    client: signingClient(),
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Workflows bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID()}`;

/** Asserts that a client call fails and that the failure's cause (the workflow's own message) matches. */
export async function rejectsWithCause(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  if (!caught) throw new Error(`expected a failure matching ${pattern}, but the call succeeded`);
  const cause = (caught as { cause?: { message?: string } }).cause;
  const message = cause?.message ?? String(caught);
  if (!pattern.test(message)) throw new Error(`failure "${message}" does not match ${pattern}`);
}

export interface TimeSkippingHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
}

/**
 * A fresh time-skipping server and a running worker for one test. A server per test keeps one test's
 * terminated workflows (and their in-flight activities) from holding another test's clock.
 */
export async function withTimeSkippingWorker(
  activities: object,
  fn: (harness: TimeSkippingHarness) => Promise<void>,
): Promise<void> {
  const env = await timeSkippingEnv();
  const taskQueue = uniqueId('ts');
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      ...testSinks(activities),
    });
    await worker.runUntil(
      withTestBackupWorker(env.nativeConnection, taskQueue, activities, () => fn({ env, taskQueue })),
    );
  } finally {
    await env.teardown();
  }
}

/**
 * The backup worker beside a test's worker (src/workers/backup-worker.ts): the dump and the restore of the test's
 * activities, faults included, polled on the backup task queue of the test's queue, with the test worker's data
 * converter (the default unless given). Undefined for a set with neither activity, which needs no backup worker.
 */
export async function testBackupWorker(
  connection: NativeConnection,
  taskQueue: string,
  activities: object,
  options: { dataConverter?: DataConverter } = {},
): Promise<Worker | undefined> {
  const picked = Object.fromEntries(
    BACKUP_WORKER_ACTIVITIES.filter((name) => name in activities).map((name) => [
      name,
      (activities as Record<string, unknown>)[name],
    ]),
  );
  if (Object.keys(picked).length === 0) return undefined;
  return Worker.create({ connection, taskQueue: backupTaskQueue(taskQueue), activities: picked, ...options });
}

/** Runs `fn` with the backup worker of testBackupWorker polling beside the test's worker. */
export async function withTestBackupWorker<T>(
  connection: NativeConnection,
  taskQueue: string,
  activities: object,
  fn: () => Promise<T>,
  options: { dataConverter?: DataConverter } = {},
): Promise<T> {
  const worker = await testBackupWorker(connection, taskQueue, activities, options);
  return worker ? worker.runUntil(fn) : fn();
}

/** Queries a workflow until its answer satisfies `pred`, failing with the last answer after `timeoutMs`. */
export async function queryUntil<T>(
  handle: WorkflowHandle,
  query: QueryDefinition<T>,
  pred: (answer: T) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let answer = await handle.query(query);
  while (!pred(answer) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    answer = await handle.query(query);
  }
  if (!pred(answer)) throw new Error(`${query.name} never matched: ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * Replays the history a workflow left, as a worker restarted on today's code would: the last step of every crash
 * test, since a history that does not replay is a workflow stuck in production.
 */
export async function replayOwnHistory(handle: WorkflowHandle): Promise<void> {
  const history = await handle.fetchHistory();
  try {
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: dataConverter(loadConfig()) },
      history,
      handle.workflowId,
    );
  } catch (err) {
    throw await keptForStudy(err, history, handle.workflowId);
  }
}

/**
 * A history that did not replay, saved opened with the codec under .data/failed-replays/, and the replayer's error
 * with the file and the events around the one it names appended: a failure seen once on CI can then be read.
 */
async function keptForStudy(err: unknown, raw: History, workflowId: string): Promise<Error> {
  const error = err instanceof Error ? err : new Error(String(err));
  try {
    const { history, file } = await saveDecoded(raw, workflowId, join(DATA_DIR, 'failed-replays'));
    const at = Number(/HistoryEvent\(id: (\d+)/.exec(error.message)?.[1] ?? /event '(\d+)'/.exec(error.message)?.[1]);
    const around = Number.isFinite(at) ? eventsAround(history, at, 25) : '';
    error.message += `\nhistory kept in ${file}${around ? `\nevents around ${at}:\n${around}` : ''}`;
  } catch (saveErr) {
    error.message += `\n(the history could not be kept: ${String(saveErr)})`;
  }
  return error;
}

/** A history opened with the project's codec, saved under `dir` as `<workflow type>@<workflow ID>.json`. */
async function saveDecoded(raw: History, workflowId: string, dir: string): Promise<{ history: History; file: string }> {
  const history = await decodeHistory(raw, dataConverter(loadConfig()).payloadCodecs[0]);
  const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${type}@${workflowId}.json`);
  writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
  return { history, file };
}

/** One line per event within `span` of event `at`: its ID, type and what it names (activity, timer, marker, signal). */
export function eventsAround(history: History, at: number, span: number): string {
  return (history.events ?? [])
    .filter((e) => Math.abs(Number(e.eventId) - at) <= span)
    .map((e) => {
      const timer = e.timerStartedEventAttributes ?? e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes;
      const named =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        (timer ? `timer ${timer.timerId}` : undefined) ??
        e.markerRecordedEventAttributes?.markerName ??
        e.workflowExecutionSignaledEventAttributes?.signalName ??
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ??
        e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ??
        '';
      const id = e.activityTaskScheduledEventAttributes?.activityId;
      const patch = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
      const patchId = patch ? ` ${Buffer.from(patch).toString().slice(0, 80)}` : '';
      return `${String(e.eventId)} ${eventName(e.eventType)}${named ? ` ${named}` : ''}${id ? ` #${id}` : ''}${patchId}`;
    })
    .join('\n');
}

/** replayOwnHistory for many runs on one replay worker, for a test that ran hundreds. */
export async function replayOwnHistories(handles: WorkflowHandle[]): Promise<void> {
  const histories = await Promise.all(
    handles.map(async (h) => ({ workflowId: h.workflowId, history: await h.fetchHistory() })),
  );
  const options = { workflowBundle: await workflowBundle(), dataConverter: dataConverter(loadConfig()) };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    if (!result.error) continue;
    const failed = histories.find((h) => h.workflowId === result.workflowId);
    throw failed ? await keptForStudy(result.error, failed.history, failed.workflowId) : result.error;
  }
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** What may follow a WorkflowTaskStarted in a history the SDK's replayer takes (sdk-core's history_update.rs). */
const AFTER_TASK_STARTED = new Set(
  [
    'WORKFLOW_TASK_COMPLETED',
    'WORKFLOW_TASK_FAILED',
    'WORKFLOW_TASK_TIMED_OUT',
    'WORKFLOW_EXECUTION_TERMINATED',
    'WORKFLOW_EXECUTION_TIMED_OUT',
    'WORKFLOW_EXECUTION_CANCELED',
  ].map(
    (name) => temporal.api.enums.v1.EventType[`EVENT_TYPE_${name}` as keyof typeof temporal.api.enums.v1.EventType],
  ),
);
const eventName = (type: number | null | undefined) =>
  (temporal.api.enums.v1.EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');

/**
 * Where a history breaks the rule every Temporal server keeps and the SDK's replayer checks: a workflow task once
 * started ends (completed, failed, timed out) before any other event, since the server holds what happens meanwhile
 * until it does. The replayer refuses such a history ("Invalid history! ... should be WFT completed, failed, or timed
 * out - or WE terminated"), and then never returns. Undefined for a valid history; else the events around the break.
 */
export function invalidHistoryAt(history: History): string | undefined {
  const events = history.events ?? [];
  const at = events.findIndex(
    (e, i) =>
      eventName(e.eventType) === 'WORKFLOW_TASK_STARTED' &&
      i + 1 < events.length &&
      !AFTER_TASK_STARTED.has(events[i + 1].eventType ?? 0),
  );
  if (at < 0) return undefined;
  return events
    .slice(Math.max(0, at - 3), at + 3)
    .map((e) => `${String(e.eventId)} ${eventName(e.eventType)}`)
    .join(', ');
}

export interface ReplayOutcome {
  workflowId: string;
  /** Where the history was saved, opened with the codec, as `npm run record-histories` names them. */
  file: string;
  /** Why it did not replay: the replayer's error, or that it did not finish in time. */
  error?: string;
  /** Not replayed: the events around a break of the rule every server keeps (invalidHistoryAt). */
  invalid?: string;
}

/**
 * replayOwnHistory for each run in turn, each in a process of its own with a deadline: a replay that neither passes
 * nor fails within `timeoutMs` is killed and counted as failed, not left to hang the test. A history no replayer takes
 * (invalidHistoryAt) is reported as such and not replayed. Each history that did not replay is kept, opened with the
 * project's codec, under `saveDir` as `<workflow type>@<workflow ID>.json`, ready to be read or copied to
 * test/histories/. Returns those histories; an empty list when every one replayed.
 */
export async function replayEachWithin(
  handles: WorkflowHandle[],
  timeoutMs: number,
  saveDir: string,
): Promise<ReplayOutcome[]> {
  const saved: ReplayOutcome[] = [];
  for (const handle of handles) {
    const { history, file } = await saveDecoded(await handle.fetchHistory(), handle.workflowId, saveDir);
    saved.push({ workflowId: handle.workflowId, file, invalid: invalidHistoryAt(history) });
  }
  const kept = await replayFilesWithin(saved, timeoutMs);
  for (const { file } of saved) if (!kept.some((k) => k.file === file)) rmSync(file);
  return kept;
}

/**
 * The replay of replayEachWithin, for histories saved as JSON files (`invalid` set: not replayed). Returns those that
 * did not replay.
 */
export async function replayFilesWithin(histories: ReplayOutcome[], timeoutMs: number): Promise<ReplayOutcome[]> {
  if (histories.length === 0) return [];
  // Bundled once here; each replay process loads the bundle's code from this file.
  const codePath = join(dirname(histories[0].file), `.bundle-${randomUUID()}.js`);
  writeFileSync(codePath, (await workflowBundle()).code);
  const kept: ReplayOutcome[] = [];
  try {
    for (const h of histories) {
      const error = h.invalid ? undefined : await replayInChild(codePath, h.file, h.workflowId, timeoutMs);
      if (h.invalid || error) kept.push({ ...h, error });
    }
  } finally {
    rmSync(codePath, { force: true });
  }
  return kept;
}

/** Runs test/helpers/replay-history.ts on one saved history: undefined if it replays, else why not. */
function replayInChild(codePath: string, file: string, workflowId: string, timeoutMs: number) {
  return new Promise<string | undefined>((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, 'replay-history.js'), codePath, file, workflowId], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let refused: string | undefined;
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-100_000);
      // The replayer's refusal of a history ends its poller, after which it waits for ever: no need to wait too.
      refused ??= /Invalid history!(?:(?!\\n)[^\n])*/.exec(output)?.[0].slice(0, 2000);
      if (refused) child.kill('SIGKILL');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(undefined);
      else if (refused) resolve(refused);
      else if (signal === 'SIGKILL') resolve(`the replay did not finish within ${timeoutMs / 1000} s and was killed`);
      else resolve(output.trim().slice(-2000) || `the replay exited with ${signal ?? code}`);
    });
  });
}

/**
 * A client of `env` with the project's codec, for tests whose workflows run on a worker made by createWorker (the
 * worker process, the maintenance worker): what that worker seals only such a client opens.
 */
export function sealingClient(env: TestWorkflowEnvironment): Client {
  return new Client({
    connection: env.connection,
    namespace: env.namespace ?? 'default',
    dataConverter: dataConverter(loadConfig()),
    interceptors: { workflow: [signingInterceptor()] },
  });
}
