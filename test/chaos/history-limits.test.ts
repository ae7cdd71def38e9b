/**
 * The worst an incident is sent from outside: an alert re-fired 10,000 times, and a gate refused 10,000 times (a
 * signal from someone who may not decide). Each must leave a history far below Temporal's limits (51,200 events,
 * 50 MB) and a status small enough to query. `npm test` sends 1,000 of each and holds the figures per signal against
 * the 10,000; `npm run chaos` sends the 10,000. And forged decisions all delivered in one workflow task, with one
 * valid decision last (issue 18): 3,000 in `npm test`, 10,000 in `npm run chaos`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { signDecision } from '../../src/client/sign-decision';
import type { OwnedDeps } from '../../src/workers/deps';
import { WORKER_TUNING } from '../../src/workers/worker';
import { incidentResponse } from '../../src/workflows';
import { SIGNALS_PER_TASK } from '../../src/workflows/common/signal-intake';
import { decisionSignal } from '../../src/workflows/gates/messages';
import {
  alertSignal,
  incidentStatusQuery,
  type AlertFiring,
  incidentWorkflowId,
  type IncidentStatus,
} from '../../src/workflows/incident/messages';
import { chaosRuns, chaosSelected, newTally, recordTally, statusWhen } from '../helpers/chaos';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import type { HttpReceiver } from '../helpers/http-receiver';
import { forgedCopies } from '../helpers/hostile';
import { operatorKey } from '../helpers/operators';
import { receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { devServerEnv, queryUntil, replayOwnHistory, uniqueId, workflowBundle } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

/** The history's size as the server counts it: its protobuf encoding. */
const encodedSize = (history: temporal.api.history.v1.IHistory) =>
  temporal.api.history.v1.History.encode(history).finish().length;

const EVENT_LIMIT = 51_200;
const SIZE_LIMIT_BYTES = 50 * 1024 * 1024;
const WORST = 10_000;
/** "Far below": a quarter of each limit, at the worst count. */
const SHARE_ALLOWED = 0.25;
/** A status bigger than this is slow to query and to show; it must stay bounded whatever was sent. */
const STATUS_LIMIT_BYTES = 256 * 1024;

