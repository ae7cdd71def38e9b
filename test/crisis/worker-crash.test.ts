import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
import { CRISIS_PATHS, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { devServerEnv, queryUntil, replayOwnHistory, uniqueId, workflowBundle } from '../helpers/temporal';
import { exited } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');

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
  after(async () => {
    child?.kill('SIGKILL');
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  it('resumes on another worker and notifies no couple twice', async () => {
    await deps.pool.query('DELETE FROM active_crises');
    const { rows } = await deps.pool.query<{ id: string }>(
      `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
       SELECT 'w-' || g, 'couple' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
         FROM generate_series(1, 4) g RETURNING id`,
    );
    const ids = rows.map((r) => Number(r.id));
    const taskQueue = uniqueId('crash');
    const input = { weddingId: uniqueId('w').slice(0, 40), crisisType: 'vendor_cancellation' as const };
    const workflowId = crisisWorkflowId(input);
    const heldKey = `${workflowId}/couple/${ids[3]}`;
    // The last couple's notification is held open, so the first worker dies with it in flight.
    let workerDead = false;
    let release!: () => void;
    const dead = new Promise<void>((resolve) => (release = resolve));
    receiver.route(CRISIS_PATHS.couple, async (req) => {
      if (req.headers['idempotency-key'] === heldKey && !workerDead) await dead;
      return { status: 202, body: {} };
    });

    child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      env: {
        ...process.env,
        ...receiverEnv(receiver),
        DATABASE_URL: databaseUrl,
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0', // the stack's own worker holds the default probe port
      },
      stdio: 'ignore',
    });
    const handle = await env.client.workflow.start(weddingDayCrisis, { taskQueue, workflowId, args: [input] });

    const sentCount = async () =>
      Number(
        (
          await deps.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM crisis_notifications WHERE crisis_key = $1 AND status = 'sent'`,
            [workflowId],
          )
        ).rows[0].n,
      );
    const deadline = Date.now() + 60_000;
    while (!receiver.requests.some((r) => r.headers['idempotency-key'] === heldKey) || (await sentCount()) < 3) {
      if (Date.now() > deadline) throw new Error('the first worker never reached the couples');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited(child);
    workerDead = true;
    release();

    // A second worker picks the workflow up; the activities cut off by the kill retry after their timeout.
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    await worker.runUntil(async () => {
      await queryUntil(handle, crisisStatusQuery, (s) => s.stage === 'stage2', 90_000);
      await handle.signal(decisionSignal, { gate: 'resolve', decision: 'approve', by: 'cto', reason: 'handled' });
      const result = await handle.result();
      assert.deepEqual([...new Set(result.couplesNotified)].sort(), [...ids].sort());
    });

    const perCouple = new Map<string, number>();
    for (const r of receiver.requests.filter((q) => q.path === CRISIS_PATHS.couple)) {
      const key = String(r.headers['idempotency-key']);
      perCouple.set(key, (perCouple.get(key) ?? 0) + 1);
    }
    assert.equal(perCouple.size, 4, 'one idempotency key per couple');
    const { rows: sent } = await deps.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM crisis_notifications WHERE crisis_key = $1 AND status = 'sent'`,
      [handle.workflowId],
    );
    assert.equal(Number(sent[0].n), 4);
    // Couples whose notification had finished before the kill were not sent again.
    for (const [key, count] of perCouple) if (key !== heldKey) assert.equal(count, 1, `${key} sent ${count} times`);
    await replayOwnHistory(handle);
  });
});
