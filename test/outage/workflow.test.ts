/**
 * completeOutageResponse on the time-skipping server against the Kubernetes API server (the test plays the
 * deployment controller): pods, rollout history, the rollback of the recent release to the revision fixed from the
 * history, monitoring, and the pages and status updates.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { completeOutageResponse } from '../../src/workflows';
import { HEALTHY_BODY } from '../helpers/http-receiver';
import {
  createDeployment,
  playDeploymentController,
  recordRevision,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { CRISIS_PATHS, pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, uniqueId } from '../helpers/temporal';

describe('completeOutageResponse', () => {
  let cluster: TestCluster;
  let healthy = true;
  const suite = runbookSuite('aiops_test_outage', async (receiver) => {
    cluster = await testCluster('aiops-outage');
    receiver.route(CRISIS_PATHS.health, () =>
      healthy ? { status: 200, body: HEALTHY_BODY } : { status: 503, body: { status: 'down' } },
    );
    return { K8S_AI_NAMESPACE: cluster.namespace };
  });
  after(async () => cluster?.destroy());

  /** The optimisation engine's release 2 went out just now; the recommendation engine has only ever had one. */
  async function badRelease() {
    for (const name of ['ai-optimization-engine', 'ai-recommendation-engine'])
      await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
    await createDeployment(cluster, 'ai-optimization-engine', 2, 'wedsync/optimize:2.0.0');
    await recordRevision(cluster, 'ai-optimization-engine', 1, 'wedsync/optimize:1.0.0', 'release 1');
    await recordRevision(cluster, 'ai-optimization-engine', 2, 'wedsync/optimize:2.0.0', 'release 2');
    await createDeployment(cluster, 'ai-recommendation-engine', 2, 'wedsync/recommend:1.0.0');
    await recordRevision(cluster, 'ai-recommendation-engine', 1, 'wedsync/recommend:1.0.0', 'release 1');
  }

  const run = (input: Parameters<typeof completeOutageResponse>[0]) =>
    suite.env.client.workflow.execute(completeOutageResponse, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('outage'),
      args: [input],
    });
  const monitor = { intervalSeconds: 10, healthyChecksRequired: 2, timeoutSeconds: 60 };

  suite.test(
    'pages, reads pods and history, rolls the recent release back to the revision before it and monitors',
    async () => {
      await badRelease();
      healthy = true;
      const controller = playDeploymentController(cluster);
      let result;
      try {
        result = await run({
          namespaces: [cluster.namespace],
          reportedBy: 'oncall',
          monitor,
          rolloutTimeoutSeconds: 60,
        });
      } finally {
        await controller.stop();
      }
      assert.deepEqual(result.pods, [{ namespace: cluster.namespace, pods: 0, notReady: [] }]);
      assert.deepEqual(
        result.history.map((h) => [h.deployment, h.current, h.previous, h.recent]),
        [
          ['ai-optimization-engine', 2, 1, true],
          ['ai-recommendation-engine', 1, undefined, false],
        ],
      );
      assert.equal(result.restore.length, 1);
      assert.deepEqual(result.restore[0].rolledBack, { from: 2, to: 1 });
      assert.equal(result.restore[0].monitoring?.resolved, true);
      assert.equal(result.restored, true);
      const d = await cluster.apps.readNamespacedDeployment({
        name: 'ai-optimization-engine',
        namespace: cluster.namespace,
      });
      assert.equal(d.spec?.template.spec?.containers[0].image, 'wedsync/optimize:1.0.0');
      const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
      assert.ok(pages.some((p) => /P0 complete service outage: all AI services down/.test(p.payload?.summary ?? '')));
      const texts = slackTexts(suite.receiver);
      assert.ok(texts.some((t) => /status: investigating/.test(t)));
      assert.ok(texts.some((t) => /status: restored after rolling back ai-optimization-engine 2→1/.test(t)));
    },
  );

  suite.test('stops the restore and pages when the service is not healthy after the rollback', async () => {
    await badRelease();
    healthy = false;
    const controller = playDeploymentController(cluster);
    let result;
    try {
      result = await run({ namespaces: [cluster.namespace], monitor, rolloutTimeoutSeconds: 60 });
    } finally {
      await controller.stop();
      healthy = true;
    }
    assert.equal(result.restored, false);
    assert.equal(result.restore[0].problem, 'not healthy after the rollback');
    assert.equal(result.restore[0].monitoring?.resolved, false);
    const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
    assert.ok(
      pages.some((p) =>
        /NOT restored: ai-optimization-engine not healthy after the rollback/.test(p.payload?.summary ?? ''),
      ),
    );
  });

  suite.test('with rollback off it looks and monitors, changing nothing', async () => {
    await badRelease();
    healthy = true;
    const result = await run({ namespaces: [cluster.namespace], monitor, rollback: false });
    assert.equal(result.restored, true);
    assert.deepEqual(
      result.restore.map((s) => s.rolledBack),
      [undefined],
    );
    const d = await cluster.apps.readNamespacedDeployment({
      name: 'ai-optimization-engine',
      namespace: cluster.namespace,
    });
    assert.equal(d.spec?.template.spec?.containers[0].image, 'wedsync/optimize:2.0.0');
  });

  suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(run({ namespaces: ['Not_A_Namespace'] }), /^namespaces\.0: must be a Kubernetes name/);
  });
});
