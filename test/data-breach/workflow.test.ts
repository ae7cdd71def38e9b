/**
 * dataBreachResponse against the Kubernetes API server and MinIO: the evidence (pod logs and descriptions, with
 * SHA-256 checksums) is in the bucket before anything is scaled away; isolation only after approval; a refused
 * isolation and an unconfirmed one; the people's tasks tracked to completion with validated reports.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe } from 'node:test';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import type { EvidenceManifest } from '../../src/contracts/breach';
import { dataBreachResponse } from '../../src/workflows';
import {
  breachTaskSignal,
  dataBreachStatusQuery,
  reportBreachTaskUpdate,
} from '../../src/workflows/data-breach/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  createDeployment,
  createPod,
  playDeploymentController,
  recordRolloutComplete,
  startNodeLogEndpoint,
  testCluster,
  type NodeLogEndpoint,
  type TestCluster,
} from '../helpers/kube';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';

const DEPLOYMENT = 'scrolluniversity-backend';
const BUCKET = `aiops-test-evidence-${randomBytes(4).toString('hex')}`;
const PODS = [`${DEPLOYMENT}-7c9d-a1`, `${DEPLOYMENT}-7c9d-b2`];

describe('data breach response (seed 000 Emergency Procedures)', () => {
  let cluster: TestCluster;
  let node: NodeLogEndpoint;
  const suite = runbookSuite('aiops_test_data_breach', async () => {
    cluster = await testCluster('aiops-breach');
    node = await startNodeLogEndpoint(cluster);
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      K8S_DEPLOYMENTS: DEPLOYMENT,
      K8S_PRIMARY_SERVICE: DEPLOYMENT,
      S3_BUCKET_EVIDENCE: BUCKET,
    };
  });
  after(async () => {
    await node?.stop();
    await cluster?.destroy();
  });

  /** The backend as it runs: two replicas rolled out, two pods with logs, the ingress pointing at it. */
  async function freshBackend() {
    await suite.deps.s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined);
    const ns = cluster.namespace;
    await cluster.apps.deleteNamespacedDeployment({ name: DEPLOYMENT, namespace: ns }).catch(() => undefined);
    await cluster.networking.deleteNamespacedIngress({ name: 'ai-ingress', namespace: ns }).catch(() => undefined);
    for (const pod of PODS) {
      await cluster.core
        .deleteNamespacedPod({ name: pod, namespace: ns, gracePeriodSeconds: 0 })
        .catch(() => undefined);
    }
    await queryUntilGone(ns);
    await createDeployment(cluster, DEPLOYMENT, 2);
    await recordRolloutComplete(cluster, DEPLOYMENT);
    for (const [i, pod] of PODS.entries()) {
      await createPod(cluster, pod, { node: node.node, labels: { app: DEPLOYMENT } });
      node.setLog(ns, pod, 'run', [`pod ${i} boot`, `GET /api/students/export 200 user=attacker-${i}`]);
    }
    await cluster.networking.createNamespacedIngress({
      namespace: ns,
      body: {
        metadata: { name: 'ai-ingress' },
        spec: {
          rules: [
            {
              host: 'api.scrolluniversity.com',
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: { service: { name: DEPLOYMENT, port: { number: 80 } } } },
                ],
              },
            },
          ],
        },
      },
    });
  }
  async function queryUntilGone(ns: string) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const pods = await cluster.core.listNamespacedPod({ namespace: ns });
      if (pods.items.every((p) => !PODS.includes(p.metadata!.name!))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('old pods never went');
  }
  const replicas = async () =>
    (await cluster.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace: cluster.namespace })).spec!.replicas;
  const backendNow = async () =>
    (await cluster.networking.readNamespacedIngress({ name: 'ai-ingress', namespace: cluster.namespace })).spec!
      .rules![0].http!.paths[0].backend.service!.name;
  const object = async (key: string) =>
    Buffer.from(
      await (await suite.deps.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray(),
    );

  const start = (input: Record<string, unknown> = {}) =>
    suite.env.client.workflow.start(dataBreachResponse, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('breach'),
      args: [
        { deployment: DEPLOYMENT, reportedBy: 'security', summary: 'student records exported', ...input } as never,
      ],
    });
  const decide = (handle: WorkflowHandle, decision: 'approve' | 'reject', by = 'security') =>
    handle.executeUpdate(decideUpdate, { args: [{ gate: 'isolate', decision, by, reason: `${decision} in test` }] });
  const finishTasks = async (handle: WorkflowHandle) => {
    await handle.executeUpdate(reportBreachTaskUpdate, {
      args: [{ task: 'rotate-credentials', by: 'security', note: 'database and API keys rotated' }],
    });
    await handle.signal(breachTaskSignal, { task: 'notify-users', by: 'ai-lead', note: '412 students emailed' });
  };

  suite.test(
    'keeps the evidence with matching checksums before isolating, isolates once approved, tracks the tasks',
    async () => {
      await freshBackend();
      const controller = playDeploymentController(cluster);
      try {
        const handle = await start();
        const waiting = await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'awaiting-isolation', 60_000);
        // At the gate: the evidence is in the bucket and matches its checksums, and nothing has been scaled yet.
        assert.equal(await replicas(), 2);
        const evidence = waiting.evidence!;
        assert.deepEqual([...evidence.pods].sort(), PODS);
        const manifest = JSON.parse((await object(evidence.manifestKey!)).toString()) as EvidenceManifest;
        assert.equal(
          createHash('sha256')
            .update(await object(evidence.manifestKey!))
            .digest('hex'),
          evidence.manifestSha256,
        );
        assert.equal(manifest.files.length, 4, 'a description and a log per pod');
        for (const file of manifest.files) {
          const bytes = await object(file.key);
          assert.equal(createHash('sha256').update(bytes).digest('hex'), file.sha256, file.key);
          assert.equal(bytes.length, file.bytes);
        }
        assert.match((await object(`${evidence.caseId}/${PODS[1]}/run.log`)).toString(), /user=attacker-1/);
        assert.match((await object(`${evidence.caseId}/${PODS[0]}/describe.json`)).toString(), /"nodeName"/);
        assert.ok(
          pagerDutyEvents(suite.receiver).some((e) => /data-breach P0/.test(e.payload?.summary ?? '')),
          'security paged at P0',
        );

        await decide(handle, 'approve');
        const tracking = await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'tracking-tasks', 60_000);
        assert.equal(tracking.isolation?.confirmed, true);
        assert.equal(tracking.isolation?.previousReplicas, 2);
        assert.equal(await replicas(), 0);
        assert.equal(await backendNow(), 'ai-backup-services');

        await rejectsWithCause(
          handle.executeUpdate(reportBreachTaskUpdate, {
            args: [{ task: 'patch-everything', by: 'security', note: 'x' } as never],
          }),
          /task: must be one of rotate-credentials, notify-users/,
        );
        await rejectsWithCause(
          handle.executeUpdate(reportBreachTaskUpdate, {
            args: [{ task: 'rotate-credentials', by: 'stranger', note: 'done' }],
          }),
          /not on the roster/,
        );
        await handle.signal(breachTaskSignal, { task: 42 } as never);
        assert.deepEqual(
          (await handle.query(dataBreachStatusQuery)).tasks.map((t) => t.done),
          [false, false],
          'bad reports changed nothing',
        );
        await finishTasks(handle);
        const result = await handle.result();
        assert.deepEqual(
          result.tasks.map((t) => [t.task, t.done, t.by]),
          [
            ['rotate-credentials', true, 'security'],
            ['notify-users', true, 'ai-lead'],
          ],
        );
        assert.ok(slackTexts(suite.receiver).some((t) => /every remediation task reported done/.test(t)));
      } finally {
        await controller.stop();
      }
    },
  );

  suite.test('a refused isolation changes nothing but keeps the evidence and the tasks', async () => {
    await freshBackend();
    const handle = await start();
    await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'awaiting-isolation', 60_000);
    await decide(handle, 'reject', 'ai-lead');
    const status = await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'tracking-tasks', 30_000);
    assert.match(status.isolationRefused ?? '', /ai-lead: reject in test/);
    assert.equal(await replicas(), 2);
    assert.equal(await backendNow(), DEPLOYMENT);
    await finishTasks(handle);
    const result = await handle.result();
    assert.equal(result.isolation, undefined);
    assert.ok(result.evidence.files.length > 0);
  });

  suite.test('pages again when the pods are not confirmed gone after scaling to zero', async () => {
    await freshBackend();
    const handle = await start({ isolateTimeoutSeconds: 10 });
    await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'awaiting-isolation', 60_000);
    const pagesBefore = pagerDutyEvents(suite.receiver).length;
    await decide(handle, 'approve');
    const status = await queryUntil(handle, dataBreachStatusQuery, (s) => s.step === 'tracking-tasks', 90_000);
    assert.equal(status.isolation?.confirmed, false);
    assert.ok(
      pagerDutyEvents(suite.receiver, 0)
        .slice(pagesBefore)
        .some((e) => /NOT confirmed gone/.test(e.payload?.summary ?? '')),
    );
    await finishTasks(handle);
    await handle.result();
  });

  suite.test('refuses bad input naming the field, before paging anyone', async () => {
    const pagesBefore = pagerDutyEvents(suite.receiver).length;
    await rejectsWithCause((await start({ deployment: 'Not_A_Name' })).result(), /^deployment:/);
    await rejectsWithCause((await start({ summary: '' })).result(), /^summary:/);
    assert.equal(pagerDutyEvents(suite.receiver).length, pagesBefore);
  });
});
