import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { createKubernetesActivities } from '../../src/activities/kubernetes';
import { runIn } from '../helpers/activity-env';
import { failure } from '../helpers/failures';
import {
  aiIngressTo,
  createDeployment,
  createPod,
  recordJobFinished,
  recordRevision,
  recordRolloutComplete,
  startNodeLogEndpoint,
  testCluster,
  type NodeLogEndpoint,
  type TestCluster,
} from '../helpers/kube';

import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createEvidenceActivities } from '../../src/activities/evidence';
import { createS3Client } from '../../src/workers/s3-client';
import { testConfig } from '../helpers/deps';

const K8S_DIR = join(__dirname, '..', '..', '..', 'k8s');

const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];

/**
 * Every object in k8s/*.yaml, moved into the given namespace: the AI namespace becomes `namespace`, the drill's
 * scratch namespace `<namespace>-dr-drill`, and cluster-wide names take the namespace as a suffix, so that no two
 * runs share one.
 */
function manifests(namespace: string): KubernetesObject[] {
  return readdirSync(K8S_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(
        readFileSync(join(K8S_DIR, f), 'utf8')
          .replaceAll('ai-services-dr-drill', scratchOf(namespace))
          .replaceAll('aiops-runbooks-dr-drill-namespace', `aiops-runbooks-dr-drill-namespace-${namespace}`),
      ).map((d) => d.toJS() as KubernetesObject),
    )
    .map((obj) => {
      for (const subject of (obj as { subjects?: { namespace?: string }[] }).subjects ?? [])
        subject.namespace = namespace;
      if (!CLUSTER_SCOPED.includes(obj.kind!) && obj.metadata?.namespace !== scratchOf(namespace))
        obj.metadata = { ...obj.metadata, namespace };
      return obj;
    });
}

const scratchOf = (namespace: string) => `${namespace}-dr-drill`;

/** Creates the objects, cluster-wide and namespace-less ones first; `dryRun` only checks the rest. */
async function createAll(c: TestCluster, objects: KubernetesObject[], dryRun?: 'All'): Promise<void> {
  const api = c.k8s.KubernetesObjectApi.makeApiClient(c.kc);
  const clusterWide = objects.filter((o) => CLUSTER_SCOPED.includes(o.kind!));
  for (const obj of clusterWide) await api.create(obj);
  for (const obj of objects.filter((o) => !clusterWide.includes(o))) await api.create(obj, undefined, dryRun);
}

/** Deletes what createAll made cluster-wide: the namespaces' own objects go with them. */
async function deleteClusterWide(c: TestCluster): Promise<void> {
  const api = c.k8s.KubernetesObjectApi.makeApiClient(c.kc);
  for (const obj of manifests(c.namespace).filter((o) => CLUSTER_SCOPED.includes(o.kind!)))
    await api.delete(obj).catch(() => undefined);
}

/** A kubeconfig for the worker's ServiceAccount: the same server, a token the API server issued for it. */
async function serviceAccountKubeConfig(c: TestCluster, serviceAccount: string): Promise<KubeConfig> {
  const request = await c.core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: c.namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = c.kc.getCurrentCluster()!;
  const kc = new c.k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: serviceAccount, token: request.status!.token }],
    contexts: [{ name: 'worker', cluster: cluster.name, user: serviceAccount, namespace: c.namespace }],
    currentContext: 'worker',
  });
  return kc;
}

describe('k8s/ manifests', () => {
  let c: TestCluster;
  before(async () => (c = await testCluster('aiops-manifests')));
  after(async () => {
    if (c) await deleteClusterWide(c);
    await c?.destroy();
  });

  it('are accepted by the API server (server-side dry run; the namespace and cluster roles made for real)', async () => {
    const all = manifests(c.namespace);
    assert.deepEqual(all.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'HorizontalPodAutoscaler',
      'HorizontalPodAutoscaler',
      'Namespace',
      'Role',
      'Role',
      'RoleBinding',
      'RoleBinding',
      'ServiceAccount',
    ]);
    await createAll(c, all, 'All');
  });
});

