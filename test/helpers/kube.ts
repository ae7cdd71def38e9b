/**
 * A namespace of its own on the real local API server for each suite, and the controllers' part that a
 * cluster without controller-manager or kubelet lacks: tests write Deployment, ReplicaSet, Job and Pod
 * status through the status subresource, as envtest users do. Never used by src/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse, stringify } from 'yaml';
import type * as k8sTypes from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { KubernetesDeps } from '../../src/activities/kubernetes';
import type { KubernetesTargets } from '../../src/config';
import { testConfig } from './deps';

export type K8s = typeof k8sTypes;
export const k8sModule = (): Promise<K8s> => import('@kubernetes/client-node');

export function kubeconfigPath(): string {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is not set: run the tests with `npm test`, which starts the local API server');
  return path;
}

/** The local API server's serving certificate and key: what a proxy in front of it presents, so clients trust it. */
export function kubeApiTls(): { cert: Buffer; key: Buffer } {
  const certDir = join(dirname(kubeconfigPath()), 'certs');
  return { cert: readFileSync(join(certDir, 'apiserver.crt')), key: readFileSync(join(certDir, 'apiserver.key')) };
}

/** The API server's address, from the kubeconfig. */
export function kubeApiUrl(): URL {
  const config = parse(readFileSync(kubeconfigPath(), 'utf8')) as { clusters: { cluster: { server: string } }[] };
  return new URL(config.clusters[0].cluster.server);
}

/**
 * A copy of the kubeconfig whose cluster is reached through a proxy on 127.0.0.1:`port` (same credentials, same
 * CA: the proxy presents the server's certificate, or passes TLS through); its path, for a worker's KUBECONFIG.
 */
export function kubeconfigThrough(port: number): string {
  const config = parse(readFileSync(kubeconfigPath(), 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) {
    const server = new URL(c.cluster.server);
    server.hostname = '127.0.0.1';
    server.port = String(port);
    c.cluster.server = server.origin;
  }
  const path = join(mkdtempSync(join(tmpdir(), 'aiops-kubeconfig-')), 'config');
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

export interface TestCluster {
  k8s: K8s;
  kc: k8sTypes.KubeConfig;
  namespace: string;
  core: k8sTypes.CoreV1Api;
  apps: k8sTypes.AppsV1Api;
  batch: k8sTypes.BatchV1Api;
  networking: k8sTypes.NetworkingV1Api;
  rbac: k8sTypes.RbacAuthorizationV1Api;
  deps(targets?: Partial<KubernetesTargets>, kc?: k8sTypes.KubeConfig): KubernetesDeps;
  destroy(): Promise<void>;
}

export async function testCluster(prefix = 'aiops-test'): Promise<TestCluster> {
  const k8s = await k8sModule();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return {
    k8s,
    kc,
    namespace,
    core,
    apps: kc.makeApiClient(k8s.AppsV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
    deps: (targets = {}, asUser = kc) => ({
      kubeConfig: asUser,
      aiNamespace: namespace,
      pollIntervalMs: 50,
      // The configured targets (seed 002's names by default), with a suite's own where it sets them.
      targets: { ...testConfig().kubernetes.targets, ...targets },
    }),
    // Without a namespace controller the namespace stays Terminating; its objects are only ever read by its own suite.
    destroy: async () => void (await core.deleteNamespace({ name: namespace }).catch(() => undefined)),
  };
}

export function podTemplate(app: string, image: string): k8sTypes.V1PodTemplateSpec {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image }] } };
}

export async function createDeployment(c: TestCluster, name: string, replicas = 2, image = 'wedsync/ai:1.0.0') {
  return c.apps.createNamespacedDeployment({
    namespace: c.namespace,
    body: {
      metadata: { name },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name, image) },
    },
  });
}

