/**
 * Issue 18, randomised runs with invariants: three worker processes on one task queue, and for a time budget
 * (AIOPS_CHAOS_BUDGET_SECONDS: 40 s in `npm test`, 600 in `npm run chaos`) a seeded random mix of cache purges (each
 * its own key prefix), retention deletes (this file's database), wedding-day crises (each its own wedding; some
 * resolved, some left to miss their deadline) and incidents decided gate by gate, while a random worker is SIGKILLed
 * at random intervals and replaced (never fewer than two left running). Then every worker is up again, every run
 * must close by a deadline, and the invariants are counted where the effects land:
 *   - each couple told at most once per crisis (the receiver's requests, by Idempotency-Key and recipient), and told;
 *   - an audit row for every decision taken, and each run's audit sequence without a gap;
 *   - no key of a purged prefix left, no other key removed (Redis's MONITOR sees every UNLINK), and no key of a
 *     purge unlinked once its run has completed (a cut-off attempt the fence failed to stop); a result counting other
 *     than the keys the purge was given is noted. Each purge's keys are counted, and its keep: copies deleted, as soon
 *     as its run closes, so the keyspace every SCAN walks stays that of the purges in flight;
 *   - exactly the eligible rows deleted, and the retention results counting exactly those;
 *   - every missed deadline paged; no run stuck; no WorkflowTaskFailed in any history; every history replays.
 *
 * The runs and the kills are on the stack's dev server. A crisis's deadlines are 5 and 30 minutes from its start,
 * which no crisis there can miss within a budget of seconds: the crises left to miss theirs run on a time-skipping
 * test server of the file's own, with a worker process of their own that is not killed (that server does not hand
 * a killed worker's sticky workflow tasks on to another: runs stayed RUNNING with nothing pending). Its clock is held
 * to the machine's while the runs go on (checked); once every other run has closed, it jumps 31 minutes, and each
 * late crisis must record its missed stage 2 deadline and page the next tier before it is resolved. Their histories
 * replay each in a process of its own with a deadline (a hung replay fails the test; see test/crisis/late-replay.test.ts).
 *
 * The seed (AIOPS_CHAOS_SEED) is printed: the same seed makes the same plan of runs, kills and intervals.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import { dataConverter } from '../../src/client/data-converter';
import { DATA_DIR } from '../../scripts/lib/paths';
import { loadConfig } from '../../src/config';
import { seededRandom } from '../../src/contracts/ab-simulation';
import type { PurgeCacheResult } from '../../src/contracts/maintenance';
import type { PruneOptimizationsResult } from '../../src/workflows/operations/retention/messages';
import type { OwnedDeps } from '../../src/workers/deps';
import { incidentResponse, pruneOptimizations, purgeCache, weddingDayCrisis } from '../../src/workflows';
import { crisisWorkflowId, type CrisisResult } from '../../src/workflows/crisis/messages';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { incidentWorkflowId } from '../../src/workflows/incident/messages';
import type { Decision } from '../../src/contracts/gates';
import { chaosBudgetSeconds, chaosSeed, killHard, newTally, recordTally, spawnKillableWorker } from '../helpers/chaos';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import type { HttpReceiver } from '../helpers/http-receiver';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { signingInterceptor } from '../helpers/operators';
import {
  CRISIS_PATHS,
  honourIdempotency,
  pagerDutyEvents,
  receiverEnv,
  startRunbookReceiver,
} from '../helpers/runbook-receiver';
import {
  devServerEnv,
  replayEachWithin,
  replayOwnHistories,
  sealingClient,
  timeSkippingEnv,
  uniqueId,
} from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DATABASE = 'aiops_test_chaos_random';
const WORKERS = 3;
/** After the budget: a killed worker's activities wait out their 30-second heartbeat timeout, then the rest runs. */
const DRAIN_MS = 240_000;
/** Past the crisis's stage 2 deadline (30 minutes from its start). */
const SKIP_MS = 31 * 60_000;
/** After the jump: the escalations' workflow tasks and pages, on a loaded machine. */
const LATE_MS = 120_000;
/** One late crisis's replay, in a process of its own: seconds normally; one still going after this has hung. */
const REPLAY_MS = 60_000;
/** A busy worker is looked for among the runs started last, this many of them, describing at most BUSY_LOOKS. */
const RECENT_RUNS = 12;
const BUSY_LOOKS = 6;

