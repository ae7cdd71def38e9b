import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createKubernetesActivities } from '../../src/activities/kubernetes';
import { runIn } from '../helpers/activity-env';
import { failure } from '../helpers/failures';
import { startFaultProxy } from '../helpers/fault-proxy';
import {
  aiIngressTo,
  createDeployment,
  createPod,
  kubeApiUrl,
  kubeconfigThrough,
  recordJobFinished,
  recordProgressDeadlineExceeded,
  recordRevision,
  recordRevisionReturnedTo,
  recordRolloutComplete,
  recordRolloutHalfway,
  startNodeLogEndpoint,
  testCluster,
  type NodeLogEndpoint,
  type TestCluster,
} from '../helpers/kube';

type Activities = ReturnType<typeof createKubernetesActivities>;

describe('Kubernetes activities against a real API server', () => {
  let c: TestCluster;
  let act: Activities;
  let node: NodeLogEndpoint;

  before(async () => {
    c = await testCluster();
    act = createKubernetesActivities(c.deps());
    node = await startNodeLogEndpoint(c);
  });
  after(async () => {
    await node?.stop();
    await c?.destroy();
  });

  describe('rolloutRestart', () => {
    it('sets the pod-template annotation kubectl sets, once per restart', async () => {
      const before = await createDeployment(c, 'ai-optimization-engine');
      const restartedAt = '2026-11-23T09:00:00.000Z';
      const first = await act.rolloutRestart({ deployment: 'ai-optimization-engine', restartedAt });
      const d = await c.apps.readNamespacedDeployment({ name: 'ai-optimization-engine', namespace: c.namespace });
      assert.equal(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], restartedAt);
      assert.equal(first.generation, (before.metadata?.generation ?? 0) + 1);
      // A retry with the same stamp changes nothing, so no second rollout starts.
      const retry = await act.rolloutRestart({ deployment: 'ai-optimization-engine', restartedAt });
      assert.equal(retry.generation, first.generation);
    });

    it('fails without retries on a configured deployment that does not exist', async () => {
      const err = await failure(act.rolloutRestart({ deployment: 'ai-recommendation-engine' }));
      assert.equal(err.type, 'TargetNotFound');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /ai-recommendation-engine/);
    });

    it('refuses a deployment that is not a configured target, naming the field', async () => {
      const err = await failure(act.rolloutRestart({ deployment: 'payments' }));
      assert.equal(err.type, 'InvalidInput');
      assert.match(err.message, /^deployment: "payments" is not a configured target \(K8S_DEPLOYMENTS/);
    });
  });

  describe('waitForRollout', () => {
    it('heartbeats while the rollout is under way and returns once it is complete', async () => {
      const name = 'ai-optimization-engine';
      await act.rolloutRestart({ deployment: name, restartedAt: '2026-11-23T10:00:00.000Z' });
      await recordRolloutHalfway(c, name);
      const env = new MockActivityEnvironment();
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => {
        beats.push(d);
        if (beats.length === 3) void recordRolloutComplete(c, name);
      });
      const progress = await runIn(env, act.waitForRollout, { deployment: name, timeoutSeconds: 30 });
      assert.ok(beats.length >= 3, `heartbeats: ${beats.length}`);
      assert.equal((beats[0] as { updatedReplicas: number }).updatedReplicas, 1);
      assert.equal(progress.updatedReplicas, 2);
      assert.equal(progress.availableReplicas, 2);
    });

    it('fails without retries when the deployment reports ProgressDeadlineExceeded', async () => {
      const name = 'ai-optimization-engine';
      await recordProgressDeadlineExceeded(c, name);
      const err = await failure(
        runIn(new MockActivityEnvironment(), act.waitForRollout, { deployment: name, timeoutSeconds: 30 }),
      );
      assert.equal(err.type, 'RolloutFailed');
      assert.equal(err.nonRetryable, true);
      assert.match(
        err.message,
        /exceeded its progress deadline: ReplicaSet "ai-optimization-engine-abc" has timed out progressing/,
      );
    });

    it('fails when the rollout is not finished in the time given', async () => {
      const name = 'ai-optimization-engine';
      await recordRolloutHalfway(c, name);
      const err = await failure(
        runIn(new MockActivityEnvironment(), act.waitForRollout, { deployment: name, timeoutSeconds: 1 }),
      );
      assert.equal(err.type, 'RolloutFailed');
      assert.match(err.message, /did not finish rolling out within 1s: 1 of 2 new replicas have been updated/);
    });

    it('waits out an API server it cannot reach, within its timeout, saying so in the heartbeat', async () => {
      const name = 'ai-optimization-engine';
      await recordRolloutHalfway(c, name);
      const proxy = await startFaultProxy(Number(kubeApiUrl().port));
      try {
        proxy.cut();
        const cutOff = new c.k8s.KubeConfig();
        cutOff.loadFromFile(kubeconfigThrough(proxy.port));
        const through = createKubernetesActivities(c.deps({}, cutOff));
        const env = new MockActivityEnvironment();
        const beats: { unreachable?: string }[] = [];
        env.on('heartbeat', (d: { unreachable?: string }) => {
          beats.push(d);
          if (beats.length === 3) {
            proxy.restore();
            void recordRolloutComplete(c, name);
          }
        });
        const progress = await runIn(env, through.waitForRollout, { deployment: name, timeoutSeconds: 30 });
        assert.match(beats[0].unreachable ?? '', /^read deployment/);
        assert.equal(progress.updatedReplicas, progress.replicas);
      } finally {
        await proxy.close();
      }
    });

    it('names the field when the timeout is not a whole number of seconds', async () => {
      const err = await failure(act.waitForRollout({ deployment: 'ai-optimization-engine', timeoutSeconds: 0.5 }));
      assert.match(err.message, /^timeoutSeconds: /);
    });
  });

  describe('rolloutHistory and rolloutUndo', () => {
    const name = 'ai-recommendation-engine';
    before(async () => {
      await createDeployment(c, name, 2, 'wedsync/recommend:2.0.0');
      await recordRevision(c, name, 1, 'wedsync/recommend:1.0.0', 'initial model');
      await recordRevision(c, name, 2, 'wedsync/recommend:2.0.0', 'model 2.0');
    });

    it('lists the revisions with their images and marks the current one', async () => {
      const history = await act.rolloutHistory({ deployment: name });
      assert.deepEqual(
        history.map((r) => [r.revision, r.images[0], r.changeCause, r.current]),
        [
          [1, 'wedsync/recommend:1.0.0', 'initial model', false],
          [2, 'wedsync/recommend:2.0.0', 'model 2.0', true],
        ],
      );
    });

    it("restores the previous revision's pod template, and a repeat changes nothing", async () => {
      const undo = await act.rolloutUndo({ deployment: name });
      assert.deepEqual([undo.fromRevision, undo.toRevision, undo.changed], [2, 1, true]);
      const d = await c.apps.readNamespacedDeployment({ name, namespace: c.namespace });
      assert.equal(d.spec?.template.spec?.containers[0].image, 'wedsync/recommend:1.0.0');
      assert.equal(d.spec?.template.metadata?.labels?.['pod-template-hash'], undefined);
      const again = await act.rolloutUndo({ deployment: name, toRevision: 1 });
      assert.equal(again.changed, false);
    });

    it('fails without retries for a revision that does not exist', async () => {
      const err = await failure(act.rolloutUndo({ deployment: name, toRevision: 7 }));
      assert.equal(err.type, 'TargetNotFound');
      assert.match(err.message, /has no revision 7 \(revisions: 2, 1\)/);
    });

    it('finds the revision it undid to after the controller renumbered it: the retry of a lost reply changes nothing', async () => {
      // The undo to revision 1 above went through; the deployment controller makes revision 1's ReplicaSet the
      // current revision, 3, with revision-history "1", as it does on an undo.
      const renumbered = await recordRevisionReturnedTo(c, name, 1);
      const retry = await act.rolloutUndo({ deployment: name, toRevision: 1 });
      assert.deepEqual([renumbered, retry.fromRevision, retry.toRevision, retry.changed], [3, 3, 1, false]);
    });
  });

  describe('scaleDeployment', () => {
    it('scales through the scale subresource and returns the count before', async () => {
      const result = await act.scaleDeployment({ deployment: 'ai-optimization-engine', replicas: 10 });
      assert.deepEqual([result.previousReplicas, result.replicas], [2, 10]);
      const d = await c.apps.readNamespacedDeployment({ name: 'ai-optimization-engine', namespace: c.namespace });
      assert.equal(d.spec?.replicas, 10);
    });

    it('reports the original count on a retry after the write went through', async () => {
      const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { previousReplicas: 10 } });
      const retry = await runIn(env, act.scaleDeployment, { deployment: 'ai-optimization-engine', replicas: 3 });
      assert.equal(retry.previousReplicas, 10);
      const env2 = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { previousReplicas: 10 } });
      const again = await runIn(env2, act.scaleDeployment, { deployment: 'ai-optimization-engine', replicas: 3 });
      assert.equal(again.previousReplicas, 10);
    });

    it('with raiseOnly, leaves a deployment already running at least that many as it is', async () => {
      const name = 'ai-optimization-engine';
      await act.scaleDeployment({ deployment: name, replicas: 12 });
      const kept = await act.scaleDeployment({ deployment: name, replicas: 10, raiseOnly: true });
      assert.deepEqual([kept.previousReplicas, kept.replicas], [12, 12]);
      const read = async () => (await c.apps.readNamespacedDeployment({ name, namespace: c.namespace })).spec?.replicas;
      assert.equal(await read(), 12);
      const raised = await act.scaleDeployment({ deployment: name, replicas: 14, raiseOnly: true });
      assert.deepEqual([raised.previousReplicas, raised.replicas], [12, 14]);
      assert.equal(await read(), 14);
      await act.scaleDeployment({ deployment: name, replicas: 3 });
    });

    it('refuses a negative replica count, naming the field', async () => {
      const err = await failure(act.scaleDeployment({ deployment: 'ai-optimization-engine', replicas: -1 }));
      assert.match(err.message, /^replicas: must be a whole number from 0 to 1000/);
    });
  });

  describe('pods', () => {
    before(async () => {
      await createPod(c, 'ai-optimization-engine-7d9f-a1', {
        node: node.node,
        labels: { app: 'ai-optimization-engine' },
      });
      await createPod(c, 'other-pod', { node: node.node, labels: { app: 'other' } });
    });

    it('lists the pods matching a selector', async () => {
      const listing = await act.listPods({ labelSelector: 'app=ai-optimization-engine' });
      assert.ok(listing.configured);
      assert.deepEqual(
        listing.pods.map((p) => [p.name, p.phase, p.node]),
        [['ai-optimization-engine-7d9f-a1', 'Running', node.node]],
      );
    });

    it("reads the last lines of a pod's log through the API server", async () => {
      node.setLog(c.namespace, 'ai-optimization-engine-7d9f-a1', 'run', [
        'boot',
        'loading model',
        'ready',
        'request 1',
        'request 2',
      ]);
      const logs = await act.podLogs({ pod: 'ai-optimization-engine-7d9f-a1', tailLines: 2 });
      assert.deepEqual(logs.lines, ['request 1', 'request 2']);
      assert.deepEqual(node.requests.at(-1), {
        path: `/containerLogs/${c.namespace}/ai-optimization-engine-7d9f-a1/run`,
        tailLines: 2,
      });
    });

    it('fails without retries for a pod that does not exist', async () => {
      const err = await failure(act.podLogs({ pod: 'ai-optimization-engine-gone', tailLines: 10 }));
      assert.equal(err.type, 'TargetNotFound');
    });

    it('says the metrics API is unavailable where no metrics server runs', async () => {
      const usage = await act.podUsage();
      assert.equal(usage.available, false);
      assert.match(usage.available ? '' : usage.reason, /^metrics API unavailable/);
    });

    it('refuses a label selector that is not one', async () => {
      const err = await failure(act.listPods({ labelSelector: 'app in (a; b)' }));
      assert.match(err.message, /^labelSelector: /);
    });
  });

  describe('patchIngressBackend', () => {
    before(async () => {
      await aiIngressTo(c, 'ai-optimization-engine');
    });

    it('switches to the backup service and returns the backend it had', async () => {
      const result = await act.patchIngressBackend({ service: 'ai-backup-services' });
      assert.deepEqual(result.previous, { service: 'ai-optimization-engine', port: 80 });
      assert.equal(result.changed, true);
      const ing = await c.networking.readNamespacedIngress({ name: 'ai-ingress', namespace: c.namespace });
      const backend = ing.spec?.rules?.[0].http?.paths[0].backend.service;
      assert.deepEqual([backend?.name, backend?.port?.number], ['ai-backup-services', 80]);
    });

    it('on a retry writes nothing and still reports the backend from before the switch', async () => {
      const retry = await act.patchIngressBackend({ service: 'ai-backup-services' });
      assert.deepEqual([retry.changed, retry.previous], [false, { service: 'ai-optimization-engine', port: 80 }]);
    });

    it('fails back to the primary service', async () => {
      const back = await act.patchIngressBackend({ service: 'ai-optimization-engine', port: 80 });
      assert.deepEqual(back.previous, { service: 'ai-backup-services', port: 80 });
      const ing = await c.networking.readNamespacedIngress({ name: 'ai-ingress', namespace: c.namespace });
      assert.equal(ing.spec?.rules?.[0].http?.paths[0].backend.service?.name, 'ai-optimization-engine');
    });

    it('refuses a service that is neither the primary nor the backup, naming the field', async () => {
      const err = await failure(act.patchIngressBackend({ service: 'payments' }));
      assert.match(err.message, /^service: "payments" is not a configured target/);
    });
  });

  describe('applyConfigMap and getConfigMap', () => {
    it('creates, then updates, the model config; reads it back', async () => {
      const created = await act.applyConfigMap({
        name: 'ai-model-config',
        data: { 'model.version': '2.3.0', threshold: '0.8' },
      });
      assert.equal(created.created, true);
      const updated = await act.applyConfigMap({ name: 'ai-model-config', data: { 'model.version': '2.4.0' } });
      assert.equal(updated.created, false);
      const read = await act.getConfigMap({ name: 'ai-model-config' });
      // Server-side apply owns the keys it last applied: the dropped key is removed, as `kubectl apply` does.
      assert.deepEqual(read.data, { 'model.version': '2.4.0' });
      assert.equal(read.resourceVersion, updated.resourceVersion);
    });

    it('fails without retries for a configured ConfigMap that does not exist', async () => {
      const other = createKubernetesActivities(c.deps({ configMaps: ['ai-model-config-backup'] }));
      const err = await failure(other.getConfigMap({ name: 'ai-model-config-backup' }));
      assert.equal(err.type, 'TargetNotFound');
    });

    it('refuses a data key the API would refuse, naming it', async () => {
      const err = await failure(act.applyConfigMap({ name: 'ai-model-config', data: { 'bad key': 'x' } }));
      assert.match(err.message, /^data\.bad key: /);
    });
  });

  describe('runJob and waitForJob', () => {
    const spec = {
      name: 'retrain-2026-11',
      image: 'wedsync/trainer:3.1.0',
      args: ['--month', '2026-11'],
      env: { EPOCHS: '10' },
    };

    it('creates the Job once: a repeat finds it, a different spec under the same name is refused', async () => {
      const first = await act.runJob(spec);
      assert.equal(first.created, true);
      const retry = await act.runJob(spec);
      assert.deepEqual([retry.created, retry.uid], [false, first.uid]);
      const err = await failure(act.runJob({ ...spec, env: { EPOCHS: '20' } }));
      assert.match(err.message, /^spec\.name: job .* already exists with a different spec/);
    });

    it('heartbeats until the Job completes', async () => {
      const env = new MockActivityEnvironment();
      let beats = 0;
      env.on('heartbeat', () => {
        if (++beats === 2) void recordJobFinished(c, spec.name, 'succeeded');
      });
      const done = await runIn(env, act.waitForJob, { name: spec.name, timeoutSeconds: 30 });
      assert.equal(done.succeeded, 1);
      assert.equal(done.durationSeconds, 90);
    });

    it("fails without retries when the Job fails, with the failed pod's log in the error", async () => {
      await act.runJob({ name: 'evaluate-2026-11', image: 'wedsync/trainer:3.1.0' });
      await createPod(c, 'evaluate-2026-11-x7k2p', {
        node: node.node,
        labels: { 'job-name': 'evaluate-2026-11' },
        phase: 'Failed',
      });
      node.setLog(c.namespace, 'evaluate-2026-11-x7k2p', 'run', ['epoch 1', 'CUDA out of memory']);
      await recordJobFinished(c, 'evaluate-2026-11', 'failed');
      const err = await failure(
        runIn(new MockActivityEnvironment(), act.waitForJob, { name: 'evaluate-2026-11', timeoutSeconds: 30 }),
      );
      assert.equal(err.type, 'JobFailed');
      assert.equal(err.nonRetryable, true);
      assert.match(
        err.message,
        /failed \(BackoffLimitExceeded: .*\); last log lines of evaluate-2026-11-x7k2p:\nepoch 1\nCUDA out of memory/,
      );
    });

    it('fails when the Job does not finish in the time given', async () => {
      await act.runJob({ name: 'stuck-2026-11', image: 'wedsync/trainer:3.1.0' });
      const err = await failure(
        runIn(new MockActivityEnvironment(), act.waitForJob, { name: 'stuck-2026-11', timeoutSeconds: 1 }),
      );
      assert.equal(err.type, 'JobFailed');
      assert.match(
        err.message,
        /did not finish within 1s; last log lines of its pod:\n\(no pod of this job was found\)/,
      );
    });

    it('refuses a spec without an image, naming the field', async () => {
      const err = await failure(act.runJob({ name: 'retrain-x' } as never));
      assert.match(err.message, /^spec\.image: /);
    });

    it('fails without retries waiting for a Job that does not exist', async () => {
      const err = await failure(act.waitForJob({ name: 'never-created', timeoutSeconds: 5 }));
      assert.equal(err.type, 'TargetNotFound');
    });
  });
});
