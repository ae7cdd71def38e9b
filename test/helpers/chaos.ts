/**
 * What the fault scenarios under test/chaos share: how many times each runs and how long an outage lasts (short in
 * `npm test`, long in `npm run chaos`), a seeded random source so a failing run can be repeated, the tally each
 * scenario keeps, the results file `npm run chaos` prints its table from, and chaosSuite(): the stack, the real
 * worker in processes a scenario may kill, and the run loop every scenario shares.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type QueryDefinition } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec';
import { seededRandom } from '../../src/contracts/ab-simulation';
import { loadConfig } from '../../src/config';
import type { OwnedDeps } from '../../src/workers/deps';
import type { ScenarioTally } from '../../scripts/lib/chaos-tally';
import { backupLeft, withPg } from '../backup/helpers';
import { testDatabase } from './databases';
import { startDevServer, stopDevServer, type DevServer } from './dev-server';
import type { FaultProxy } from './fault-proxy';
import { testDeps } from './deps';
import type { HttpReceiver } from './http-receiver';
import { countOptimizations, redisUrlFor, type OptimizationFixture } from './maintenance';
import { signingInterceptor } from './operators';
import { CRISIS_PATHS, receiverEnv, startRunbookReceiver } from './runbook-receiver';
import { devServerEnv, quietRuntime, sealingClient } from './temporal';
import { exited, waitUntil } from './wait';

export type { ScenarioTally };

const ROOT = join(__dirname, '..', '..', '..');

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: must be a positive number, not "${raw}"`);
  return value;
}

/** Runs of each scenario: one in `npm test`, twenty in `npm run chaos`. */
export const chaosRuns = () => Math.floor(positiveNumber('AIOPS_CHAOS_RUNS', 1));
/** Where in a step each kill lands, seeded (AIOPS_CHAOS_SEED): anywhere from 10 % to 90 % of its progress. */
export function killPoints(): () => number {
  const random = seededRandom(chaosSeed());
  return () => 0.1 + 0.8 * random();
}

/** How long a dependency stays down: a few seconds in `npm test`, 30 in `npm run chaos`. */
export const outageSeconds = () => positiveNumber('AIOPS_CHAOS_OUTAGE_SECONDS', 5);
export const chaosSeed = () => Math.floor(positiveNumber('AIOPS_CHAOS_SEED', 20261126));

export function newTally(scenario: string): ScenarioTally {
  return {
    scenario,
    runs: 0,
    completed: 0,
    paged: 0,
    duplicated: 0,
    lost: 0,
    stuck: 0,
    recoverySeconds: [],
    notes: [],
  };
}

/** Appends the tally to AIOPS_CHAOS_RESULTS (set by `npm run chaos`); a plain test run keeps it to itself. */
/**
 * Whether `npm run chaos -- --only <text>[,<text>...]` selects the scenario: some scenarios of a file, such as one
 * dependency's long outage. Every scenario is selected without it.
 */
export function chaosSelected(...names: string[]): boolean {
  const only = process.env.AIOPS_CHAOS_ONLY?.split(',').filter(Boolean);
  return !only?.length || only.some((text) => names.some((name) => name.includes(text)));
}