describe('the worker Role in k8s/worker-rbac.yaml', () => {
  let c: TestCluster;
  let node: NodeLogEndpoint;
  let worker: ReturnType<typeof createKubernetesActivities>;
  let workerKc: KubeConfig;

  before(async () => {
    c = await testCluster('aiops-rbac');
    await createAll(
      c,
      manifests(c.namespace).filter((o) =>
        ['ServiceAccount', 'Role', 'RoleBinding', ...CLUSTER_SCOPED].includes(o.kind!),
      ),
    );
    workerKc = await serviceAccountKubeConfig(c, 'aiops-runbooks-worker');
    worker = createKubernetesActivities(c.deps({}, workerKc));
    node = await startNodeLogEndpoint(c);
    await createDeployment(c, 'ai-optimization-engine', 2, 'wedsync/ai:2.0.0');
    await recordRevision(c, 'ai-optimization-engine', 1, 'wedsync/ai:1.0.0');
    await recordRevision(c, 'ai-optimization-engine', 2, 'wedsync/ai:2.0.0');
    await createPod(c, 'ai-optimization-engine-1', { node: node.node, labels: { app: 'ai-optimization-engine' } });
    node.setLog(c.namespace, 'ai-optimization-engine-1', 'run', ['ready']);
    await aiIngressTo(c, 'ai-optimization-engine');
  });
  after(async () => {
    await node?.stop();
    if (c) await deleteClusterWide(c);
    await c?.destroy();
  });

  it('is enough for every Kubernetes activity, run with a token bound to it', async () => {
    const d = 'ai-optimization-engine';
    await worker.rolloutRestart({ deployment: d });
    await recordRolloutComplete(c, d);
    await runIn(new MockActivityEnvironment(), worker.waitForRollout, { deployment: d, timeoutSeconds: 10 });
    assert.equal((await worker.rolloutHistory({ deployment: d })).length, 2);
    assert.equal((await worker.rolloutUndo({ deployment: d })).toRevision, 1);
    assert.equal((await worker.scaleDeployment({ deployment: d, replicas: 4 })).previousReplicas, 2);
    assert.equal((await worker.listPods({ labelSelector: `app=${d}` })).configured, true);
    assert.deepEqual((await worker.podLogs({ pod: 'ai-optimization-engine-1', tailLines: 5 })).lines, ['ready']);
    const config = testConfig();
    const s3 = createS3Client(config.s3);
    const bucket = `aiops-rbac-evidence-${c.namespace.slice(-8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
    const evidence = await createEvidenceActivities({
      ...c.deps({}, workerKc),
      s3,
      buckets: config.s3.buckets,
      scrollUniversity: { ...config.scrollUniversity, evidenceBucket: bucket },
    }).preserveEvidence({ caseId: 'rbac-check', deployment: d });
    s3.destroy();
    assert.deepEqual(evidence.pods, ['ai-optimization-engine-1']);
    assert.deepEqual(evidence.logErrors, []);
    assert.equal((await worker.podUsage()).available, false);
    assert.equal((await worker.patchIngressBackend({ service: 'ai-backup-services' })).changed, true);
    assert.equal((await worker.applyConfigMap({ name: 'ai-model-config', data: { version: '1' } })).created, true);
    assert.equal((await worker.applyConfigMap({ name: 'ai-model-config', data: { version: '2' } })).created, false);
    assert.deepEqual((await worker.getConfigMap({ name: 'ai-model-config' })).data, { version: '2' });
    // The DR drill in its scratch namespace (k8s/dr-drill-rbac.yaml): found by its label, given copies, restarted,
    // configured, emptied.
    const scratch = scratchOf(c.namespace);
    const drill = createKubernetesActivities(c.deps({ deployments: [d], configMaps: ['ai-model-config'] }, workerKc));
    assert.equal((await drill.ensureScratchNamespace({ namespace: scratch })).created, false);
    assert.deepEqual(await drill.copyIntoScratch({ namespace: scratch }), {
      deployments: [d],
      configMaps: ['ai-model-config'],
    });
    await drill.rolloutRestart({ deployment: d, namespace: scratch });
    await recordRolloutComplete({ ...c, namespace: scratch }, d);
    await runIn(new MockActivityEnvironment(), drill.waitForRollout, {
      deployment: d,
      timeoutSeconds: 10,
      namespace: scratch,
    });
    assert.deepEqual((await drill.getConfigMap({ name: 'ai-model-config', namespace: scratch })).data, {
      version: '2',
    });
    await drill.applyConfigMap({ name: 'ai-model-config', data: { version: '3' }, namespace: scratch });
    assert.deepEqual((await drill.cleanScratchNamespace({ namespace: scratch })).deleted, [
      `deployment/${d}`,
      'configmap/ai-model-config',
    ]);
    await worker.runJob({ name: 'retrain-rbac', image: 'wedsync/trainer:1' });
    await recordJobFinished(c, 'retrain-rbac', 'succeeded');
    await runIn(new MockActivityEnvironment(), worker.waitForJob, { name: 'retrain-rbac', timeoutSeconds: 10 });
    assert.equal((await worker.deleteJob({ name: 'retrain-rbac' })).deleted, true);
    // The retraining's candidate beside a deployment, twice (the second replaces), its canary weight, and removal.
    const candidate = { deployment: d, version: '2026-12-rbac', artifactsUri: 's3://wedsync-ai-models/retraining/x/' };
    assert.equal((await worker.deployCandidate(candidate)).created, true);
    assert.equal((await worker.deployCandidate(candidate)).replaced, true);
    await worker.setCanaryWeight({ deployment: d, weight: 0 });
    assert.equal((await worker.setCanaryWeight({ deployment: d, weight: 10 })).weight, 10);
    assert.deepEqual((await worker.removeCandidate({ deployment: d })).removed, [
      'ingress/ai-ingress-candidate',
      `service/${d}-candidate`,
      `deployment/${d}-candidate`,
    ]);
  });

  it('grants nothing more: the same token may not read Secrets or delete a Deployment', async () => {
    const core = workerKc.makeApiClient(c.k8s.CoreV1Api);
    const apps = workerKc.makeApiClient(c.k8s.AppsV1Api);
    await assert.rejects(
      core.listNamespacedSecret({ namespace: c.namespace }),
      (err: { code?: number }) => err.code === 403,
    );
    await assert.rejects(
      apps.deleteNamespacedDeployment({ name: 'ai-optimization-engine', namespace: c.namespace }),
      (err: { code?: number }) => err.code === 403,
    );
    // The drill's rights reach its one scratch namespace: no other namespace is read or made.
    await assert.rejects(core.readNamespace({ name: 'default' }), (err: { code?: number }) => err.code === 403);
    await assert.rejects(
      core.createNamespace({ body: { metadata: { name: `${c.namespace}-other` } } }),
      (err: { code?: number }) => err.code === 403,
    );
  });

  it('turns a refusal by RBAC into a NotAuthorized failure that is not retried', async () => {
    const outsider = createKubernetesActivities({ ...c.deps({}, workerKc), aiNamespace: 'default' });
    const err = await failure(outsider.rolloutRestart({ deployment: 'ai-optimization-engine' }));
    assert.equal(err.type, 'NotAuthorized');
    assert.equal(err.nonRetryable, true);
  });
});