type Kind = 'purge' | 'retention' | 'crisis-resolved' | 'crisis-late' | 'incident';

interface Run {
  kind: Kind;
  handle: WorkflowHandle;
  /** Child workflows it starts, replayed with it. */
  children: string[];
  /** Decisions sent, each to a gate the status showed open: the run takes each one. */
  decisions: Decision[];
  /** The run's own driver: its decisions, each wait with a deadline. */
  driver: Promise<void>;
  closed?: 'COMPLETED' | 'FAILED' | 'STUCK' | string;
  result?: unknown;
}

/** A purge's keys (`ai:<prefix>:0..keys-1`, each with a `keep:` copy), and what was left once its run closed. */
interface Purge {
  keys: number;
  /** Redis's clock, in seconds, when the test saw the run completed. */
  closedAt?: number;
  aiLeft?: number;
  keepLeft?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('randomised runs on three workers killed at random', () => {
  const seed = chaosSeed();
  const budgetMs = chaosBudgetSeconds() * 1000;
  let env: TestWorkflowEnvironment | undefined;
  let skipping: TestWorkflowEnvironment | undefined;
  let receiver: HttpReceiver | undefined;
  let deps: OwnedDeps | undefined;
  let monitorBase: Redis | undefined;
  let monitor: Redis | undefined;
  const workers: ChildProcess[] = [];
  const tag = uniqueId('rnd').slice(-10);
  after(async () => {
    for (const w of workers) await killHard(w);
    monitor?.disconnect();
    monitorBase?.disconnect();
    if (deps) {
      for await (const found of deps.redis.scanStream({ match: `*:${tag}-*`, count: 5000 })) {
        if ((found as string[]).length) await deps.redis.unlink(...(found as string[]));
      }
    }
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
    await skipping?.teardown();
  });

  it('keeps every invariant', { timeout: budgetMs + 2 * DRAIN_MS + LATE_MS + 300_000 }, async (t) => {
    t.diagnostic(`seed ${seed} (AIOPS_CHAOS_SEED=${seed} repeats this plan), budget ${budgetMs / 1000} s`);
    const random = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const tally = newTally(`randomised: purges, retention deletes, crises and incidents on ${WORKERS} workers`);

    env = await devServerEnv();
    const client = sealingClient(env);
    skipping = await timeSkippingEnv();
    const server = skipping;
    // The late crises' decisions are signed against their server's clock, ahead of the machine's after the jump.
    const lateClient = new Client({
      connection: server.connection,
      namespace: server.namespace ?? 'default',
      dataConverter: dataConverter(loadConfig()),
      interceptors: { workflow: [signingInterceptor(() => server.currentTimeMs())] },
    });
    receiver = await startRunbookReceiver();
    const ledger = honourIdempotency(receiver, 5);
    const databaseUrl = await testDatabase(DATABASE);
    const redisUrl = redisUrlFor(REDIS_DB.chaos);
    deps = await testDeps({ ...receiverEnv(receiver), DATABASE_URL: databaseUrl, REDIS_URL: redisUrl });
    const { pool, redis } = deps;
    await pool.query('DELETE FROM active_crises');
    await pool.query('DELETE FROM wedding_optimizations');

    // Every UNLINK Redis executed on this DB of this file's keys (the test itself deletes with DEL): one of a keep:
    // key removed what no purge may; one of a purge's key after its run completed is an attempt that outlived it.
    // SCAN may return a key twice (as the key table resizes), so an UNLINK repeated while the run goes on is not one.
    const purges = new Map<string, Purge>();
    const removedWrongly = { keep: 0, afterClose: 0 };
    monitorBase = new Redis(redisUrl);
    monitor = await monitorBase.monitor();
    monitor.on('monitor', (time: string, args: string[], _s: string, database: string) => {
      if (database !== String(REDIS_DB.chaos) || args[0]?.toLowerCase() !== 'unlink') return;
      for (const key of args.slice(1)) {
        if (!key.includes(`:${tag}-`)) continue;
        if (key.startsWith('keep:')) removedWrongly.keep += 1;
        const closedAt = purges.get(key.split(':')[1])?.closedAt;
        if (closedAt !== undefined && Number(time) > closedAt) removedWrongly.afterClose += 1;
      }
    });

    // The workers: three processes on the scenario's own task queue, each killed with SIGKILL at random; and one
    // on the time-skipping server for the late crises, never killed (that server does not hand a killed worker's
    // sticky workflow tasks on: runs stayed RUNNING with nothing pending after kills there).
    const taskQueue = uniqueId('chaos-random');
    const lateQueue = uniqueId('chaos-random-late');
    const workerEnv = { ...receiverEnv(receiver), DATABASE_URL: databaseUrl, REDIS_URL: redisUrl };
    const alive = new Set<ChildProcess>();
    const crashed: string[] = [];
    const spawnWorker = (settings: NodeJS.ProcessEnv = { TEMPORAL_TASK_QUEUE: taskQueue }, killable = true) => {
      const child = spawnKillableWorker({ ...workerEnv, ...settings });
      workers.push(child);
      if (killable) alive.add(child);
      child.once('exit', (code, signal) => {
        // Only this test kills a worker, and always with SIGKILL: any other exit is the worker crashing.
        if (signal !== 'SIGKILL') crashed.push(`worker ${child.pid} exited by itself (${signal ?? code})`);
        alive.delete(child);
      });
      return child;
    };
    for (let w = 0; w < WORKERS; w++) spawnWorker();
    spawnWorker({ TEMPORAL_TASK_QUEUE: lateQueue, TEMPORAL_ADDRESS: server.address }, false);
    let kills = 0;
    /** Kills of a worker that had an activity of a run in hand. */
    let busyKills = 0;

    // What each kind of run puts in place, to be counted at the end.
    const retention = { eligible: 0, kept: 0 };
    const couples = new Map<string, number>(); // weddingId -> couples seeded
    const runs: Run[] = [];
    const lateCrises: Run[] = [];
    let counter = 0;
    const started = Date.now();
    const budgetEnd = started + budgetMs;
    /** The drivers' deadline: the end of the drain that follows the budget. */
    const driveBy = budgetEnd + DRAIN_MS;

    /**
     * Waits until the run's audit log shows that it did `action` at `step` (a gate opened, a stage complete). The
     * drivers read the audit log, where an operator sees it, rather than query the workflow.
     */
    async function audited(run: Run, step: string, action: string, deadline: number): Promise<boolean> {
      for (;;) {
        const { rows } = await pool.query(
          'SELECT 1 FROM audit_log WHERE workflow_id = $1 AND step = $2 AND action = $3 LIMIT 1',
          [run.handle.workflowId, step, action],
        );
        if (rows.length > 0) return true;
        if (Date.now() > deadline) return false;
        await sleep(500);
      }
    }

    async function decide(run: Run, decision: Decision): Promise<void> {
      await run.handle.signal(decisionSignal, decision);
      run.decisions.push(decision);
    }

    async function startPurge(i: number): Promise<Run> {
      const prefix = `${tag}-p${i}`;
      const keys = between(3_000, 15_000);
      for (let j = 0; j < keys; j += 5000) {
        const p = redis.pipeline();
        for (let k = j; k < Math.min(keys, j + 5000); k++)
          p.set(`ai:${prefix}:${k}`, 'v').set(`keep:${prefix}:${k}`, 'v');
        await p.exec();
      }
      const purge: Purge = { keys };
      purges.set(prefix, purge);
      const handle = await client.workflow.start(purgeCache, {
        taskQueue,
        workflowId: `chaos-random-purge-${prefix}`,
        args: [{ pattern: `ai:${prefix}:*`, scanCount: pick([10, 10, 100, 1000]), unlinkBatch: pick([10, 100, 1000]) }],
      });
      return { kind: 'purge', handle, children: [], decisions: [], driver: settlePurge(prefix, purge, handle) };
    }

    /**
     * Once a purge's run has closed (completed, failed, or terminated as stuck): the moment it completed, by Redis's
     * clock, its keys counted, and its keep: copies deleted.
     */
    async function settlePurge(prefix: string, purge: Purge, handle: WorkflowHandle): Promise<void> {
      const result = await handle.result().then(
        (r: PurgeCacheResult) => r,
        () => undefined,
      );
      // A run terminated as stuck leaves its activity running until its next heartbeat: only a run that ended by
      // itself must have stopped unlinking.
      if (result) {
        const [seconds, micros] = await redis.time();
        purge.closedAt = Number(seconds) + Number(micros) / 1e6;
      }
      const names = (kind: string) => Array.from({ length: purge.keys }, (_, k) => `${kind}:${prefix}:${k}`);
      purge.aiLeft = await countExisting(names('ai'));
      purge.keepLeft = await countExisting(names('keep'));
      if (result && result.removed !== purge.keys) {
        tally.notes.push(`${handle.workflowId} counted ${result.removed} keys removed of ${purge.keys}`);
      }
      for (let i = 0; i < purge.keys; i += 5000) await redis.del(...names('keep').slice(i, i + 5000));
    }
    async function countExisting(keys: string[]): Promise<number> {
      let n = 0;
      for (let i = 0; i < keys.length; i += 5000) n += await redis.exists(...keys.slice(i, i + 5000));
      return n;
    }

    async function startRetention(i: number): Promise<Run> {
      const marker = `${tag}-r${i}`;
      // Ages 0-199 days and 12 hours, statuses mixed: none within 12 hours of the 90-day line.
      const { rows } = await pool.query<{ eligible: string; kept: string }>(
        `WITH added AS (
           INSERT INTO wedding_optimizations (wedding_id, wedding_date, status, quality_score, created_at)
           SELECT $1::text || '-' || g, DATE '2026-06-01',
                  (ARRAY['completed', 'completed', 'pending', 'active', 'failed'])[1 + g % 5], 0.9,
                  now() - make_interval(days => (g * 37) % 200, hours => 12)
             FROM generate_series(1, $2::int) g
           RETURNING status, created_at)
         SELECT count(*) FILTER (WHERE status = 'completed' AND created_at < now() - interval '90 days') AS eligible,
                count(*) FILTER (WHERE NOT (status = 'completed' AND created_at < now() - interval '90 days')) AS kept
           FROM added`,
        [marker, between(2_000, 20_000)],
      );
      retention.eligible += Number(rows[0].eligible);
      retention.kept += Number(rows[0].kept);
      const handle = await client.workflow.start(pruneOptimizations, {
        taskQueue,
        workflowId: `chaos-random-prune-${marker}`,
        args: [{ targetBatchMs: 5 }],
      });
      return { kind: 'retention', handle, children: [], decisions: [], driver: Promise.resolve() };
    }

    async function startCrisis(i: number, late: boolean): Promise<Run> {
      const weddingId = `${tag}-w${i}`;
      const n = between(1, 25);
      await pool.query(
        `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
         SELECT $1::text, $1::text || '-c' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
           FROM generate_series(1, $2::int) g`,
        [weddingId, n],
      );
      couples.set(weddingId, n);
      const input = { failure: `${tag}-f${i}`, weddingId };
      const handle = await (late ? lateClient : client).workflow.start(weddingDayCrisis, {
        taskQueue: late ? lateQueue : taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const run: Run = {
        kind: late ? 'crisis-late' : 'crisis-resolved',
        handle,
        children: [],
        decisions: [],
        driver: Promise.resolve(),
      };
      // Resolved once stage 1 told every couple (a resolution cancels what is still running); a late one is left
      // at its gates until the clock passes its deadline.
      if (!late) {
        run.driver = (async () => {
          if (!(await audited(run, 'stage1', 'stage', driveBy))) return;
          if (!(await audited(run, 'gate:resolve', 'gate-opened', driveBy))) return;
          await decide(run, { gate: 'resolve', decision: 'approve', by: 'cto', reason: 'handled by hand' });
        })();
      }
      return run;
    }

    async function startIncident(i: number): Promise<Run> {
      const fingerprint = `${tag}-i${i}`;
      const workflowId = incidentWorkflowId(fingerprint);
      const handle = await client.workflow.start(incidentResponse, {
        taskQueue,
        workflowId,
        args: [
          {
            severity: pick(['P2', 'P3'] as const),
            service: 'ai-gateway-service',
            summary: `randomised run ${i}`,
            fingerprint,
            monitor: { intervalSeconds: 1, healthyChecksRequired: 1, timeoutSeconds: 60 },
          },
        ],
      });
      const run: Run = {
        kind: 'incident',
        handle,
        children: [`${workflowId}/monitor`],
        decisions: [],
        driver: Promise.resolve(),
      };
      const gates: Decision[] = [
        { gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: 'on it' },
        { gate: 'root-cause', decision: 'approve', by: 'oncall', reason: 'a bad deploy' },
        { gate: 'quick-fix', decision: 'reject', by: 'oncall', reason: 'none needed' },
        { gate: 'document', decision: 'approve', by: 'oncall', reason: 'written up' },
        { gate: 'follow-up', decision: 'approve', by: 'oncall', reason: 'none' },
      ];
      run.driver = (async () => {
        for (const d of gates) {
          if (!(await audited(run, `gate:${d.gate}`, 'gate-opened', driveBy))) return;
          await decide(run, d);
        }
      })();
      return run;
    }

    const kinds: [Kind, number][] = [
      ['purge', 0.3],
      ['retention', 0.2],
      ['crisis-resolved', 0.2],
      ['crisis-late', 0.1],
      ['incident', 0.2],
    ];
    /** Late crises stay open to the end: a few per budget, not a third of the runs. */
    const maxLate = Math.max(2, Math.floor(budgetMs / 20_000));
    function nextKind(): Kind {
      let r = random();
      for (const [kind, weight] of kinds) {
        if ((r -= weight) < 0) return kind === 'crisis-late' && lateCrises.length >= maxLate ? 'crisis-resolved' : kind;
      }
      return 'purge';
    }

    const starter = async () => {
      while (Date.now() < budgetEnd) {
        const kind = nextKind();
        const i = ++counter;
        const run = await (kind === 'purge'
          ? startPurge(i)
          : kind === 'retention'
            ? startRetention(i)
            : kind === 'incident'
              ? startIncident(i)
              : startCrisis(i, kind === 'crisis-late'));
        runs.push(run);
        if (kind === 'crisis-late') lateCrises.push(run);
        await sleep(between(250, 1_500));
      }
    };
    /**
     * The worker a random run's running activity is on (its identity is `<pid>@<host>`), if it is one of ours: a
     * kill of an idle worker tests little, so most kills go to a busy one.
     */
    async function busyWorker(): Promise<ChildProcess | undefined> {
      // The runs started last: most earlier ones have finished, and a finished run has no activity in hand.
      const candidates = runs.filter((r) => r.kind !== 'crisis-late').slice(-RECENT_RUNS);
      for (let attempt = 0; attempt < BUSY_LOOKS && candidates.length > 0; attempt++) {
        const run = candidates.splice(Math.floor(random() * candidates.length), 1)[0];
        const { raw } = await run.handle.describe();
        const identity = (raw.pendingActivities ?? []).find(
          (a) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        )?.lastWorkerIdentity;
        const victim = [...alive].find((c) => identity?.startsWith(`${c.pid}@`));
        if (victim) return victim;
      }
      return undefined;
    }
    const killer = async () => {
      for (;;) {
        await sleep(Math.min(between(3_000, 10_000), Math.max(0, budgetEnd - Date.now())));
        if (Date.now() >= budgetEnd) return;
        const victims = [...alive];
        if (victims.length < 2) continue;
        const busy = random() < 0.75 ? await busyWorker() : undefined;
        if (busy) busyKills += 1;
        await killHard(busy ?? pick(victims));
        kills += 1;
        spawnWorker();
      }
    };
    await Promise.all([starter(), killer()]);
    const budgetSeconds = (Date.now() - started) / 1000;

    // Heal: every worker up, the kills over.
    while (alive.size < WORKERS) spawnWorker();
    // The late crises' clock must not have jumped while the runs went on: their timeouts ran in real time.
    const drift = (await server.currentTimeMs()) - Date.now();
    assert.ok(Math.abs(drift) < 5_000, `the server's clock moved ${drift} ms from the machine's during the budget`);

    // Every run but the late crises closes by the deadline; those left running are stuck (and terminated).
    const closeBy = Date.now() + DRAIN_MS;
    async function closeRun(run: Run, deadline: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'STUCK'>(
        (resolve) => (timer = setTimeout(() => resolve('STUCK'), deadline - Date.now())),
      );
      try {
        run.closed = await Promise.race([
          run.handle.result().then(
            (result) => {
              run.result = result;
              return 'COMPLETED';
            },
            (err: unknown) => `FAILED: ${(err as Error & { cause?: Error }).cause?.message ?? String(err)}`,
          ),
          late,
        ]);
      } finally {
        clearTimeout(timer);
      }
      if (run.closed === 'STUCK') {
        const { status, raw } = await run.handle.describe();
        const pending = (raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} attempt ${a.attempt}`);
        tally.notes.push(`stuck: ${run.handle.workflowId} ${status.name}; pending: ${pending.join(', ') || 'none'}`);
        await run.handle.terminate('stuck in the randomised chaos scenario').catch(() => undefined);
      } else if (run.closed !== 'COMPLETED') tally.notes.push(`${run.handle.workflowId} ${run.closed}`);
    }
    await Promise.all(runs.filter((r) => r.kind !== 'crisis-late').map((r) => closeRun(r, closeBy)));
    await Promise.all(runs.map((r) => r.driver));
    const drainedSeconds = (Date.now() - started) / 1000 - budgetSeconds;

    // The late crises: each has told its couples and waits at its gates; the clock jumps past stage 2's deadline.
    await Promise.all(lateCrises.map((r) => audited(r, 'stage1', 'stage', closeBy)));
    const pagesBefore = receiver.requests.length;
    let jumped = lateCrises.length === 0;
    if (!jumped) {
      // The jump returns once the server's clock has moved; something holding time skipping would make it take
      // 31 real minutes, so it has a deadline of its own.
      let timer: NodeJS.Timeout | undefined;
      jumped = await Promise.race([
        server.sleep(SKIP_MS).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), LATE_MS))),
      ]);
      clearTimeout(timer);
      if (!jumped) tally.notes.push('the server clock did not jump: time skipping held');
    }
    let unpaged = 0;
    const lateBy = Date.now() + LATE_MS;
    for (const run of lateCrises) {
      const key = run.handle.workflowId;
      const missed = await audited(run, 'stage2', 'deadline', lateBy);
      const paged = await waitUntil(
        `a page for ${key}'s missed deadline`,
        () =>
          pagerDutyEvents(receiver!, pagesBefore).some(
            (e) =>
              e.event_action === 'trigger' &&
              e.dedup_key.startsWith(`${key}/`) &&
              (e.payload?.summary ?? '').includes('stage2 missed its deadline'),
          ),
        Boolean,
        Math.max(1, lateBy - Date.now()),
      ).catch(() => false);
      if (!missed || !paged) {
        unpaged += 1;
        tally.notes.push(`${key}: missed deadline audited ${missed}, paged ${paged}`);
      }
      await decide(run, { gate: 'resolve', decision: 'approve', by: 'cto', reason: 'handled late' });
    }
    await Promise.all(lateCrises.map((r) => closeRun(r, Date.now() + LATE_MS)));
    // The result says so too: the late crises missed stage 2's deadline, the resolved ones missed none.
    const misreported = runs.filter(
      (r) =>
        r.closed === 'COMPLETED' &&
        r.kind.startsWith('crisis') &&
        (r.result as CrisisResult).stages.stage2.missedDeadline !== (r.kind === 'crisis-late'),
    ).length;

    // The counts, where the effects landed.
    const closed = runs.map((r) => r.closed ?? 'STUCK');
    tally.runs = runs.length;
    tally.completed = closed.filter((c) => c === 'COMPLETED').length;
    tally.stuck = closed.filter((c) => c === 'STUCK').length;
    const found = { purgeLeft: 0, keepGone: 0, ...removedWrongly };
    for (const purge of purges.values()) {
      found.purgeLeft += purge.aiLeft ?? purge.keys;
      found.keepGone += purge.keys - (purge.keepLeft ?? 0);
    }

    const { rows: opt } = await pool.query<{ eligible: string; kept: string }>(
      `SELECT count(*) FILTER (WHERE status = 'completed' AND created_at < now() - interval '90 days') AS eligible,
              count(*) FILTER (WHERE NOT (status = 'completed' AND created_at < now() - interval '90 days')) AS kept
         FROM wedding_optimizations WHERE wedding_id LIKE $1`,
      [`${tag}-r%`],
    );
    const rowsLeft = Number(opt[0].eligible);
    const keptGone = retention.kept - Number(opt[0].kept);
    const counted = runs
      .filter((r) => r.kind === 'retention' && r.closed === 'COMPLETED')
      .reduce((sum, r) => sum + (r.result as PruneOptimizationsResult).retention.deleted, 0);

    // Each couple told once: a couple told under two keys was told twice; one never asked about was never told.
    const keysByCouple = new Map<string, Set<string>>();
    for (const r of receiver.requests.filter((q) => q.path === CRISIS_PATHS.couple)) {
      const email = String((JSON.parse(r.body) as { couple_email?: unknown }).couple_email);
      keysByCouple.set(email, (keysByCouple.get(email) ?? new Set()).add(String(r.headers['idempotency-key'])));
    }
    let untold = 0;
    for (const [weddingId, n] of couples) {
      for (let g = 1; g <= n; g++) if (!keysByCouple.has(`${weddingId}-c${g}@example.com`)) untold += 1;
    }
    const toldTwice = [...keysByCouple.values()].filter((k) => k.size > 1).length;

    // Every decision the runs took has its audit row, and no run's audit sequence has a gap.
    let unaudited = 0;
    for (const run of runs.filter((r) => r.closed === 'COMPLETED')) {
      for (const d of run.decisions) {
        const { rows } = await pool.query(
          `SELECT 1 FROM audit_log WHERE workflow_id = $1 AND step = $2 AND action = 'decision-signal'
              AND actor = $3 AND outcome = $4`,
          [run.handle.workflowId, `gate:${d.gate}`, d.by, d.decision],
        );
        if (rows.length === 0) {
          unaudited += 1;
          tally.notes.push(`no audit row for ${run.handle.workflowId}'s ${d.gate} decision`);
        }
      }
    }
    const { rows: gaps } = await pool.query<{ workflow_id: string; records: string; last: string }>(
      `SELECT workflow_id, count(*) AS records, max(seq) AS last FROM (
         SELECT workflow_id, run_id, substr(event_key, length(workflow_id) + length(run_id) + 3)::int AS seq
           FROM audit_log
          WHERE workflow_id LIKE ANY($1) AND substr(event_key, length(workflow_id) + length(run_id) + 3) ~ '^[0-9]+$'
       ) s GROUP BY workflow_id, run_id HAVING count(*) <> max(seq)`,
      [[`%${tag}%`]],
    );
    const auditGaps = gaps.reduce((sum, g) => sum + Number(g.last) - Number(g.records), 0);
    for (const g of gaps) tally.notes.push(`${g.workflow_id}: ${g.records} audit records of ${g.last}`);

    // The histories: no workflow task failed, and each replays on today's code.
    const handles = runs.flatMap((r) => [r.handle, ...r.children.map((id) => client.workflow.getHandle(id))]);
    const existing: WorkflowHandle[] = [];
    let taskFailures = 0;
    /** What the kills did: tasks a dead worker held, handed to another after their timeout (or a retry). */
    const timedOut = { activities: 0, workflowTasks: 0 };
    for (const h of handles) {
      const history = await h.fetchHistory().catch(() => undefined);
      if (!history) continue; // a child the run never reached
      existing.push(h);
      const events = history.events ?? [];
      // A retried activity shows only its last attempt, started again after the dead worker's timed out.
      timedOut.activities += events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1).length;
      timedOut.workflowTasks += events.filter((e) => e.workflowTaskTimedOutEventAttributes).length;
      const failed = events.filter((e) => e.workflowTaskFailedEventAttributes).length;
      if (failed) tally.notes.push(`${h.workflowId}: ${failed} workflow task failure(s)`);
      taskFailures += failed;
    }
    // The dev server's histories replay together. The late crises' replay each in a process of its own with a
    // deadline: a replay that hangs is killed and fails the test, as does any refusal. A history that breaks the
    // rule every server keeps (an event between a workflow task's start and its end: the replayer refuses it, then
    // hangs) is the time-skipping server's, not the workflow's: it is named with its events, not replayed.
    const lateIds = new Set(lateCrises.map((r) => r.handle.workflowId));
    await replayOwnHistories(existing.filter((h) => !lateIds.has(h.workflowId)));
    const lateReplays = await replayEachWithin(
      existing.filter((h) => lateIds.has(h.workflowId)),
      REPLAY_MS,
      join(DATA_DIR, 'chaos-histories'),
    );
    const notReplayed = lateReplays.filter((r) => r.error);
    for (const r of lateReplays) {
      tally.notes.push(
        r.invalid
          ? `${r.workflowId}: the time-skipping server wrote an invalid history, not replayed (${r.invalid}; ${r.file})`
          : `${r.workflowId} did not replay (${r.file}): ${r.error}`,
      );
    }

    tally.lost = found.purgeLeft + rowsLeft + untold + unaudited + auditGaps + unpaged;
    tally.duplicated = found.keepGone + found.keep + found.afterClose + keptGone + toldTwice;
    tally.notes.push(
      `seed ${seed}; ${kills} kills (${busyKills} of a worker running an activity); ${runs.length} runs in ${budgetSeconds.toFixed(0)} s, drained in ${drainedSeconds.toFixed(0)} s`,
      `${timedOut.activities} activities retried and ${timedOut.workflowTasks} workflow tasks timed out after kills`,
      `${ledger.repeats} repeated couple sends dropped by key`,
      `${lateCrises.length - lateReplays.length} of ${lateCrises.length} late crises' histories replayed on their own`,
      ...crashed,
    );
    recordTally(tally);
    const byKind = Object.fromEntries(
      (['purge', 'retention', 'crisis-resolved', 'crisis-late', 'incident'] as const).map((k) => [
        k,
        runs.filter((r) => r.kind === k).length,
      ]),
    );
    t.diagnostic(
      `| ${tally.scenario} | runs ${tally.runs} | completed ${tally.completed} | duplicated ${tally.duplicated} | ` +
        `lost ${tally.lost} | stuck ${tally.stuck} | ${JSON.stringify(byKind)} | ${tally.notes.join('; ')}`,
    );

    assert.deepEqual(crashed, [], 'no worker exits but by the test’s SIGKILL');
    assert.equal(taskFailures, 0, 'no WorkflowTaskFailed in any history');
    assert.deepEqual(notReplayed, [], "every late crisis's history replays");
    assert.deepEqual(
      found,
      { purgeLeft: 0, keepGone: 0, keep: 0, afterClose: 0 },
      'every ai:* key of a purged prefix gone, no other key removed, none unlinked after its run closed',
    );
    assert.deepEqual({ rowsLeft, keptGone }, { rowsLeft: 0, keptGone: 0 }, 'exactly the eligible rows deleted');
    assert.equal(counted, retention.eligible, 'the retention results count exactly the rows deleted');
    assert.deepEqual({ untold, toldTwice }, { untold: 0, toldTwice: 0 }, 'each couple told once per crisis');
    assert.deepEqual({ unaudited, auditGaps }, { unaudited: 0, auditGaps: 0 }, 'the audit log complete');
    assert.equal(unpaged, 0, 'every missed deadline paged');
    assert.equal(misreported, 0, 'each crisis result says whether it missed its deadline');
    assert.deepEqual(
      { runs: tally.runs, completed: tally.completed, stuck: tally.stuck },
      { runs: runs.length, completed: runs.length, stuck: 0 },
      `every run completes: ${tally.notes.join('; ')}`,
    );
    assert.ok(kills > 0 || budgetMs < 10_000, 'the budget saw a worker killed');
  });
});