export function recordTally(tally: ScenarioTally): void {
  const file = process.env.AIOPS_CHAOS_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(tally)}\n`);
}

/**
 * The result, or undefined when none came by the deadline: the run is then stuck, what the server shows of it (and
 * of `related` runs, its children) goes into `notes`, and it is terminated so it does not run on into the next one.
 */
export async function resultWithin<T>(
  handle: WorkflowHandle,
  ms: number,
  notes?: string[],
  related: WorkflowHandle[] = [],
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    const result = await Promise.race([handle.result() as Promise<T>, late]);
    if (result === undefined) {
      notes?.push(`stuck: ${await stuckDetails(handle)}`);
      for (const r of related)
        notes?.push(`${r.workflowId}: ${await stuckDetails(r).catch((err: unknown) => String(err))}`);
      await handle.terminate('stuck in a chaos scenario').catch(() => undefined);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Each worker process's output (the SDK's log lines and its own), for a scenario that reads what it said. */
const outputs = new WeakMap<ChildProcess, string>();
const OUTPUT_KEPT = 1 << 20;

/** What the worker process has logged so far (its last megabyte). */
export function workerOutput(child: ChildProcess): string {
  return outputs.get(child) ?? '';
}

/**
 * The real worker in a process of its own (test/helpers/maintenance-worker.ts: heartbeats reach the server within
 * 100 ms), which a scenario may SIGKILL at any moment. Its output is kept (workerOutput).
 */
export function spawnKillableWorker(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'test', 'helpers', 'maintenance-worker.js')], {
    env: {
      ...process.env,
      WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
      WORKER_METRICS_ADDRESS: '127.0.0.1:0',
      ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  outputs.set(child, '');
  const keep = (d: Buffer) => outputs.set(child, (workerOutput(child) + d.toString()).slice(-OUTPUT_KEPT));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited(child);
}

/** A pending activity's heartbeat details as the server holds them (undefined: none yet). */
export async function heartbeatDetails<T>(activity: {
  heartbeatDetails?: { payloads?: Payload[] | null } | null;
}): Promise<T | undefined> {
  const payload = activity.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  // The worker seals heartbeat details like every payload: opened with the project's codec first.
  const [opened] = await new AesGcmPayloadCodec(loadConfig().payloads).decode([payload]);
  return defaultPayloadConverter.fromPayload<T>(opened);
}

/** The heartbeat details the server holds for the workflow's first pending activity. */
export async function serverCheckpoint<T>(handle: WorkflowHandle): Promise<T | undefined> {
  const { raw } = await handle.describe();
  const first = raw.pendingActivities?.[0];
  return first ? heartbeatDetails<T>(first) : undefined;
}

/** Waits until the worker process polls its task queue: a fault injected before then would test its start-up. */
export async function pollingWorker(client: Client, taskQueue: string, child: ChildProcess): Promise<ChildProcess> {
  await waitUntil(
    `worker ${child.pid} polling ${taskQueue}`,
    async () => {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY: activity pollers start after the workflow ones
      });
      return (pollers ?? []).some((p) => p.identity?.startsWith(`${child.pid}@`));
    },
    Boolean,
    120_000,
  );
  return child;
}

/** The pending attempt of the workflow's `activityType` activity, as the server shows it. */
export async function pendingAttempt(handle: WorkflowHandle, activityType: string) {
  const { raw } = await handle.describe();
  return raw.pendingActivities?.find((a) => a.activityType?.name === activityType);
}

/**
 * What the history says of the workflow's `activityType` activity: its completions, who ran the attempt that
 * started last, which attempt that was, and the timeout that ended the attempt before it.
 */
export async function activityOutcome(handle: WorkflowHandle, activityType: string) {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
  const completions = events.filter(
    (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId),
  );
  const started = events.find(
    (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId),
  )?.activityTaskStartedEventAttributes;
  return {
    events: events.length,
    completions: completions.length,
    identity: started?.identity ?? '',
    attempt: started?.attempt ?? 0,
    lastTimeoutType: started?.lastFailure?.timeoutFailureInfo?.timeoutType ?? undefined,
  };
}

/** Why a run looks stuck, as the server shows it: its status and each pending activity's attempts and last failure. */
export async function stuckDetails(handle: WorkflowHandle): Promise<string> {
  const { status, raw } = await handle.describe();
  const pending = (raw.pendingActivities ?? []).map(
    (a) =>
      `${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? ` (${a.lastFailure.message.slice(0, 80)})` : ''}`,
  );
  return `${status.name}; pending: ${pending.join(', ') || 'none'}`;
}

/**
 * Like queryUntil, but a query that fails is asked again until the deadline: after a kill, a query first goes to
 * the dead worker's sticky queue and times out before the server hands it to the next worker.
 */
export async function statusWhen<T>(
  handle: WorkflowHandle,
  query: QueryDefinition<T>,
  pred: (answer: T) => boolean,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await handle.query(query).catch(() => undefined);
    if (answer !== undefined && pred(answer)) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** Anything a scenario starts beside the stack (a fault proxy) that the suite closes at its end. */
export interface Closable {
  close(): Promise<void>;
}

export interface ChaosSuite {
  env: TestWorkflowEnvironment;
  /** With the project's codec: the workers here are the real worker, which seals what it sends. */
  client: Client;
  /** host:port of the Temporal server the suite's client and workers use. */
  temporalAddress: string;
  deps: OwnedDeps;
  databaseUrl: string;
  receiver: HttpReceiver;
  /**
   * The real worker in a process of its own on `taskQueue`, pointed at the suite's server, receiver, database (and
   * Redis), with `settings` over them (a dependency reached through a proxy); resolves once it polls. Killed at the
   * end.
   */
  worker(taskQueue: string, settings?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  /** Closes `resource` (a proxy) when the suite ends; returns it. */
  own<T extends Closable>(resource: T): T;
  /**
   * With `ownServer` only: stops the suite's dev server as an operator does (SIGTERM), waits `downMs`, and starts it
   * again on the same SQLite file and ports; resolves with when it stopped and when it answered again.
   */
  restartServer(downMs: number): Promise<{ stoppedAt: number; upAt: number }>;
  /**
   * Declares a scenario: `body` runs `runs` times (default 1) on one tally, which is then written to the results
   * file; the scenario fails unless every run completed (or failed and paged, where the body allows it), with
   * nothing duplicated or lost. `body` counts each of its
   * `workflows` (default 1) with countRun() and its effects in the tally, and asserts what the run proves.
   */
  scenario(
    name: string,
    options: { row: string; runs?: number; workflows?: number; timeout: number },
    body: (tally: ScenarioTally, run: number) => Promise<void>,
  ): void;
}

/**
 * Call inside describe(). `database` is the suite's own (aiops_test_chaos_<suite>); `redisUrl`, when given, is the
 * Redis database the clients and the workers use. `ownServer`: a dev server of the suite's own on a SQLite file,
 * which the suite may restart, instead of the stack's.
 */
export function chaosSuite(database: string, options: { redisUrl?: string; ownServer?: boolean } = {}): ChaosSuite {
  const suite = {} as ChaosSuite;
  const workers: ChildProcess[] = [];
  const owned: Closable[] = [];
  const redis = options.redisUrl ? { REDIS_URL: options.redisUrl } : {};
  let server: DevServer | undefined;
  let serverFile: string | undefined;
  before(async () => {
    if (options.ownServer) {
      quietRuntime();
      serverFile = join(mkdtempSync(join(tmpdir(), 'aiops-chaos-')), 'temporal.db');
      server = await startDevServer(serverFile);
      suite.temporalAddress = server.address;
      suite.env = await TestWorkflowEnvironment.createFromExistingServer({
        address: server.address,
        client: { interceptors: { workflow: [signingInterceptor()] } },
      });
    } else {
      suite.temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
      suite.env = await devServerEnv();
    }
    suite.client = sealingClient(suite.env);
    suite.receiver = await startRunbookReceiver();
    suite.databaseUrl = await testDatabase(database);
    suite.deps = await testDeps({ ...receiverEnv(suite.receiver), DATABASE_URL: suite.databaseUrl, ...redis });
  });
  after(async () => {
    for (const w of workers) await killHard(w);
    for (const r of owned) await r.close();
    await suite.deps?.close();
    await suite.receiver?.stop();
    await suite.env?.teardown();
    if (server) await stopDevServer(server.child);
  });
  suite.worker = async (taskQueue, settings = {}) => {
    const child = spawnKillableWorker({
      TEMPORAL_ADDRESS: suite.temporalAddress,
      ...receiverEnv(suite.receiver),
      DATABASE_URL: suite.databaseUrl,
      ...redis,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ...settings,
    });
    workers.push(child);
    return pollingWorker(suite.env.client, taskQueue, child);
  };
  suite.own = (resource) => {
    owned.push(resource);
    return resource;
  };
  suite.restartServer = async (downMs) => {
    if (!server || !serverFile) throw new Error('restartServer: the suite has no server of its own (ownServer)');
    await stopDevServer(server.child);
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, downMs));
    server = await startDevServer(serverFile, { port: server.port, uiPort: server.uiPort });
    return { stoppedAt, upAt: Date.now() };
  };
  suite.scenario = (name, { row, runs = 1, workflows = 1, timeout }, body) => {
    if (!chaosSelected(name, row)) return;
    void it(name, { timeout }, async () => {
      const tally = newTally(row);
      try {
        for (let run = 0; run < runs; run++) await body(tally, run);
      } finally {
        recordTally(tally);
      }
      const counted = runs * workflows;
      assert.deepEqual(
        {
          runs: tally.runs,
          completedOrPaged: tally.completed + tally.paged,
          duplicated: tally.duplicated,
          lost: tally.lost,
          stuck: tally.stuck,
        },
        { runs: counted, completedOrPaged: counted, duplicated: 0, lost: 0, stuck: 0 },
        tally.notes.join('; '),
      );
    });
  };
  return suite;
}

/**
 * `blobs`, `rows` rows of 32 md5 digests each in the database at `adminUrl`: incompressible enough that a dump of
 * 80,000 rows (about 40 MiB) takes several 8 MiB parts, so a fault can land between the first part and the last.
 */
export async function loadBlobs(adminUrl: string, rows: number): Promise<void> {
  await withPg(adminUrl, async (c) => {
    await c.query('DROP TABLE IF EXISTS blobs');
    await c.query(
      `CREATE TABLE blobs AS
         SELECT g AS id, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 32) i) AS data
           FROM generate_series(1, $1::int) g`,
      [rows],
    );
  });
}

/**
 * Counts what one backup of `blobs` left (backupLeft): a dump beside the one the manifest names, or an unfinished
 * upload, is duplicated; rows the manifest does not have are lost. Returns the rows it has.
 */
export function tallyBackup(tally: ScenarioTally, left: Awaited<ReturnType<typeof backupLeft>>, rows: number): number {
  const dumps = left.keys.filter((k) => k.endsWith('.pgdump.zst'));
  tally.duplicated += Math.max(0, dumps.length - 1) + left.unfinished.length;
  const backedUp = left.manifest?.tables.find((t) => t.table === 'blobs')?.rows ?? 0;
  tally.lost += rows - backedUp;
  tally.notes.push(
    `${((left.manifest?.size ?? 0) / 2 ** 20).toFixed(0)} MiB backup on attempt ${left.attempts}; ${left.unfinished.length} unfinished uploads left`,
  );
  return backedUp;
}

/** The purge's keys in a scenario: `n` keys `ai:<run>:<k>` it must remove and as many `keep:<run>:<k>` it must not. */
export async function loadPurgeKeys(redis: Redis, run: string, n: number): Promise<void> {
  for (let j = 0; j < n; j += 5000) {
    const p = redis.pipeline();
    for (let k = j; k < Math.min(j + 5000, n); k++) p.set(`ai:${run}:${k}`, 'v').set(`keep:${run}:${k}`, 'v');
    await p.exec();
  }
}

/** The run's keys still in Redis, by kind: after the purge, no `ai` key and every `keep` key. */
export async function purgeKeysLeft(redis: Redis, run: string): Promise<{ ai: number; keep: number }> {
  const left = { ai: 0, keep: 0 };
  for await (const found of redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
    for (const k of found as string[]) left[k.startsWith('ai:') ? 'ai' : 'keep'] += 1;
  }
  return left;
}

/**
 * Counts the run's keys left in Redis into the tally and returns them: an `ai` key left is lost; a `keep` key gone,
 * like each of `repeated` (effects counted twice elsewhere), is more than a clean run does.
 */
export async function tallyPurgeKeys(
  tally: ScenarioTally,
  redis: Redis,
  run: string,
  keys: number,
  repeated = 0,
): Promise<{ ai: number; keep: number }> {
  const left = await purgeKeysLeft(redis, run);
  tally.lost += left.ai;
  tally.duplicated += keys - left.keep + repeated;
  return left;
}

/**
 * Counts the rows of wedding_optimizations into the tally and returns them: an eligible row left is lost; a row
 * deleted that the rule keeps is more than a clean run does.
 */
export async function tallyOptimizations(
  tally: ScenarioTally,
  pool: Pool,
  fixture: OptimizationFixture,
): Promise<OptimizationFixture> {
  const end = await countOptimizations(pool);
  tally.lost += end.eligible;
  tally.duplicated += fixture.total - end.total - (fixture.eligible - end.eligible);
  return end;
}

/** A crisis's couples in the suite's database: `couples` active crises, the earlier ones gone. */
export async function loadCrisisCouples(pool: Pool, couples: number): Promise<void> {
  await pool.query('DELETE FROM active_crises');
  await pool.query(
    `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
     SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
       FROM generate_series(1, $1) g`,
    [couples],
  );
}

/** Removes what is left of the run's keys, so the next scenario starts clean. */
export async function removePurgeKeys(redis: Redis, run: string): Promise<void> {
  for await (const found of redis.scanStream({ match: `*:${run}:*`, count: 5000 })) {
    if ((found as string[]).length) await redis.unlink(...(found as string[]));
  }
}

/**
 * Couples the receiver was asked to tell under more than one Idempotency-Key: told twice, whatever the receiver
 * dropped as repeats of one key.
 */
export function couplesToldTwice(receiver: HttpReceiver): number {
  const keysByCouple = new Map<string, Set<string>>();
  for (const r of receiver.requests.filter((q) => q.path === CRISIS_PATHS.couple)) {
    const email = String((JSON.parse(r.body) as { couple_email?: unknown }).couple_email);
    keysByCouple.set(email, (keysByCouple.get(email) ?? new Set()).add(String(r.headers['idempotency-key'])));
  }
  return [...keysByCouple.values()].filter((k) => k.size > 1).length;
}

export interface UnlinkWatch {
  /** How many times Redis unlinked each key of the run. */
  unlinked: Map<string, number>;
  /** Keys of the run unlinked more than once: an effect repeated. */
  repeated(): number;
  close(): void;
}

/** Every UNLINK Redis executes on database `db`, key by key for the keys of `run`, as its MONITOR shows them. */
export async function watchUnlinks(db: number, run: string): Promise<UnlinkWatch> {
  const unlinked = new Map<string, number>();
  const base = new Redis(redisUrlFor(db));
  const monitor = await base.monitor();
  monitor.on('monitor', (_t: string, args: string[], _s: string, database: string) => {
    if (database !== String(db) || args[0]?.toLowerCase() !== 'unlink') return;
    for (const key of args.slice(1)) if (key.includes(run)) unlinked.set(key, (unlinked.get(key) ?? 0) + 1);
  });
  return {
    unlinked,
    repeated: () => [...unlinked.values()].filter((n) => n > 1).length,
    close() {
      monitor.disconnect();
      base.disconnect();
    },
  };
}

/**
 * Counts one run of a scenario: completed (with its recovery time, when it had one to measure), or stuck, noting
 * once what the server shows of the stuck run.
 */
export async function countRun(
  tally: ScenarioTally,
  handle: WorkflowHandle,
  completed: boolean,
  recoverySeconds?: number,
): Promise<void> {
  tally.runs += 1;
  if (completed) {
    tally.completed += 1;
    if (recoverySeconds !== undefined) tally.recoverySeconds.push(recoverySeconds);
  } else {
    tally.stuck += 1;
    if (!tally.notes.some((n) => n.startsWith('stuck:'))) tally.notes.push(`stuck: ${await stuckDetails(handle)}`);
  }
}

/** Counts a run that failed and paged someone, with what it said. */
export function countPaged(tally: ScenarioTally, seen: string): void {
  tally.runs += 1;
  tally.paged += 1;
  tally.notes.push(seen);
}

/**
 * A worker SIGKILL mid-step: kills `first` once `due` holds, starts another worker on `taskQueue` (with the same
 * `settings` as the first), and waits for `finished` (undefined: stuck), counting the run with its recovery time
 * from the kill. A step that ends before its kill point is counted as a run without a kill (and noted).
 */
export async function killAndResume<T>(
  suite: ChaosSuite,
  tally: ScenarioTally,
  taskQueue: string,
  handle: WorkflowHandle,
  first: ChildProcess,
  due: () => Promise<boolean>,
  finished: () => Promise<T | undefined>,
  settings: NodeJS.ProcessEnv = {},
): Promise<T | undefined> {
  const closed = async () => (await handle.describe()).status.name !== 'RUNNING';
  await waitUntil('the moment to kill the worker', async () => (await due()) || (await closed()), Boolean, 120_000);
  const killedEarly = !(await closed());
  await killHard(first);
  if (!killedEarly) tally.notes.push('a step finished before its kill point');
  const killedAt = Date.now();
  const second = await suite.worker(taskQueue, settings);
  try {
    const result = await finished();
    await countRun(tally, handle, result !== undefined, killedEarly ? (Date.now() - killedAt) / 1000 : undefined);
    return result;
  } finally {
    await killHard(second);
  }
}

/** What the server shows of the step that is failing: its attempt count and last failure, the "saying so". */
async function failingStep(handle: WorkflowHandle): Promise<string | undefined> {
  const pending = (await handle.describe()).raw.pendingActivities ?? [];
  const failing = pending.find((a) => (a.attempt ?? 1) > 1 && a.lastFailure?.message);
  return failing
    ? `${failing.activityType?.name} attempt ${failing.attempt}: ${failing.lastFailure?.message?.slice(0, 80)}`
    : undefined;
}

/**
 * Cuts the proxy for `outageMs`, noting in the tally what the failing step reported meanwhile; returns the time
 * it was restored.
 */
export async function outage(
  tally: ScenarioTally,
  proxy: FaultProxy,
  handle: WorkflowHandle,
  outageMs: number,
): Promise<number> {
  proxy.cut();
  const until = Date.now() + outageMs;
  let reported: string | undefined;
  while (Date.now() < until) {
    reported ??= await failingStep(handle);
    await new Promise((r) => setTimeout(r, 250));
  }
  proxy.restore();
  tally.notes.push(reported ? `reported while down: ${reported}` : 'no failing step reported while down');
  return Date.now();
}

/** How long the randomised scenario keeps starting runs and killing workers: about 40 s in `npm test`, 600 in `npm run chaos`. */
export const chaosBudgetSeconds = () => positiveNumber('AIOPS_CHAOS_BUDGET_SECONDS', 40);

/** TIMEOUT_TYPE_HEARTBEAT in temporal.api.enums.v1.TimeoutType. */
const HEARTBEAT_TIMEOUT_TYPE = 4;
/** PENDING_ACTIVITY_STATE_STARTED in temporal.api.enums.v1.PendingActivityState. */
const PENDING_ACTIVITY_STARTED = 2;

/** What a worker cut off from the server said of its attempt: warnings on heartbeats and the late answer, not its polls. */
export function cutOffWorkerSaid(worker: ChildProcess): string[] {
  return [
    ...new Set(
      workerOutput(worker)
        .replace(/\x1b\[[0-9;]*m/g, '')
        .split('\n')
        .filter((l) => /WARN|ERROR/.test(l) && /heartbeat|complet|not found|failed/i.test(l) && !/poll_/.test(l))
        .map((l) => l.replace(/^\S*\d\dZ\s+/, '').slice(0, 120)),
    ),
  ];
}

/** The purge's and the retention delete's heartbeat timeout (src/workflows/policies.ts, `heartbeating`). */
export const HEARTBEATING_TIMEOUT_MS = 30_000;

/** What the history said of a step run beside a worker cut off from the server, before the cut healed and after. */
export interface HealedCut {
  /** How long the cut lasted. */
  cutMs: number;
  /** The step's outcome in history when the workflow was done, the cut still on. */
  closed: Awaited<ReturnType<typeof activityOutcome>>;
  /** The same once the cut-off worker was back in touch and had given its late answer (or 15 s had passed). */
  afterHeal: Awaited<ReturnType<typeof activityOutcome>>;
}

/** A worker cut off from the Temporal server while its attempt at one step of a workflow runs on. */
export interface ServerCut {
  /** When the proxy was cut. */
  cutAt: number;
  /**
   * Waits (the heartbeat timeout and `ms`) until the server has handed the step's retry to `second` and it has
   * started there; notes how long into the cut that was, and the failure that ended the attempt before. Returns when
   * it saw the retry.
   */
  retryStartedOn(second: ChildProcess, ms: number): Promise<number>;
  /**
   * Once the workflow is done: reads the step's outcome in history, keeps the cut on until it has outlasted the
   * heartbeat timeout with room, restores the proxy, waits for the cut-off worker to poll again, then (15 s at most)
   * for it to say its late answer was refused or given up on (`lateAnswer`, in what cutOffWorkerSaid gives), and
   * reads the outcome again.
   */
  heal(lateAnswer: RegExp): Promise<HealedCut>;
}

/**
 * Cuts `proxy`, the cut-off `worker`'s way to the server, while it runs the `activityType` step of `handle`; what
 * the scenario learns of the cut goes into `tally`.
 */
export function cutOffFromServer(
  tally: ScenarioTally,
  env: { client: Client },
  cut: { proxy: FaultProxy; worker: ChildProcess; taskQueue: string },
  handle: WorkflowHandle,
  activityType: string,
): ServerCut {
  cut.proxy.cut();
  const cutAt = Date.now();
  return {
    cutAt,
    async retryStartedOn(second, ms) {
      const retry = await waitUntil(
        'the retry started on the second worker',
        () => pendingAttempt(handle, activityType),
        (a) =>
          (a?.attempt ?? 1) >= 2 &&
          a?.state === PENDING_ACTIVITY_STARTED &&
          !!a.lastWorkerIdentity?.startsWith(`${second.pid}@`),
        HEARTBEATING_TIMEOUT_MS + ms,
      );
      const retriedAt = Date.now();
      tally.notes.push(
        `retry on the second worker ${((retriedAt - cutAt) / 1000).toFixed(1)} s into the cut, after "${retry?.lastFailure?.message?.slice(0, 60)}"`,
      );
      return retriedAt;
    },
    async heal(lateAnswer) {
      const closed = await activityOutcome(handle, activityType);
      // The cut outlasts the heartbeat timeout with room, the workflow's end or not.
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + HEARTBEATING_TIMEOUT_MS + 5_000 - Date.now())));
      const cutMs = Date.now() - cutAt;
      cut.proxy.restore();
      // The cut-off worker reconnects and polls again: it survived the cut, and its attempt ended one way or another.
      await pollingWorker(env.client, cut.taskQueue, cut.worker);
      // Its late answer reaches the server and is refused, or is given up on; either way it is said.
      await waitUntil(
        "the cut-off worker's late answer",
        () => cutOffWorkerSaid(cut.worker),
        (said) => said.some((l) => lateAnswer.test(l)),
        15_000,
      ).catch(() => tally.notes.push('the cut-off worker said nothing of a late answer'));
      const afterHeal = await activityOutcome(handle, activityType);
      return { cutMs, closed, afterHeal };
    },
  };
}

/**
 * What history must say of a step retried beside a worker cut off from the server: one completion, by `second`'s
 * retry, after the first attempt's heartbeat timeout; and the cut-off worker's late answer changed nothing.
 */
export function assertRetryCompletedOnce(healed: HealedCut, second: ChildProcess): void {
  const { closed, afterHeal } = healed;
  assert.deepEqual(
    {
      completions: closed.completions,
      byTheSecondWorker: closed.identity.startsWith(`${second.pid}@`),
      afterATimedOutAttempt: closed.attempt >= 2 && closed.lastTimeoutType === HEARTBEAT_TIMEOUT_TYPE,
    },
    { completions: 1, byTheSecondWorker: true, afterATimedOutAttempt: true },
    "one completion, the second worker's retry, after the first attempt's heartbeat timeout",
  );
  assert.equal(afterHeal.events, closed.events, "the cut-off worker's late answer changed nothing in history");
}