describe('an incident sent the worst from outside', () => {
  const sends = chaosRuns() > 1 ? WORST : WORST / 10;
  /** The stack's dev server, as production runs it, with a worker in this process on a task queue of the file's own. */
  const suite = {} as {
    env: TestWorkflowEnvironment;
    deps: OwnedDeps;
    taskQueue: string;
    receiver: HttpReceiver;
    worker: Worker;
    running: Promise<void>;
    bundle: Awaited<ReturnType<typeof workflowBundle>>;
  };
  before(async () => {
    suite.env = await devServerEnv();
    suite.receiver = await startRunbookReceiver();
    const databaseUrl = await testDatabase('aiops_test_chaos_history');
    suite.deps = await testDeps({ ...receiverEnv(suite.receiver), DATABASE_URL: databaseUrl });
    suite.taskQueue = uniqueId('history');
    suite.bundle = await workflowBundle();
    suite.worker = await Worker.create({
      connection: suite.env.nativeConnection,
      taskQueue: suite.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(suite.deps),
      ...WORKER_TUNING,
    });
    suite.running = suite.worker.run();
  });
  after(async () => {
    suite.worker?.shutdown();
    await suite.running;
    await suite.deps?.close();
    await suite.receiver?.stop();
    await suite.env?.teardown();
  });
  function test(name: string, body: () => Promise<void>): void {
    if (chaosSelected(name)) void it(name, { timeout: 600_000 }, body);
  }

  async function openIncident(): Promise<WorkflowHandle> {
    const fingerprint = uniqueId('fp');
    const handle = await suite.env.client.workflow.start(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P2', service: 'ai-optimization-engine', summary: 'error rate high', fingerprint }],
    });
    await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'acknowledge'));
    return handle;
  }

  /** Events and bytes per signal, from the history after `n` signals, against the worst count. */
  async function measure(scenario: string, handle: WorkflowHandle, baseline: { events: number; bytes: number }) {
    const history = await handle.fetchHistory();
    const events = history.events?.length ?? 0;
    const bytes = encodedSize(history);
    const perSignal = { events: (events - baseline.events) / sends, bytes: (bytes - baseline.bytes) / sends };
    const atWorst = {
      events: baseline.events + perSignal.events * WORST,
      bytes: baseline.bytes + perSignal.bytes * WORST,
    };
    // The server closes a task itself while more signals arrive than it buffers (FORCE_CLOSE_COMMAND), so as to
    // write them to the history: the next task takes them and nothing is lost. Any other failed or timed-out task is
    // the workflow's or the worker's.
    const { WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND: FORCE_CLOSE } =
      temporal.api.enums.v1.WorkflowTaskFailedCause;
    const failedTasks = (history.events ?? []).filter(
      (e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes,
    );
    const forceClosed = failedTasks.filter((e) => e.workflowTaskFailedEventAttributes?.cause === FORCE_CLOSE);
    const status = await handle.query(incidentStatusQuery);
    const statusBytes = Buffer.byteLength(JSON.stringify(status));
    const tally = newTally(`history: ${scenario} ${sends.toLocaleString('en')} times`);
    tally.runs = 1;
    tally.completed = 1;
    tally.notes.push(
      `${events} events, ${(bytes / 1024).toFixed(0)} KiB; at ${WORST.toLocaleString('en')}: ${Math.round(atWorst.events)} events (${((100 * atWorst.events) / EVENT_LIMIT).toFixed(0)} % of the limit), status ${(statusBytes / 1024).toFixed(0)} KiB; ${forceClosed.length} tasks closed by the server to write buffered signals`,
    );
    recordTally(tally);
    assert.ok(atWorst.events < EVENT_LIMIT * SHARE_ALLOWED, `${Math.round(atWorst.events)} events at ${WORST}`);
    assert.ok(atWorst.bytes < SIZE_LIMIT_BYTES * SHARE_ALLOWED, `${Math.round(atWorst.bytes)} bytes at ${WORST}`);
    assert.ok(statusBytes < STATUS_LIMIT_BYTES, `the status is ${statusBytes} bytes after ${sends} signals`);
    assert.deepEqual(
      failedTasks
        .filter((e) => !forceClosed.includes(e))
        .map((e) => `${e.eventId}: ${e.workflowTaskFailedEventAttributes?.failure?.message ?? 'timed out'}`),
      [],
      'no workflow task failed or timed out',
    );
    await replayOwnHistory(handle);
    return status;
  }

  async function baselineOf(handle: WorkflowHandle) {
    const history = await handle.fetchHistory();
    return { events: history.events?.length ?? 0, bytes: encodedSize(history) };
  }

  test('an alert re-fired 10,000 times', async () => {
    const handle = await openIncident();
    const baseline = await baselineOf(handle);
    const summary = `error rate high ${'x'.repeat(990)}`;
    for (let i = 0; i < sends; i += 50) {
      await Promise.all(Array.from({ length: 50 }, () => handle.signal(alertSignal, { summary })));
    }
    // A query may time out while the worker works through the signals: asked again until the deadline.
    assert.ok(await statusWhen(handle, incidentStatusQuery, (s) => s.alertFirings === sends, 300_000));
    const status = await measure('alert re-fired', handle, baseline);
    assert.equal(status.alertFirings, sends, 'every firing counted');
    await handle.terminate('measured');
  });

  test('a gate refused 10,000 times', async () => {
    const handle = await openIncident();
    const baseline = await baselineOf(handle);
    const reason = 'r'.repeat(1000);
    for (let i = 0; i < sends; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          handle.signal(decisionSignal, { gate: 'acknowledge', decision: 'approve', by: 'mallory', reason }),
        ),
      );
    }
    // Every refusal is audited: wait for the last write, so the history measured holds all of them.
    await waitUntil(
      'every refusal audited',
      async () =>
        Number(
          (
            await suite.deps.pool.query<{ n: string }>(
              // A run of identical refusals is one record counting them (details.repeated).
              `SELECT coalesce(sum(coalesce((details->>'repeated')::int, 1)), 0) AS n
                 FROM audit_log WHERE workflow_id = $1 AND action = 'decision-signal'`,
              [handle.workflowId],
            )
          ).rows[0].n,
        ),
      (n) => n === sends,
      120_000,
    );
    const status = await measure('gate refused', handle, baseline);
    assert.equal(status.step, 'acknowledge', 'no refused decision moved the incident on');
    await handle.terminate('measured');
  });

  /** When an event was written, in ms. */
  const eventMs = (e: temporal.api.history.v1.IHistoryEvent) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

  /**
   * Opens an incident on a task queue of its own, sends `payloads` while no worker polls that queue, then starts one:
   * its first workflow task carries every payload at once, as one activation (what the server does on a loaded
   * machine, deterministically). Waits until `done` or `deadlineMs`; returns the handle and the workflow tasks after
   * the flood (how long each took, by the history's clock, and how each ended).
   */
  async function floodInOneTask(
    payloads: (handle: WorkflowHandle) => unknown[],
    done: (status: IncidentStatus) => boolean,
    deadlineMs: number,
    signal: SignalDefinition<[never]> = decisionSignal as SignalDefinition<[never]>,
  ) {
    const taskQueue = uniqueId('flood');
    const worker = (options: { maxCachedWorkflows?: number } = {}) =>
      Worker.create({
        connection: suite.env.nativeConnection,
        taskQueue,
        workflowBundle: suite.bundle,
        activities: createActivities(suite.deps),
        ...WORKER_TUNING,
        ...options,
      });
    const fingerprint = uniqueId('fp');
    const handle = suite.env.client.workflow.getHandle(incidentWorkflowId(fingerprint));
    // Caching nothing, the first worker has no sticky queue: the task after the flood goes to the queue polled next.
    await (
      await worker({ maxCachedWorkflows: 0 })
    ).runUntil(async () => {
      await suite.env.client.workflow.start(incidentResponse, {
        taskQueue,
        workflowId: handle.workflowId,
        args: [{ severity: 'P2', service: 'ai-optimization-engine', summary: 'error rate high', fingerprint }],
      });
      await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'acknowledge'), 30_000);
    });
    const sent = payloads(handle);
    for (let i = 0; i < sent.length; i += 50) {
      await Promise.all(sent.slice(i, i + 50).map((p) => handle.signal(signal, p as never)));
    }
    const before = (await handle.fetchHistory()).events?.length ?? 0;
    // The worker runs on until the flood is handled to its last signal (its audit record): the tasks after `done`
    // may still be taking what the SDK kept.
    const { status, intake } = await (
      await worker()
    ).runUntil(async () => {
      const reached = await statusWhen(handle, incidentStatusQuery, done, deadlineMs);
      return { status: reached, intake: reached && (await intakeRecords(handle.workflowId)) };
    });
    const events = (await handle.fetchHistory()).events ?? [];
    const tasks: { ms: number; end: string; message?: string }[] = [];
    for (let i = before; i < events.length; i++) {
      if (!events[i].workflowTaskStartedEventAttributes) continue;
      const end = events
        .slice(i + 1)
        .find(
          (e) =>
            Number(e.eventId) > Number(events[i].eventId) &&
            !e.workflowTaskStartedEventAttributes &&
            (e.workflowTaskCompletedEventAttributes ||
              e.workflowTaskFailedEventAttributes ||
              e.workflowTaskTimedOutEventAttributes),
        );
      if (!end) continue;
      tasks.push({
        ms: eventMs(end) - eventMs(events[i]),
        end: end.workflowTaskCompletedEventAttributes
          ? 'completed'
          : end.workflowTaskFailedEventAttributes
            ? 'failed'
            : 'timed out',
        message: end.workflowTaskFailedEventAttributes?.failure?.message ?? undefined,
      });
    }
    return { handle, status, tasks, intake };
  }

  /** The audit records of a flood handled SIGNALS_PER_TASK a task, once the last of it is handled. */
  async function intakeRecords(workflowId: string) {
    const rows = await waitUntil(
      'the flood handled to the last signal',
      async () =>
        (
          await suite.deps.pool.query<{ action: string; details: Record<string, unknown> | null }>(
            `SELECT action, details FROM audit_log WHERE workflow_id = $1
              AND action IN ('signals-deferred', 'signals-caught-up') ORDER BY occurred_at, id`,
            [workflowId],
          )
        ).rows,
      (found) => found.some((r) => r.action === 'signals-caught-up'),
      60_000,
    );
    assert.deepEqual(
      rows.map((r) => r.action),
      ['signals-deferred', 'signals-caught-up'],
    );
    return rows[1].details;
  }

  test('an alert re-fired 10,000 times in a single workflow task: every firing counted, in order', async () => {
    const { handle, status, tasks, intake } = await floodInOneTask(
      () => Array.from({ length: sends }, (_, i) => ({ summary: `error rate high, firing ${i + 1}` })),
      (s) => s.alertFirings === sends,
      300_000,
      alertSignal as SignalDefinition<[never]>,
    );
    const failed = tasks.filter((t) => t.end !== 'completed');
    const tally = newTally(`flood: an alert re-fired ${sends.toLocaleString('en')} times in one task`);
    tally.runs = 1;
    tally.completed = status ? 1 : 0;
    tally.stuck = status ? 0 : 1;
    tally.notes.push(
      `the task carrying them ${tasks[0]?.ms} ms (${((tasks[0]?.ms ?? NaN) / sends).toFixed(2)} ms a signal); ${tasks.length} tasks, ${failed.length} failed`,
    );
    recordTally(tally);
    assert.deepEqual(failed.slice(0, 3), [], 'no workflow task failed or timed out');
    assert.equal(status?.alertFirings, sends, 'every firing counted');
    // Kept by the SDK between tasks, they were still handled in the order they came: the timeline's latest firings
    // are the last ones sent, each counted as it came.
    const shown = (status?.timeline ?? [])
      .map((e) => /^alert fired again \((\d+)\): error rate high, firing (\d+)$/.exec(e.event))
      .filter((m) => m !== null)
      .map((m) => [Number(m[1]), Number(m[2])]);
    assert.ok(shown.length > 100, `${shown.length} firings on the timeline`);
    // The order they came in is the history's (sent 50 at a time, they need not arrive in the order sent).
    const arrived = ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
      const data = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
      const firing = data && /firing (\d+)$/.exec((JSON.parse(Buffer.from(data).toString()) as AlertFiring).summary);
      return firing ? [Number(firing[1])] : [];
    });
    assert.equal(arrived.length, sends);
    assert.deepEqual(
      shown,
      arrived.slice(-shown.length).map((firing, i) => [sends - shown.length + 1 + i, firing]),
    );
    assert.deepEqual(intake, {
      signal: 'alert',
      signals: sends,
      tasks: Math.floor(sends / SIGNALS_PER_TASK),
    });
    await replayOwnHistory(handle);
    await handle.terminate('measured');
  });

  test('forged decisions and one valid one in a single workflow task: the valid one acknowledges', async () => {
    const nowMs = await suite.env.currentTimeMs();
    // 3,000 in `npm test`: before the verification budget, 1,000 forged ones failed their task on this machine.
    const forged = (chaosRuns() > 1 ? WORST : 3_000) - 1;
    const { handle, status, tasks, intake } = await floodInOneTask(
      (h) => {
        const fields = { gate: 'acknowledge', decision: 'approve' as const, by: 'oncall', reason: 'on it' };
        const sign = () => signDecision(operatorKey('oncall')!, h.workflowId, fields, { nowMs });
        // The server takes at most 10,000 signals an execution: the valid one is the last, verified last.
        return [...forgedCopies(sign(), forged), sign()];
      },
      (s) => s.step !== 'acknowledge',
      300_000,
    );
    const failed = tasks.filter((t) => t.end !== 'completed');
    const tally = newTally(`flood: ${forged.toLocaleString('en')} forged decisions and a valid one in one task`);
    tally.runs = 1;
    tally.completed = status ? 1 : 0;
    tally.stuck = status ? 0 : 1;
    tally.notes.push(
      `the task carrying them ${tasks[0]?.ms} ms (${((tasks[0]?.ms ?? NaN) / (forged + 1)).toFixed(2)} ms a signal); ${tasks.length} tasks, ${failed.length} failed`,
    );
    recordTally(tally);
    assert.deepEqual(failed.slice(0, 3), [], 'no workflow task failed or timed out');
    assert.equal(status?.acknowledgedBy, 'oncall', 'the valid decision, sent after the forged ones, acknowledged');
    // Every forged one refused and audited, counted (a run of identical refusals is one record), and the wait said.
    const audited = await waitUntil(
      'every forged decision audited',
      async () =>
        (
          await suite.deps.pool.query<{ action: string; outcome: string; n: string }>(
            `SELECT action, outcome, sum(coalesce((details->>'repeated')::int, 1)) AS n FROM audit_log
              WHERE workflow_id = $1 AND action IN ('decision-signal', 'verification-deferred') GROUP BY 1, 2`,
            [handle.workflowId],
          )
        ).rows.map((r) => `${r.action} ${r.outcome} ${r.n}`),
      // The approval's record and the refusals' are written by separate activities, in either order.
      (rows) => rows.includes(`decision-signal rejected ${forged}`) && rows.includes('decision-signal approve 1'),
      120_000,
    );
    assert.deepEqual(audited.sort(), [
      'decision-signal approve 1',
      `decision-signal rejected ${forged}`,
      'verification-deferred deferred 1',
    ]);
    // The handler took SIGNALS_PER_TASK of them a task: the SDK kept the rest, at no cost, for the tasks after.
    assert.deepEqual(intake, {
      signal: 'decision',
      signals: forged + 1,
      tasks: Math.floor((forged + 1) / SIGNALS_PER_TASK),
    });
    await replayOwnHistory(handle);
    await handle.terminate('measured');
  });
});
