/**
 * A worker SIGKILLed while the watch's probe is in flight, on the dev server: another worker carries the watch on,
 * the failure streak is not lost or counted twice, exactly one protocol run is started, and the history the two
 * workers wrote replays on today's code.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { crisisManagerWatch } from '../../src/workflows';
import { crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { watchStatusQuery } from '../../src/workflows/crisis-watch/messages';
import { HEALTHY_BODY, type HttpReceiver } from '../helpers/http-receiver';
import { receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import { devServerEnv, replayOwnHistory, uniqueId, sealingClient } from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');
const CRISIS_MANAGER = '/crisis-manager/health';

describe('a worker killed while the crisis-manager watch probes', () => {
  let env: TestWorkflowEnvironment;
  let receiver: HttpReceiver;
  const workers: ChildProcess[] = [];
  const cleanup: string[] = [];
  const taskQueue = uniqueId('watch-crash');

  before(async () => {
    env = await devServerEnv();
    receiver = await startRunbookReceiver();
    // Failed, and slow to say so: the kill lands while a probe is in flight.
    receiver.route(
      CRISIS_MANAGER,
      () =>
        new Promise((resolve) =>
          setTimeout(() => resolve({ status: 200, body: { ...HEALTHY_BODY, crisis_manager: 'failed' } }), 1_500),
        ),
    );
  });
  after(async () => {
    for (const w of workers) {
      w.kill('SIGKILL');
      await exited(w).catch(() => undefined);
    }
    for (const id of cleanup) {
      await sealingClient(env)
        .workflow.getHandle(id)
        .terminate('crash test over')
        .catch(() => undefined);
    }
    await receiver?.stop();
    await env?.teardown();
  });

  /** The real worker process (prebuilt bundle, every activity), on this test's task queue. */
  function spawnWorker(): ChildProcess {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'test', 'helpers', 'maintenance-worker.js')], {
      env: {
        ...process.env,
        ...receiverEnv(receiver),
        WEDSYNC_CRISIS_MANAGER_HEALTH_URL: receiver.url(CRISIS_MANAGER),
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
        // and its metrics and alert-receiver ports
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
        CODEC_SERVER_ADDRESS: '127.0.0.1:0',
      },
      stdio: 'ignore',
    });
    workers.push(child);
    return child;
  }

  it(
    'carries the streak over to the next worker and starts exactly one protocol run',
    { timeout: 180_000 },
    async () => {
      const first = spawnWorker();
      const handle = await sealingClient(env).workflow.start(crisisManagerWatch, {
        taskQueue,
        workflowId: uniqueId('crisis-manager-watch-crash'),
        args: [{ intervalSeconds: 5, failuresToStart: 3, recoveriesToRearm: 1 }],
      });
      cleanup.push(handle.workflowId);
      const one = await waitUntil(
        'the first probe counted',
        () => handle.query(watchStatusQuery),
        (s) => s.rounds === 1,
        60_000,
      );
      // The second probe has reached the endpoint and not yet been answered: the worker dies with it in flight.
      await waitUntil(
        'the second probe in flight',
        () => receiver.callsTo(CRISIS_MANAGER),
        (n) => n === 2,
        30_000,
      );
      first.kill('SIGKILL');
      await exited(first);
      spawnWorker();

      // The lost attempt is retried once its start-to-close timeout (30 s) has passed.
      const started = await waitUntil(
        'the protocol started by the second worker',
        () => handle.query(watchStatusQuery),
        (s) => s.crisesStarted === 1,
        120_000,
      );
      const expectedId = crisisWorkflowId({ failure: one.failingSince! });
      assert.equal(started.openCrisis?.workflowId, expectedId);
      cleanup.push(expectedId);
      assert.equal(started.rounds, 3, 'the killed round counted once, when its retry answered');
      assert.equal((await sealingClient(env).workflow.getHandle(expectedId).describe()).type, 'weddingDayCrisis');

      const events = (await handle.fetchHistory()).events ?? [];
      assert.equal(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 1);
      await replayOwnHistory(handle);
    },
  );
});
