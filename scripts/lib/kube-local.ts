/**
 * The local Kubernetes API server (etcd + kube-apiserver, no kubelet or controllers, as envtest runs it): its
 * keys, its static admin token, its flags and the kubeconfig the worker and the tests use.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config';
import { endpointsSetByOperator, KUBE_DIR, LOCAL_KUBECONFIG, LOCAL_PORTS, withLocalStack } from './local-stack';
import { ensureDir } from './paths';

export { KUBE_DIR, LOCAL_KUBECONFIG };
const CERT_DIR = join(KUBE_DIR, 'certs');
/** kube-apiserver writes its self-signed serving certificate (with its CA) here on first start. */
const SERVING_CERT = join(CERT_DIR, 'apiserver.crt');
const TOKENS_FILE = join(KUBE_DIR, 'tokens.csv');
const SA_KEY = join(KUBE_DIR, 'sa.key');
const SA_PUB = join(KUBE_DIR, 'sa.pub');

/**
 * The environment that points a worker or the tests at the local cluster: KUBECONFIG, unless the operator
 * configured a cluster of their own.
 */
export function localClusterEnv(): NodeJS.ProcessEnv {
  return endpointsSetByOperator().kubernetes ? {} : { KUBECONFIG: LOCAL_KUBECONFIG };
}

/** Service-account signing keys and a random admin token, made once and kept with the cluster's state. */
export function prepareKubeFiles(): void {
  ensureDir(CERT_DIR);
  if (!existsSync(SA_KEY) || !existsSync(SA_PUB)) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(SA_KEY, privateKey, { mode: 0o600 });
    writeFileSync(SA_PUB, publicKey);
  }
  if (!existsSync(TOKENS_FILE)) {
    // token,user,uid,"groups": system:masters is the local cluster's administrator, as kubeadm's admin.conf is.
    writeFileSync(TOKENS_FILE, `${randomBytes(24).toString('hex')},aiops-admin,aiops-admin,"system:masters"\n`, {
      mode: 0o600,
    });
  }
}

function adminToken(): string {
  return readFileSync(TOKENS_FILE, 'utf8').split(',')[0];
}

export function etcdArgs(dataDir: string): string[] {
  const client = `http://127.0.0.1:${LOCAL_PORTS.etcd}`;
  const peer = `http://127.0.0.1:${LOCAL_PORTS.etcdPeer}`;
  return [
    '--name',
    'aiops',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `aiops=${peer}`,
    '--log-level',
    'warn',
  ];
}

export function kubeApiserverArgs(): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${LOCAL_PORTS.etcd}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // Nothing runs in this cluster to reach the API through the `kubernetes` Service, whose endpoints may not be loopback.
    '--endpoint-reconciler-type=none',
    `--secure-port=${LOCAL_PORTS.kubeApiserver}`,
    `--cert-dir=${CERT_DIR}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${SA_PUB}`,
    `--service-account-signing-key-file=${SA_KEY}`,
    `--token-auth-file=${TOKENS_FILE}`,
    '--authorization-mode=RBAC',
    // No controller manager creates the default ServiceAccount, which this plug-in would demand of every pod.
    '--disable-admission-plugins=ServiceAccount',
    // The local API server has no kubelet with a CA; pod logs reach a node's endpoint without verifying it.
    '--kubelet-preferred-address-types=InternalIP',
  ];
}

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: LOCAL_PORTS.kubeApiserver,
        path,
        ca: readFileSync(SERVING_CERT),
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Ready when /readyz answers ok over TLS verified against the server's own certificate. */
export async function kubeApiserverReady(): Promise<boolean> {
  if (!existsSync(SERVING_CERT)) return false;
  try {
    const res = await get('/readyz');
    return res.status === 200 && res.body.trim() === 'ok';
  } catch {
    return false;
  }
}

/** The kubeconfig for the local cluster's administrator; written after the server made its certificate. */
export function writeLocalKubeconfig(): string {
  const server = `https://127.0.0.1:${LOCAL_PORTS.kubeApiserver}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'aiops-local',
        cluster: { server, 'certificate-authority-data': readFileSync(SERVING_CERT).toString('base64') },
      },
    ],
    users: [{ name: 'aiops-admin', user: { token: adminToken() } }],
    contexts: [
      {
        name: 'aiops-local',
        context: {
          cluster: 'aiops-local',
          user: 'aiops-admin',
          namespace: loadConfig(withLocalStack()).kubernetes.aiNamespace,
        },
      },
    ],
    'current-context': 'aiops-local',
  };
  writeFileSync(LOCAL_KUBECONFIG, stringify(config), { mode: 0o600 });
  return LOCAL_KUBECONFIG;
}

/**
 * The namespace the runbooks act in, with seed 002's objects in it (the two AI engines, the AI ingress, the
 * model ConfigMap) so that the runbooks have something to act on. Created once; never overwritten.
 */
export async function seedLocalCluster(): Promise<void> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(LOCAL_KUBECONFIG);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  // The objects the runbooks are configured to act on, so that they find them here.
  const config = loadConfig(withLocalStack());
  const { aiNamespace: namespace, targets } = config.kubernetes;
  const su = config.scrollUniversity;
  const engine = (name: string, replicas: number, ns = namespace, company = 'wedsync') => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: `${company}/${name}:1.0.0` }] },
      },
    },
  });
  const wanted = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ...targets.deployments.map((name) => engine(name, 3)),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: targets.ingress, namespace },
      spec: {
        rules: [
          {
            host: 'api.wedsync.com',
            http: {
              paths: [
                {
                  path: '/ai/',
                  pathType: 'Prefix',
                  backend: { service: { name: targets.primaryService, port: { number: targets.servicePort } } },
                },
              ],
            },
          },
        ],
      },
    },
    ...targets.configMaps.map((name) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace },
      data: { 'model.version': '1.0.0' },
    })),
    // seed 000's targets: its namespace, the AI gateway and the backend, and the gateway's model configuration.
    ...(su.namespace === namespace ? [] : [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: su.namespace } }]),
    ...su.deployments.map((name) => engine(name, 3, su.namespace, 'scrolluniversity')),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: su.modelConfigMap, namespace: su.namespace },
      data: { 'model.active': 'gpt-4o', 'model.fallback': 'claude-3-5-haiku' },
    },
  ];
  for (const obj of wanted) {
    try {
      await objects.create(obj);
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  }
}
