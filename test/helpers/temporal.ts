/**
 * One place that gives tests a Temporal server: the time-skipping Java test server for anything with timers,
 * the dev server (the running stack's, TEMPORAL_ADDRESS, or one started from TEMPORAL_CLI_PATH) for the rest.
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter, QueryDefinition } from '@temporalio/common';
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
import { createAuditActivities } from '../../src/activities/audit';
import { auditSinks } from '../../src/workers/sinks';
import { dataConverter, FAILURE_CONVERTER_PATH } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import { BACKUP_WORKER_ACTIVITIES, backupTaskQueue } from '../../src/contracts/backups';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../src/workers/worker';
import { signingInterceptor } from './operators';

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
  await Worker.runReplayHistory(
    { workflowBundle: await workflowBundle(), dataConverter: dataConverter(loadConfig()) },
    history,
    handle.workflowId,
  );
}

/** replayOwnHistory for many runs on one replay worker, for a test that ran hundreds. */
export async function replayOwnHistories(handles: WorkflowHandle[]): Promise<void> {
  const histories = await Promise.all(
    handles.map(async (h) => ({ workflowId: h.workflowId, history: await h.fetchHistory() })),
  );
  const options = { workflowBundle: await workflowBundle(), dataConverter: dataConverter(loadConfig()) };
  for await (const result of Worker.runReplayHistories(options, histories)) {
    if (result.error) throw result.error;
  }
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
