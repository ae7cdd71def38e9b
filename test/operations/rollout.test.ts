import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { restartDeployment, rollbackDeployment } from '../../src/workflows';
import {
  createDeployment,
  playDeploymentController,
  recordRevision,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { runbookSuite } from '../helpers/runbook-suite';
import { pagerDutyEvents } from '../helpers/runbook-receiver';
import { testDeps } from '../helpers/deps';
import { rejectsWithCause, uniqueId, withTimeSkippingWorker } from '../helpers/temporal';

describe('restartDeployment and rollbackDeployment against the API server', () => {
  let cluster: TestCluster;
  const suite = runbookSuite('aiops_test_rollout', async () => {
    cluster = await testCluster('aiops-rollout');
    // ai-gateway is this file's own, for a restart that never rolls out.
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      K8S_DEPLOYMENTS: 'ai-optimization-engine,ai-recommendation-engine,ai-gateway',
    };
  });
  after(async () => cluster?.destroy());

  const run = <A extends unknown[], T>(workflow: (...args: A) => Promise<T>, args: A) =>
    suite.env.client.workflow.execute(workflow, { taskQueue: suite.taskQueue, workflowId: uniqueId('rollout'), args });

  suite.test('restarts a deployment and returns once its new pods are available', async () => {
    const name = 'ai-optimization-engine';
    await createDeployment(cluster, name, 3);
    const controller = playDeploymentController(cluster);
    try {
      const result = await run(restartDeployment, [{ deployment: name, timeoutSeconds: 60 }]);
      assert.equal(result.deployment, name);
      assert.deepEqual([result.rollout.availableReplicas, result.rollout.replicas], [3, 3]);
      const d = await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
      assert.equal(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], result.restartedAt);
    } finally {
      await controller.stop();
    }
  });

  suite.test('rolls back to the revision before the current one and waits for the rollout', async () => {
    const name = 'ai-recommendation-engine';
    await createDeployment(cluster, name, 2);
    await recordRevision(cluster, name, 1, 'wedsync/recommend:1.0.0', 'model 1.0');
    await recordRevision(cluster, name, 2, 'wedsync/recommend:2.0.0', 'model 2.0');
    const controller = playDeploymentController(cluster);
    try {
      const result = await run(rollbackDeployment, [{ deployment: name, timeoutSeconds: 60 }]);
      assert.deepEqual([result.fromRevision, result.toRevision], [2, 1]);
      const d = await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
      assert.equal(d.spec?.template.spec?.containers[0].image, 'wedsync/recommend:1.0.0');
    } finally {
      await controller.stop();
    }
  });

  suite.test('pages the platform on-call when a restart it was asked for does not roll out in time', async () => {
    const name = 'ai-gateway';
    await createDeployment(cluster, name, 2);
    const before = suite.receiver.requests.length;
    // No deployment controller: the new pods never come, and the wait's deadline passes.
    const workflowId = uniqueId('rollout-stuck');
    await assert.rejects(
      suite.env.client.workflow.execute(restartDeployment, {
        taskQueue: suite.taskQueue,
        workflowId,
        args: [{ deployment: name, timeoutSeconds: 10 }],
      }),
      WorkflowFailedError,
    );
    const triggers = pagerDutyEvents(suite.receiver, before).filter((e) => e.event_action === 'trigger');
    assert.equal(triggers.length, 1, JSON.stringify(triggers));
    assert.match(triggers[0].payload!.summary, new RegExp(`\\[rollout-restart\\] failed: .*${workflowId}`));
    // A refused input is the caller's own: nobody is paged for it.
    const afterPage = suite.receiver.requests.length;
    await rejectsWithCause(run(restartDeployment, [{ deployment: 'Not_A_Name' }]), /^deployment: /);
    assert.equal(pagerDutyEvents(suite.receiver, afterPage).length, 0);
  });

  suite.test('refuses bad input before touching the cluster, naming the field', async () => {
    await rejectsWithCause(
      run(restartDeployment, [{ deployment: 'Not_A_Name' }]),
      /^deployment: must be a Kubernetes name/,
    );
    await rejectsWithCause(
      run(rollbackDeployment, [{ deployment: 'ai-recommendation-engine', toRevision: 0 }]),
      /^toRevision: must be a whole number from 1/,
    );
    await rejectsWithCause(
      run(restartDeployment, [{ deployment: 'ai-optimization-engine', replicas: 2 } as never]),
      /^replicas: is not a field of restartDeployment input$/,
    );
  });
});

describe('rollbackDeployment when the reply of an undo is lost', () => {
  let cluster: TestCluster;
  let deps: OwnedDeps;
  before(async () => {
    cluster = await testCluster('aiops-rollback-retry');
    deps = await testDeps({ K8S_AI_NAMESPACE: cluster.namespace });
  });
  after(async () => {
    await deps?.close();
    await cluster?.destroy();
  });

  it(
    'returns to the revision fixed at the start, not to the bad release, on the retry',
    { timeout: 120_000 },
    async () => {
      const name = 'ai-recommendation-engine';
      await createDeployment(cluster, name, 2);
      await recordRevision(cluster, name, 1, 'wedsync/recommend:1.0.0', 'model 1.0');
      await recordRevision(cluster, name, 2, 'wedsync/recommend:2.0.0', 'model 2.0');
      await recordRevision(cluster, name, 3, 'wedsync/recommend:3.0.0', 'model 3.0, the bad release');
      const real = createActivities(deps);
      let attempts = 0;
      const activities = {
        ...real,
        // The undo happens, the deployment controller records it as revision 4, and the reply never arrives.
        async rolloutUndo(input: Parameters<typeof real.rolloutUndo>[0]) {
          const result = await real.rolloutUndo(input);
          if (++attempts === 1) {
            await recordRevision(cluster, name, 4, 'wedsync/recommend:2.0.0', 'rolled back');
            throw ApplicationFailure.create({ type: 'UpstreamUnavailable', message: 'connection reset (reply lost)' });
          }
          return result;
        },
      };
      const controller = playDeploymentController(cluster);
      try {
        await withTimeSkippingWorker(activities, async ({ env, taskQueue }) => {
          const result = await env.client.workflow.execute(rollbackDeployment, {
            taskQueue,
            workflowId: uniqueId('rollback-retry'),
            args: [{ deployment: name, timeoutSeconds: 60 }],
          });
          assert.equal(attempts, 2);
          assert.equal(result.toRevision, 2);
          assert.equal(result.changed, false, 'the retry found the undo done');
        });
        const d = await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
        assert.equal(d.spec?.template.spec?.containers[0].image, 'wedsync/recommend:2.0.0');
      } finally {
        await controller.stop();
      }
    },
  );
});
