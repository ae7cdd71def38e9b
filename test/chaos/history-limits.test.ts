/**
 * The worst an incident is sent from outside: an alert re-fired 10,000 times, and a gate refused 10,000 times (a
 * signal from someone who may not decide). Each must leave a history far below Temporal's limits (51,200 events,
 * 50 MB) and a status small enough to query. `npm test` sends 1,000 of each and holds the figures per signal against
 * the 10,000; `npm run chaos` sends the 10,000.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { WORKER_TUNING } from '../../src/workers/worker';
import { incidentResponse } from '../../src/workflows';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { alertSignal, incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { chaosRuns, newTally, recordTally, statusWhen } from '../helpers/chaos';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import type { HttpReceiver } from '../helpers/http-receiver';
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
  };
  before(async () => {
    suite.env = await devServerEnv();
    suite.receiver = await startRunbookReceiver();
    const databaseUrl = await testDatabase('aiops_test_chaos_history');
    suite.deps = await testDeps({ ...receiverEnv(suite.receiver), DATABASE_URL: databaseUrl });
    suite.taskQueue = uniqueId('history');
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
    void it(name, { timeout: 600_000 }, body);
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
});
