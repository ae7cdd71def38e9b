/**
 * `runbook doctor`: can this configuration reach everything the worker and the runbooks use? One check per
 * configured target, each with its own deadline, run side by side; what a check prints names the target but never
 * a credential (webhook URLs are credentials, so only their origin is shown).
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { Client as PgClient } from 'pg';
import { probeHealthAt } from '../activities/http';
import { loadKubeConfig } from '../activities/kubernetes';
import type { AppConfig } from '../config';
import { createS3Client } from '../workers/s3-client';
import { connectClient } from './connect';

export interface CheckResult {
  target: string;
  ok: boolean;
  /** What was found: a version, a status, or what went wrong. */
  detail: string;
  ms: number;
}

interface Check {
  target: string;
  run: (signal: AbortSignal) => Promise<string>;
}

/** The origin of a URL, without the path or user info that may carry a token. */
const originOf = (url: string) => new URL(url).origin;

async function withDeadline(check: Check, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const detail = await Promise.race([check.run(controller.signal), timedOut]);
    return { target: check.target, ok: true, detail, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const message = (err as Error).message || String(err);
    return { target: check.target, ok: false, detail: message, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** Any HTTP answer below 500 means the endpoint is there; a GET is sent, which no receiver acts on. */
async function httpReachable(url: string, signal: AbortSignal, path = ''): Promise<string> {
  const res = await fetch(new URL(path, url), { method: 'GET', signal, redirect: 'manual' });
  await res.body?.cancel();
  if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  return `HTTP ${res.status}`;
}

function checksFor(config: AppConfig, timeoutMs: number): Check[] {
  const checks: Check[] = [
    {
      target: `Temporal ${config.temporal.address}`,
      run: async () => {
        const { client, close } = await connectClient(config, { connectTimeoutMs: timeoutMs });
        try {
          const info = await client.workflowService.getSystemInfo({});
          await client.workflowService.describeNamespace({ namespace: config.temporal.namespace });
          return `server ${info.serverVersion || 'up'}, namespace ${config.temporal.namespace}`;
        } finally {
          await close();
        }
      },
    },
    {
      target: `PostgreSQL ${new URL(config.postgres.url).host}`,
      run: async () => {
        const pg = new PgClient({ connectionString: config.postgres.url, connectionTimeoutMillis: timeoutMs });
        pg.on('error', () => undefined);
        try {
          await pg.connect();
          const { rows } = await pg.query<{ v: string }>("SELECT current_setting('server_version') AS v");
          return `server ${rows[0].v}`;
        } finally {
          await pg.end().catch(() => undefined);
        }
      },
    },
    {
      target: `Redis ${new URL(config.redis.url).host}`,
      run: async () => {
        const redis = new Redis(config.redis.url, {
          lazyConnect: true,
          connectTimeout: timeoutMs,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        redis.on('error', () => undefined);
        try {
          await redis.connect();
          return `PING ${await redis.ping()}`;
        } finally {
          redis.disconnect();
        }
      },
    },
    {
      target: `S3 ${originOf(config.s3.endpoint)}`,
      run: async (signal) => {
        const s3 = createS3Client(config.s3);
        try {
          const buckets = [config.s3.buckets.backups, config.s3.buckets.models];
          for (const Bucket of buckets) await s3.send(new HeadBucketCommand({ Bucket }), { abortSignal: signal });
          return `buckets ${buckets.join(', ')}`;
        } catch (err) {
          const name = (err as Error).name;
          throw new Error(name === 'NotFound' ? 'a bucket is missing' : (err as Error).message || name);
        } finally {
          s3.destroy();
        }
      },
    },
  ];
  if (config.kubernetes.kubeconfig || config.kubernetes.inCluster) {
    checks.push({
      target: 'Kubernetes API server',
      run: async () => {
        const kc = await loadKubeConfig(config.kubernetes);
        const k8s = await import('@kubernetes/client-node');
        const version = await kc!.makeApiClient(k8s.VersionApi).getCode();
        await kc!.makeApiClient(k8s.CoreV1Api).readNamespace({ name: config.kubernetes.aiNamespace });
        return `${version.gitVersion}, namespace ${config.kubernetes.aiNamespace}`;
      },
    });
  }
  for (const url of config.wedsync.healthUrls) {
    checks.push({
      target: `WedSync health ${originOf(url)}`,
      run: async () => {
        const probe = await probeHealthAt(url, {
          wedsync: { ...config.wedsync, timeoutMs },
          maintenance: config.maintenance,
        });
        if (probe.httpStatus >= 500) throw new Error(`HTTP ${probe.httpStatus}, reports ${probe.status}`);
        return `HTTP ${probe.httpStatus}, reports ${probe.status}`;
      },
    });
  }
  // One check per endpoint host: the webhooks of one receiver share its reachability.
  const webhookOrigins = new Map<string, string[]>();
  const urls: Record<string, string | undefined> = {
    ...Object.fromEntries(Object.entries(config.wedsync.crisis).filter(([, v]) => typeof v === 'string')),
    slack: config.notifications.slackWebhookUrl,
    pagerduty: config.notifications.pagerdutyEventsUrl,
  };
  for (const url of Object.values(urls)) {
    if (!url) continue;
    const origin = originOf(url);
    webhookOrigins.set(origin, [...(webhookOrigins.get(origin) ?? []), url]);
  }
  for (const [origin, list] of webhookOrigins) {
    checks.push({
      target: `webhooks ${origin}`,
      run: async (signal) => `${await httpReachable(origin, signal)}, ${list.length} endpoint(s)`,
    });
  }
  if (config.monitoring.prometheusUrl) {
    const url = config.monitoring.prometheusUrl;
    checks.push({ target: `Prometheus ${originOf(url)}`, run: (signal) => readyAt(url, signal) });
  }
  if (config.monitoring.alertmanagerUrl) {
    const url = config.monitoring.alertmanagerUrl;
    checks.push({ target: `Alertmanager ${originOf(url)}`, run: (signal) => readyAt(url, signal) });
  }
  return checks;
}

/** Prometheus and Alertmanager both answer 200 on /-/ready once they serve. */
async function readyAt(url: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(new URL('/-/ready', url), { signal });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`/-/ready answered HTTP ${res.status}`);
  return 'ready';
}

export async function runDoctor(config: AppConfig, timeoutMs: number): Promise<CheckResult[]> {
  return Promise.all(checksFor(config, timeoutMs).map((check) => withDeadline(check, timeoutMs)));
}
