import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { monitorUntilHealthy } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { timeSkippingEnv, uniqueId, workflowBundle } from '../helpers/temporal';

const HOUR = 3600;

describe('monitorUntilHealthy on the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  const receiver = new HttpReceiver();
  let deps: OwnedDeps;
  let healthyFromCall = 0;

  before(async () => {
    env = await timeSkippingEnv();
    await receiver.start();
    // Unhealthy for the first calls, healthy afterwards: a service recovering after a fix.
    receiver.route('/ai/health', () =>
      receiver.callsTo('/ai/health') > healthyFromCall
        ? { status: 200, body: HEALTHY_BODY }
        : { status: 503, body: { status: 'down' } },
    );
    deps = await testDeps({ WEDSYNC_HEALTH_URLS: receiver.url('/ai/health') });
  });
  after(async () => {
    await deps?.close();
    await receiver.stop();
    await env?.teardown();
  });

  async function run(input: Parameters<typeof monitorUntilHealthy>[0]) {
    const taskQueue = uniqueId('monitor');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    return worker.runUntil(
      env.client.workflow.execute(monitorUntilHealthy, { taskQueue, workflowId: uniqueId('monitor'), args: [input] }),
    );
  }

  it('waits hourly until three healthy checks in a row, crossing hours of timers', async () => {
    healthyFromCall = receiver.callsTo('/ai/health') + 2; // two unhealthy rounds, then healthy
    const wallStart = Date.now();
    const state = await run({ intervalSeconds: HOUR, healthyChecksRequired: 3, timeoutSeconds: 24 * HOUR });
    const wallMs = Date.now() - wallStart;

    assert.equal(state.resolved, true);
    assert.deepEqual(
      state.rounds.map((r) => r.healthy),
      [false, false, true, true, true],
    );
    const first = Date.parse(state.rounds[0].at);
    const last = Date.parse(state.rounds.at(-1)!.at);
    assert.ok(Math.abs(last - first - 4 * HOUR * 1000) < 60_000, `rounds span ${last - first} ms`);
    process.stdout.write(
      `# ${((last - first) / 3_600_000).toFixed(1)} h of workflow time in ${wallMs} ms of wall time\n`,
    );
  });

  it('gives up unresolved at the deadline when the service stays down', async () => {
    healthyFromCall = Number.MAX_SAFE_INTEGER;
    const state = await run({ intervalSeconds: HOUR, healthyChecksRequired: 2, timeoutSeconds: 6 * HOUR });
    assert.equal(state.resolved, false);
    assert.equal(state.finished, true);
    assert.equal(state.rounds.length, 7); // at 0 h, 1 h, ... 6 h
    assert.ok(state.rounds.every((r) => !r.healthy && r.unhealthy.length === 1));
  });

  it('rejects an interval of zero, naming the field', async () => {
    await assert.rejects(run({ intervalSeconds: 0 }), (err: Error & { cause?: Error }) => {
      assert.match(err.cause?.message ?? '', /^intervalSeconds: must be a whole number/);
      return true;
    });
  });
});
