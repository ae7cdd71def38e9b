import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { morningHealthCheck } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { GOOD_DAILY_METRICS, HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { devServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';

describe('morningHealthCheck on the dev server with real PostgreSQL, Redis and MinIO', () => {
  let env: TestWorkflowEnvironment;
  const receiver = new HttpReceiver();
  let deps: OwnedDeps;
  let errorsBody: unknown = { errors: [] };

  before(async () => {
    env = await devServerEnv();
    await receiver.start();
    receiver
      .route('/a/ai/health', { status: 200, body: HEALTHY_BODY })
      .route('/b/ai/health', { status: 200, body: HEALTHY_BODY })
      .route('/down/ai/health', { status: 503 })
      .route('/ai/metrics/daily', { status: 200, body: GOOD_DAILY_METRICS })
      .route('/ai/errors/recent', () => ({ status: 200, body: errorsBody }));
  });
  after(async () => {
    await receiver.stop();
    await env?.teardown();
  });

  async function run(healthPaths: string[], input: unknown = {}) {
    deps = await testDeps({
      WEDSYNC_HEALTH_URLS: healthPaths.map((p) => receiver.url(p)).join(','),
      WEDSYNC_METRICS_URL: receiver.url('/ai/metrics/daily'),
      WEDSYNC_ERRORS_URL: receiver.url('/ai/errors/recent'),
    });
    const taskQueue = uniqueId('health');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    try {
      return await worker.runUntil(
        env.client.workflow.execute(morningHealthCheck, {
          taskQueue,
          workflowId: uniqueId('morning-health-check'),
          args: [input as never],
        }),
      );
    } finally {
      await deps.close();
    }
  }

  it('reports healthy when every endpoint and dependency answers well', async () => {
    const report = await run(['/a/ai/health', '/b/ai/health']);
    assert.deepEqual(report.findings, []);
    assert.equal(report.status, 'healthy');
    assert.equal(report.checks.health.length, 2);
    assert.deepEqual(
      report.checks.dependencies.map((d) => d.state === 'ok' && d.result.name),
      ['database', 'cache', 'objectStore'],
    );
    // The pods of the AI namespace on the local API server, read through the worker's kubeconfig.
    assert.equal(report.checks.pods.state, 'ok');
    assert.ok(report.checks.pods.state === 'ok' && report.checks.pods.result.configured);
  });

  it('reports degraded, and completes, when one of two endpoints is down', async () => {
    const before = receiver.callsTo('/down/ai/health');
    const report = await run(['/a/ai/health', '/down/ai/health']);
    assert.equal(report.status, 'degraded');
    assert.match(report.findings.join('\n'), /down\/ai\/health failed: GET .* answered 503/);
    // Retried under the probe policy (3 attempts), then reported.
    assert.equal(receiver.callsTo('/down/ai/health') - before, 3);
  });

  it('reports down when no health endpoint answers', async () => {
    const report = await run(['/down/ai/health']);
    assert.equal(report.status, 'down');
  });

  it('flags recent errors with a count above 10', async () => {
    errorsBody = {
      errors: [
        { message: 'vendor API timeout', count: 25 },
        { message: 'cache miss storm', count: 4 },
      ],
    };
    try {
      const report = await run(['/a/ai/health']);
      assert.deepEqual(report.flaggedErrors, [{ message: 'vendor API timeout', count: 25 }]);
      assert.equal(report.status, 'degraded');
    } finally {
      errorsBody = { errors: [] };
    }
  });

  it('fails at once with a non-retryable error naming the bad input field', async () => {
    await assert.rejects(run(['/a/ai/health'], { namespace: 'Not A Namespace' }), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'InvalidInput');
      assert.match(err.cause.message, /^namespace: /);
      return true;
    });
    await assert.rejects(run(['/a/ai/health'], { namespce: 'typo' }), (err: WorkflowFailedError) => {
      assert.match(err.cause?.message ?? '', /^namespce: is not a field of morningHealthCheck input/);
      return true;
    });
  });
});
