import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import type { HttpReceiver } from '../helpers/http-receiver';
import {
  CRISIS_PATHS,
  honourIdempotency,
  receiverEnv,
  startRunbookReceiver,
  type NoticeLedger,
} from '../helpers/runbook-receiver';
import {
  devServerEnv,
  queryUntil,
  replayOwnHistory,
  uniqueId,
  workflowBundle,
  sealingClient,
} from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * A worker process is SIGKILLed during stage 1 and another takes over. Each scenario counts, at a receiver that
 * honours Idempotency-Key as a real notification service does, that every couple was told exactly once, reports the
 * repeats it dropped, and ends by replaying the history the crash produced.
 */
describe('a worker killed in the middle of stage 1', () => {
  let env: TestWorkflowEnvironment;
  let receiver: HttpReceiver;
  let deps: OwnedDeps;
  let child: ChildProcess | undefined;
  let databaseUrl: string;

  before(async () => {
    env = await devServerEnv();
    receiver = await startRunbookReceiver();
    databaseUrl = await testDatabase('aiops_test_crisis_crash');
    deps = await testDeps({ ...receiverEnv(receiver), DATABASE_URL: databaseUrl });
  });
  beforeEach(async () => {
    await deps.pool.query('DELETE FROM active_crises');
    receiver.requests.length = 0;
  });
  after(async () => {
    child?.kill('SIGKILL');
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  async function seedCouples(n: number): Promise<number[]> {
    const { rows } = await deps.pool.query<{ id: string }>(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, $1) g RETURNING id`,
      [n],
    );
    return rows.map((r) => Number(r.id));
  }

  function startWorkerProcess(taskQueue: string): ChildProcess {
    return spawn(process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      env: {
        ...process.env,
        ...receiverEnv(receiver),
        DATABASE_URL: databaseUrl,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0', // the stack's own worker holds the default probe port
        // and its metrics and alert-receiver ports
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
        CODEC_SERVER_ADDRESS: '127.0.0.1:0',
      },
      stdio: 'ignore',
    });
  }

  /** Kills the worker process when `ready` holds, then finishes the crisis on a new worker in this process. */
  async function crashAndRecover(ids: number[], ledger: NoticeLedger, ready: () => Promise<boolean> | boolean) {
    const taskQueue = uniqueId('crash');
    const input = { failure: uniqueId('crash') };
    child = startWorkerProcess(taskQueue);
    const handle = await sealingClient(env).workflow.start(weddingDayCrisis, {
      taskQueue,
      workflowId: crisisWorkflowId(input),
      args: [input],
    });
    await waitUntil('the moment to kill the worker', ready, Boolean, 60_000);
    child.kill('SIGKILL');
    await exited(child);

    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: dataConverter(loadConfig()),
      activities: createActivities(deps),
    });
    const status = await worker.runUntil(async () => {
      const s = await queryUntil(handle, crisisStatusQuery, (st) => st.stage === 'stage2', 120_000);
      await handle.signal(decisionSignal, { gate: 'resolve', decision: 'approve', by: 'cto', reason: 'handled' });
      await handle.result();
      return s;
    });
    assert.equal(status.stages.stage1.missedDeadline, false);
    assert.deepEqual(status.couples, {
      found: ids.length,
      notified: ids.length,
      alreadyTold: 0,
      failed: 0,
      remaining: 0,
    });
    assert.deepEqual(
      [...ledger.told].sort(),
      ids.map((id) => `couple-notice/${id}`).sort(),
      'every couple told, none twice',
    );
    const { rows } = await deps.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM couple_notifications WHERE notified_by = $1 AND status = 'sent'`,
      [handle.workflowId],
    );
    assert.equal(Number(rows[0].n), ids.length);
    await replayOwnHistory(handle);
    return handle;
  }

  it('killed a second into stage 1, 120 couples, a notification service taking 0.5 s a send', async (t) => {
    const ids = await seedCouples(120);
    const ledger = honourIdempotency(receiver, 500);
    // About a second in: stage 1's calls are under way and the first couples' sends are in flight.
    const couplesAsked = () => receiver.requests.filter((r) => r.path === CRISIS_PATHS.couple).length;
    await crashAndRecover(ids, ledger, () => couplesAsked() >= 10);
    t.diagnostic(`repeats dropped by the receiver: ${ledger.repeats}`);
    // Repeated: the sends in flight (50 at most) and those answered in the last quarter second before the kill,
    // not yet recorded (50 more at most at 0.5 s a send). Every one was in flight or unrecorded, none told twice.
    assert.ok(ledger.repeats >= 1 && ledger.repeats <= 100, `repeats ${ledger.repeats}`);
  });

  it('killed mid-batch with 5,000 couples: each told once, only the sends in flight repeated', async (t) => {
    const ids = await seedCouples(5000);
    const ledger = honourIdempotency(receiver, 20);
    const handle = await crashAndRecover(ids, ledger, () => ledger.told.length >= 1200);
    t.diagnostic(`repeats dropped by the receiver: ${ledger.repeats}`);
    // In flight (50) plus those sent but not yet recorded (a quarter second of sends) at most.
    assert.ok(ledger.repeats <= 50 + 1000, `repeats ${ledger.repeats}`);
    const history = await handle.fetchHistory();
    const events = history.events?.length ?? 0;
    assert.ok(events < 300, `${events} history events for 5,000 couples`);
  });
});