/** The AI ingress as seed 002 has it, made afresh: `/ai/` on api.wedsync.com to `service`, port 80. */
export async function aiIngressTo(c: TestCluster, service: string): Promise<void> {
  await c.networking.deleteNamespacedIngress({ name: 'ai-ingress', namespace: c.namespace }).catch(() => undefined);
  await c.networking.createNamespacedIngress({
    namespace: c.namespace,
    body: {
      metadata: { name: 'ai-ingress' },
      spec: {
        rules: [
          {
            host: 'api.wedsync.com',
            http: {
              paths: [
                { path: '/ai/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    },
  });
}

/** The service the AI ingress sends `/ai/` to now. */
export async function aiIngressBackend(c: TestCluster): Promise<string> {
  const ingress = await c.networking.readNamespacedIngress({ name: 'ai-ingress', namespace: c.namespace });
  return ingress.spec!.rules![0].http!.paths[0].backend.service!.name;
}

/** The deployment controller's report of a finished rollout of the current generation. */
export async function recordRolloutComplete(c: TestCluster, name: string): Promise<void> {
  const d = await c.apps.readNamespacedDeployment({ name, namespace: c.namespace });
  const replicas = d.spec?.replicas ?? 1;
  d.status = {
    observedGeneration: d.metadata?.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        lastUpdateTime: new Date(),
        lastTransitionTime: new Date(),
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        lastUpdateTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
  await c.apps.replaceNamespacedDeploymentStatus({ name, namespace: c.namespace, body: d });
}

/** Half the new replicas up, the old ones still running. */
export async function recordRolloutHalfway(c: TestCluster, name: string): Promise<void> {
  const d = await c.apps.readNamespacedDeployment({ name, namespace: c.namespace });
  const replicas = d.spec?.replicas ?? 1;
  d.status = {
    observedGeneration: d.metadata?.generation,
    replicas: replicas + 1,
    updatedReplicas: 1,
    readyReplicas: replicas,
    availableReplicas: replicas,
  };
  await c.apps.replaceNamespacedDeploymentStatus({ name, namespace: c.namespace, body: d });
}

export async function recordProgressDeadlineExceeded(c: TestCluster, name: string): Promise<void> {
  const d = await c.apps.readNamespacedDeployment({ name, namespace: c.namespace });
  d.status = {
    observedGeneration: d.metadata?.generation,
    replicas: 2,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    conditions: [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${name}-abc" has timed out progressing.`,
        lastUpdateTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
  await c.apps.replaceNamespacedDeploymentStatus({ name, namespace: c.namespace, body: d });
}

/**
 * What the deployment controller does on each template change: a ReplicaSet owned by the Deployment with the
 * revision annotation, and the Deployment's own revision annotation moved to it.
 */
export async function recordRevision(
  c: TestCluster,
  deployment: string,
  revision: number,
  image: string,
  changeCause?: string,
) {
  const d = await c.apps.readNamespacedDeployment({ name: deployment, namespace: c.namespace });
  const hash = `h${revision}${randomBytes(2).toString('hex')}`;
  const template = podTemplate(deployment, image);
  template.metadata!.labels!['pod-template-hash'] = hash;
  await c.apps.createNamespacedReplicaSet({
    namespace: c.namespace,
    body: {
      metadata: {
        name: `${deployment}-${hash}`,
        labels: { app: deployment, 'pod-template-hash': hash },
        annotations: {
          'deployment.kubernetes.io/revision': String(revision),
          ...(changeCause && { 'kubernetes.io/change-cause': changeCause }),
        },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: d.metadata!.uid!, controller: true },
        ],
      },
      spec: { replicas: 0, selector: { matchLabels: { app: deployment, 'pod-template-hash': hash } }, template },
    },
  });
  await c.apps.patchNamespacedDeployment(
    {
      name: deployment,
      namespace: c.namespace,
      body: { metadata: { annotations: { 'deployment.kubernetes.io/revision': String(revision) } } },
    },
    c.k8s.setHeaderOptions('Content-Type', c.k8s.PatchStrategy.MergePatch),
  );
}

/**
 * What the deployment controller does when a Deployment's template goes back to an older revision's (a rollout
 * undo): no new ReplicaSet; that revision's ReplicaSet takes the next revision number, its old number kept in
 * the revision-history annotation, and the Deployment's revision annotation moves to it.
 */
export async function recordRevisionReturnedTo(c: TestCluster, deployment: string, revision: number): Promise<number> {
  const d = await c.apps.readNamespacedDeployment({ name: deployment, namespace: c.namespace });
  const sets = (await c.apps.listNamespacedReplicaSet({ namespace: c.namespace })).items.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid),
  );
  const revisionOf = (rs: (typeof sets)[number]) => Number(rs.metadata?.annotations?.[REVISION] ?? 0);
  const target = sets.find((rs) => revisionOf(rs) === revision);
  if (!target) throw new Error(`deployment ${deployment} has no ReplicaSet of revision ${revision}`);
  const next = Math.max(...sets.map(revisionOf)) + 1;
  const history = target.metadata?.annotations?.[REVISION_HISTORY];
  await c.apps.patchNamespacedReplicaSet(
    {
      name: target.metadata!.name!,
      namespace: c.namespace,
      body: {
        metadata: {
          annotations: {
            [REVISION]: String(next),
            [REVISION_HISTORY]: history ? `${history},${revision}` : String(revision),
          },
        },
      },
    },
    c.k8s.setHeaderOptions('Content-Type', c.k8s.PatchStrategy.MergePatch),
  );
  await c.apps.patchNamespacedDeployment(
    { name: deployment, namespace: c.namespace, body: { metadata: { annotations: { [REVISION]: String(next) } } } },
    c.k8s.setHeaderOptions('Content-Type', c.k8s.PatchStrategy.MergePatch),
  );
  return next;
}

const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';

/** The job controller's conditions for a finished Job (the API server insists on this order and these fields). */
export async function recordJobFinished(c: TestCluster, name: string, outcome: 'succeeded' | 'failed'): Promise<void> {
  const job = await c.batch.readNamespacedJob({ name, namespace: c.namespace });
  const now = new Date();
  const started = new Date(now.getTime() - 90_000);
  job.status =
    outcome === 'succeeded'
      ? {
          startTime: started,
          completionTime: now,
          succeeded: 1,
          conditions: [
            {
              type: 'SuccessCriteriaMet',
              status: 'True',
              reason: 'CompletionsReached',
              lastTransitionTime: now,
              lastProbeTime: now,
            },
            {
              type: 'Complete',
              status: 'True',
              reason: 'CompletionsReached',
              lastTransitionTime: now,
              lastProbeTime: now,
            },
          ],
        }
      : {
          startTime: started,
          failed: 1,
          conditions: [
            {
              type: 'FailureTarget',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastTransitionTime: now,
              lastProbeTime: now,
            },
            {
              type: 'Failed',
              status: 'True',
              reason: 'BackoffLimitExceeded',
              message: 'Job has reached the specified backoff limit',
              lastTransitionTime: now,
              lastProbeTime: now,
            },
          ],
        };
  await c.batch.replaceNamespacedJobStatus({ name, namespace: c.namespace, body: job });
}

/**
 * The one piece of a node the API server talks to for `kubectl logs`: the kubelet's containerLogs endpoint.
 * No kubelet can run here (it needs a container runtime), so this HTTPS server answers in its place, and a
 * Node object points the API server at it. What is under test is our request through the real API server.
 */
export interface NodeLogEndpoint {
  node: string;
  requests: { path: string; tailLines?: number }[];
  setLog(namespace: string, pod: string, container: string, lines: string[]): void;
  stop(): Promise<void>;
}

export async function startNodeLogEndpoint(c: TestCluster): Promise<NodeLogEndpoint> {
  const certDir = join(dirname(kubeconfigPath()), 'certs');
  const logs = new Map<string, string[]>();
  const requests: NodeLogEndpoint['requests'] = [];
  const server: Server = createServer(
    { cert: readFileSync(join(certDir, 'apiserver.crt')), key: readFileSync(join(certDir, 'apiserver.key')) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://node');
      const tail = url.searchParams.get('tailLines');
      requests.push({ path: url.pathname, tailLines: tail === null ? undefined : Number(tail) });
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      const lines = m ? logs.get(`${m[1]}/${m[2]}/${m[3]}`) : undefined;
      if (!lines) {
        res.writeHead(404).end('not found');
        return;
      }
      const shown = tail === null ? lines : lines.slice(-Number(tail));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(shown.map((l) => `${l}\n`).join(''));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const node = `${c.namespace}-node`;
  await c.core.createNode({ body: { metadata: { name: node } } });
  const created = await c.core.readNode({ name: node });
  created.status = {
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
  };
  await c.core.replaceNodeStatus({ name: node, body: created });
  return {
    node,
    requests,
    setLog: (namespace, pod, container, lines) => logs.set(`${namespace}/${pod}/${container}`, lines),
    stop: async () => {
      await c.core.deleteNode({ name: node }).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pod as the scheduler and kubelet would leave it: bound to the node, in the given phase. */
export async function createPod(
  c: TestCluster,
  name: string,
  options: { node: string; labels?: Record<string, string>; phase?: 'Running' | 'Failed' | 'Succeeded' },
): Promise<void> {
  await c.core.createNamespacedPod({
    namespace: c.namespace,
    body: {
      metadata: { name, labels: options.labels },
      spec: { nodeName: options.node, containers: [{ name: 'run', image: 'wedsync/ai:1.0.0' }] },
    },
  });
  const pod = await c.core.readNamespacedPod({ name, namespace: c.namespace });
  pod.status = { phase: options.phase ?? 'Running' };
  await c.core.replaceNamespacedPodStatus({ name, namespace: c.namespace, body: pod });
}

/**
 * The deployment controller's part for a whole namespace while a test runs: every Deployment whose spec
 * changed (generation ahead of observedGeneration) is reported rolled out shortly after.
 */
export function playDeploymentController(c: TestCluster): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const list = await c.apps.listNamespacedDeployment({ namespace: c.namespace }).catch(() => ({ items: [] }));
      for (const d of list.items) {
        if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
          await recordRolloutComplete(c, d.metadata!.name!).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/**
 * The Job controller's part for the retraining's Jobs: every Job in the namespace finishes (an evaluation after
 * writing `{ accuracy, f1 }` where its `--metrics` argument says), unless `hold` says to leave it running.
 */
export function playJobController(
  c: TestCluster,
  s3: S3Client,
  accuracy: number,
  hold: () => boolean = () => false,
): { stop(): Promise<void> } {
  let running = true;
  const done = new Set<string>();
  const loop = (async () => {
    while (running) {
      const jobs = await c.batch.listNamespacedJob({ namespace: c.namespace }).catch(() => ({ items: [] as never[] }));
      for (const job of jobs.items) {
        const name = job.metadata!.name!;
        // Earlier tests' Jobs are finished already: the API server refuses to finish a Job twice.
        const finished = job.status?.conditions?.some((x) => x.type === 'Complete' || x.type === 'Failed');
        if (finished || done.has(name) || hold()) continue;
        const args = job.spec!.template.spec!.containers[0].args ?? [];
        const metrics = args.includes('--metrics') ? args[args.indexOf('--metrics') + 1] : undefined;
        if (metrics) {
          const [, Bucket, Key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(metrics)!;
          await s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify({ accuracy, f1: 0.8 }) }));
        }
        await recordJobFinished(c, name, 'succeeded').catch(() => undefined);
        done.add(name);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
