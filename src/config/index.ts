/**
 * The one configuration module. Every endpoint, credential and target name is read here, from the
 * environment and, optionally, a JSON file named by AIOPS_CONFIG_FILE whose keys are the same variable
 * names. The environment wins over the file. A bad or missing value stops the process with a message naming the
 * variable, so an operator never has to guess which setting is wrong. Endpoints and credentials have no defaults:
 * the local stack's values live with the stack scripts (scripts/lib/local-stack.ts), which hand them to what runs
 * against it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { BusinessHours } from '../contracts/business-hours';
import { publicKeyHex } from './keys';

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const url = (protocols: string[]) =>
  nonEmpty.refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const hostPort = nonEmpty.regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'must be host:port');
const listenAddress = hostPort.refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535');

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const positiveInt = z.coerce.number().int('must be a whole number').positive('must be greater than 0');

const urlList = nonEmpty.transform((value, ctx) => {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!url(['http:', 'https:']).safeParse(item).success) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${item}" is not an http(s) URL` });
    }
  }
  return items;
});

const k8sName = nonEmpty.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS label (a-z, 0-9, -)');
const k8sNameList = nonEmpty.transform((value, ctx) => {
  const names = value.split(',').map((n) => n.trim());
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n));
  if (bad !== undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${bad}" is not a lowercase DNS label (a-z, 0-9, -)` });
    return z.NEVER;
  }
  return [...new Set(names)];
});
const port = z.coerce.number().int('must be a whole number').min(1).max(65535, 'must be a port number (1-65535)');
const bucketName = nonEmpty.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name');

const httpUrl = url(['http:', 'https:']);

/** "id:base64,id:base64": each key 32 bytes (AES-256), each id used once. */
const payloadKeys = nonEmpty.transform((value, ctx) => {
  const keys: PayloadKey[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    const at = item.indexOf(':');
    const id = item.slice(0, at);
    if (at < 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be id:base64-key pairs separated by commas' });
      return z.NEVER;
    }
    const encoded = item.slice(at + 1);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `key "${id}" must be 32 bytes in base64` });
      return z.NEVER;
    }
    if (keys.some((k) => k.id === id)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `key id "${id}" appears twice` });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  return keys;
});

/** "https://ui.example.com,http://127.0.0.1:8233": origins (scheme, host, port), no paths. */
const originList = nonEmpty.transform((value, ctx) => {
  const origins = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${origin}" is not an origin such as https://ui.example.com`,
      });
      return z.NEVER;
    }
  }
  return origins;
});

/** One person on the roster: who they are, which roles they hold, how to reach them. */
const personSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'id must be lowercase letters, digits, . _ -'),
    name: z.string().min(1),
    roles: z.array(z.string().regex(/^[a-z0-9-]+$/, 'roles are lowercase words joined by -')).min(1),
    /** Slack handle or channel to mention, e.g. @oncall or #ai-ops-alerts. */
    slack: z.string().optional(),
    /** Paged through PagerDuty when notified at page urgency. */
    pagerduty: z.boolean().default(false),
    /**
     * Ed25519 public key (PEM, or the raw key in hex) that the person's decisions are signed with; kept as hex.
     * Without one the person is told and paged but cannot decide at any gate.
     */
    publicKey: z
      .string()
      .optional()
      .transform((value, ctx) => {
        if (value === undefined) return undefined;
        try {
          return publicKeyHex(value);
        } catch {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: 'publicKey must be an Ed25519 public key (PEM or hex)',
          });
          return z.NEVER;
        }
      }),
  })
  .strict();

const rosterSchema = nonEmpty.transform((value, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON array of people' });
    return z.NEVER;
  }
  const result = z.array(personSchema).min(1, 'must name at least one person').safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `[${issue.path.join('.')}] ${issue.message}` });
    return z.NEVER;
  }
  const ids = new Set<string>();
  for (const p of result.data) {
    if (ids.has(p.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `person id "${p.id}" appears twice` });
    ids.add(p.id);
  }
  return result.data;
});

const businessHours = nonEmpty.transform((value, ctx) => {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be HH:MM-HH:MM, e.g. 09:00-17:00' });
    return z.NEVER;
  }
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  if (end <= start) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'the end must be after the start' });
  return { startMinute: start, endMinute: end };
});

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const businessDays = nonEmpty.transform((value, ctx) => {
  const days = value
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  const out: number[] = [];
  for (const d of days) {
    const i = DAY_NAMES.indexOf(d.slice(0, 3));
    if (i < 0 || d.length < 3) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${d}" is not a day name (mon, tue, ...)` });
      return z.NEVER;
    }
    out.push(i);
  }
  return [...new Set(out)].sort();
});

const timeZone = nonEmpty.refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/London' },
);

/**
 * Variable name → schema, and a default where one value suits every deployment. Keys are the environment variable
 * names operators set. Where each system is and how to log in to it (endpoints, credentials, the roster) has no
 * default: a worker without it stops naming the variable rather than talk to somebody's demo stack.
 */
const schema = z.object({
  TEMPORAL_ADDRESS: hostPort,
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  TEMPORAL_TASK_QUEUE: nonEmpty.default('aiops-runbooks'),
  TEMPORAL_UI_URL: httpUrl.optional(),

  // The worker's readiness and liveness endpoints (src/workers/probes.ts): loopback locally; in a pod the
  // kubelet probes the pod's address, so k8s/worker-deployment.yaml listens on 0.0.0.0. Port 0 takes a free one.
  WORKER_HEALTH_ADDRESS: listenAddress.default('127.0.0.1:28081'),
  // How long running activities may go on after SIGTERM before they are cancelled; the pod's
  // terminationGracePeriodSeconds must cover it plus SHUTDOWN_MARGIN_SECONDS (src/workers/worker.ts).
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must be 0 or more')
    .default(20),

  // The SDK's Prometheus exporter (runtime and per-runbook metrics at /metrics); absent, no metrics are served.
  WORKER_METRICS_ADDRESS: listenAddress.optional(),
  // The Alertmanager webhook receiver (src/alerts/): served by the worker when an address is set, and only with a
  // bearer token every request must present.
  ALERT_RECEIVER_ADDRESS: listenAddress.optional(),
  ALERT_RECEIVER_TOKEN: nonEmpty.min(16, 'must be at least 16 characters').optional(),

  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: positiveInt.default(10),

  REDIS_URL: url(['redis:', 'rediss:']),

  S3_ENDPOINT: httpUrl,
  S3_REGION: nonEmpty.default('us-east-1'),
  S3_ACCESS_KEY_ID: nonEmpty,
  S3_SECRET_ACCESS_KEY: nonEmpty,
  S3_FORCE_PATH_STYLE: bool.default('true'),
  S3_BUCKET_MODELS: bucketName.default('wedsync-ai-models'),
  S3_BUCKET_BACKUPS: bucketName.default('wedsync-backups'),

  // Backups (seed 002 Backup Procedures): pg_dump and pg_restore connect with this role, which must read every
  // table and, for the restore drill, create and drop databases (CREATEDB); the worker's own role can do neither.
  // Absent: DATABASE_URL. POSTGRES_BIN_DIR holds pg_dump/pg_restore of the server's major version; absent: Debian's
  // /usr/lib/postgresql/<major>/bin for the major the server reports.
  BACKUP_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  POSTGRES_BIN_DIR: nonEmpty.optional(),
  BACKUP_KEEP_DAILY: positiveInt.default(7),
  BACKUP_KEEP_WEEKLY: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').default(4),
  BACKUP_KEEP_MONTHLY: z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').default(12),
  // The restore drill alerts when the newest verified backup is older than this.
  BACKUP_MAX_AGE_HOURS: positiveInt.default(26),
  // The monthly disaster recovery drill: the scratch namespace it recovers into (absent: <K8S_AI_NAMESPACE>-dr-drill;
  // made by the drill with its label, or made so by an operator) and the recovery time objective it is measured
  // against. The seeds name no RTO; an hour is ours.
  DR_DRILL_NAMESPACE: k8sName.optional(),
  DR_RTO_MINUTES: positiveInt.max(24 * 60, 'must be at most 1440').default(60),

  KUBECONFIG: nonEmpty.optional(),
  K8S_IN_CLUSTER: bool.default('false'),
  K8S_AI_NAMESPACE: k8sName.default('ai-services'),
  // The objects the runbooks act on (seed 002): activities refuse any other name.
  K8S_DEPLOYMENTS: k8sNameList.default('ai-optimization-engine,ai-recommendation-engine'),
  K8S_INGRESS: k8sName.default('ai-ingress'),
  K8S_PRIMARY_SERVICE: k8sName.default('ai-optimization-engine'),
  K8S_BACKUP_SERVICE: k8sName.default('ai-backup-services'),
  K8S_SERVICE_PORT: port.default(80),
  K8S_CONFIGMAPS: k8sNameList.default('ai-model-config'),

  WEDSYNC_HEALTH_URLS: urlList,
  WEDSYNC_METRICS_URL: httpUrl,
  WEDSYNC_ERRORS_URL: httpUrl,
  // The endpoint that reports the AI crisis manager (seed 002 /ai/health: crisis_manager, response_time_ms),
  // probed by the crisis-manager watch; absent, the first of WEDSYNC_HEALTH_URLS, which is that endpoint.
  WEDSYNC_CRISIS_MANAGER_HEALTH_URL: httpUrl.optional(),
  WEDSYNC_API_TOKEN: nonEmpty.optional(),
  HTTP_TIMEOUT_MS: positiveInt.default(5000),

  // Sunday maintenance window (seed 002): the model version to deploy (absent: the model step is skipped), the
  // accuracy it must reach to stay, and the calls that warm the caches after the purge.
  AI_MODEL_VERSION: nonEmpty.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a version label such as 2.4.0').optional(),
  MODEL_MIN_ACCURACY: z.coerce.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').default(0.85),
  CACHE_WARMUP_URLS: urlList,
  // seed 000 Issue 1: the cost dashboard the daily checklist reads, and the share of the budget that is an anomaly.
  COST_STATUS_URL: httpUrl,
  COST_ALERT_RATIO: z.coerce.number().positive('must be greater than 0').default(0.8),

  WEDSYNC_EMERGENCY_ALERT_URL: httpUrl,
  WEDSYNC_MANUAL_MODE_URL: httpUrl,
  WEDSYNC_COUPLE_NOTIFY_URL: httpUrl,
  WEDSYNC_EMERGENCY_PLANNERS_URL: httpUrl,
  WEDSYNC_VENDOR_NETWORK_URL: httpUrl,
  WEDSYNC_EXECUTIVE_ESCALATION_URL: httpUrl,
  WEDSYNC_CRISIS_COMMS_URL: httpUrl,
  // How many couple notifications are in flight at once: the notification service's rate, not ours, is the limit.
  CRISIS_NOTIFY_CONCURRENCY: positiveInt.max(1000, 'must be at most 1000').default(50),

  SLACK_WEBHOOK_URL: httpUrl,
  PAGERDUTY_EVENTS_URL: httpUrl,
  PAGERDUTY_ROUTING_KEY: nonEmpty,

  AIOPS_ROSTER: rosterSchema,
  BUSINESS_HOURS: businessHours.default('09:00-17:00'),
  BUSINESS_DAYS: businessDays.default('mon,tue,wed,thu,fri'),
  BUSINESS_TIMEZONE: timeZone.default('Europe/London'),

  // Failover and fallback (seed 002 Recovery and Failover). The health endpoints of the two services the AI ingress
  // can point at (the primary's absent: the first of WEDSYNC_HEALTH_URLS; the backup's absent: failover refused), and
  // the rule-based fallback's switch (seed: POST /ai/fallback/enable; absent: the fallback watch cannot switch it).
  WEDSYNC_PRIMARY_HEALTH_URL: httpUrl.optional(),
  WEDSYNC_BACKUP_HEALTH_URL: httpUrl.optional(),
  WEDSYNC_FALLBACK_ENABLE_URL: httpUrl.optional(),
  WEDSYNC_FALLBACK_DISABLE_URL: httpUrl.optional(),
  // The AI service's external dependency as the outage remediation checks it (seed 002 Issue 3: curl
  // https://api.openai.com/v1/models); absent, that check is reported as not configured.
  WEDSYNC_PROVIDER_STATUS_URL: httpUrl.optional(),
  // Monthly model retraining (seed 002 Monthly Maintenance, Model Retraining): the image the training and evaluation
  // Jobs run (it must start with one of the allowed prefixes), their resources, the data-quality threshold above
  // which a person decides, the margin by which a candidate may trail production's accuracy (its floor is
  // MODEL_MIN_ACCURACY), and the A/B test: the deployment it splits, the candidate's share of traffic, how often it
  // looks, how long it may run, its false-decision rate and the error rate that stops it at once.
  RETRAIN_IMAGE: nonEmpty
    .regex(/^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/, 'must be an image reference')
    .default('registry.wedsync.com/ai/model-training:2.4.0'),
  RETRAIN_IMAGE_ALLOWLIST: nonEmpty
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .default('registry.wedsync.com/ai/'),
  RETRAIN_JOB_CPU: nonEmpty.regex(/^[0-9]+(\.[0-9]+)?m?$/, 'must be a CPU quantity such as 2 or 500m').default('2'),
  RETRAIN_JOB_MEMORY: nonEmpty.regex(/^[0-9]+(Mi|Gi)$/, 'must be a memory quantity such as 8Gi').default('8Gi'),
  RETRAIN_JOB_TIMEOUT_MINUTES: positiveInt.default(240),
  RETRAIN_QUALITY_MAX_BAD_RATIO: z.coerce
    .number()
    .min(0, 'must be from 0 to 1')
    .max(1, 'must be from 0 to 1')
    .default(0.05),
  RETRAIN_MAX_ACCURACY_DROP: z.coerce
    .number()
    .min(0, 'must be from 0 to 1')
    .max(1, 'must be from 0 to 1')
    .default(0.02),
  RETRAIN_DEPLOYMENT: k8sName.default('ai-recommendation-engine'),
  RETRAIN_CANARY_WEIGHT: z.coerce.number().int('must be a whole number').min(1).max(50, 'must be 1-50').default(10),
  RETRAIN_AB_INTERVAL_MINUTES: positiveInt.default(60),
  RETRAIN_AB_MAX_DAYS: positiveInt.max(60, 'must be at most 60').default(14),
  RETRAIN_AB_ALPHA: z.coerce
    .number()
    .gt(0, 'must be between 0 and 0.5')
    .max(0.5, 'must be between 0 and 0.5')
    .default(0.05),
  RETRAIN_AB_MIN_PER_ARM: positiveInt.default(100),
  RETRAIN_ERROR_RATE_MAX: z.coerce.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').default(0.02),

  // The monitoring the alert rules run on; `runbook doctor` checks them when set (the runbooks never call them).
  PROMETHEUS_URL: httpUrl.optional(),
  ALERTMANAGER_URL: httpUrl.optional(),
  // seed 000 Data Breach, "Preserve evidence": the bucket pod logs and descriptions are copied to, with checksums.
  S3_BUCKET_EVIDENCE: bucketName.default('scrolluniversity-evidence'),
  // seed 000 Issue 6: the share of max_connections in use at which the database probe and runbook report exhaustion,
  // and how long a query runs before it counts as long-running.
  DATABASE_CONNECTION_ALERT_RATIO: z.coerce
    .number()
    .gt(0, 'must be above 0 and at most 1')
    .max(1, 'must be above 0 and at most 1')
    .default(0.8),
  DATABASE_LONG_QUERY_SECONDS: positiveInt.default(300),
  // How the worker and every client reach the Temporal frontend: TLS when TEMPORAL_TLS is true or any of these is
  // set; the CA that signed the server's certificate (absent: the system's roots); a client certificate and key
  // for mTLS (both or neither); the name the certificate is checked against when not the address's host; an API
  // key (Temporal Cloud), sent over TLS. Each TLS value is a PEM file's path.
  TEMPORAL_TLS: bool.default('false'),
  TEMPORAL_TLS_CA: nonEmpty.optional(),
  TEMPORAL_TLS_CERT: nonEmpty.optional(),
  TEMPORAL_TLS_KEY: nonEmpty.optional(),
  TEMPORAL_TLS_SERVER_NAME: nonEmpty.optional(),
  TEMPORAL_API_KEY: nonEmpty.optional(),
  // Payload encryption (src/codec/): every payload the worker and the clients send Temporal is sealed with
  // AES-256-GCM under the active key; every key listed still opens what it sealed, so a key is rotated by adding a
  // new one, making it active, and dropping the old one once no history that needs it is kept. No default: a worker
  // without keys would write incident summaries and crisis descriptions to history in plaintext.
  PAYLOAD_KEYS: payloadKeys,
  // Which key seals new payloads; may be left out when PAYLOAD_KEYS holds one key.
  PAYLOAD_ACTIVE_KEY_ID: nonEmpty.optional(),
  // The codec server (src/codec/server.ts) the Temporal Web UI calls to show decoded payloads: served by the worker
  // when an address is set, only to requests with the bearer token, with CORS for the UI's origins.
  CODEC_SERVER_ADDRESS: listenAddress.optional(),
  CODEC_SERVER_TOKEN: nonEmpty.min(16, 'must be at least 16 characters').optional(),
  CODEC_SERVER_CORS_ORIGINS: originList.optional(),
  // ScrollUniversity (seed 000): the base of its API (the seed's http://localhost:3000, under which every path of its
  // runbook lives; absent, its remediation workflows and incident diagnosis say it is not configured), its token, and
  // the Kubernetes objects its runbook acts on: the namespace, the deployments, and the ConfigMap holding the
  // gateway's active and fallback model.
  SCROLLUNIVERSITY_API_URL: httpUrl.optional(),
  SCROLLUNIVERSITY_API_TOKEN: nonEmpty.optional(),
  SCROLLUNIVERSITY_NAMESPACE: k8sName.default('production'),
  SCROLLUNIVERSITY_DEPLOYMENTS: k8sNameList.default('ai-gateway-service,scrolluniversity-backend'),
  SCROLLUNIVERSITY_MODEL_CONFIGMAP: k8sName.default('ai-gateway-config'),
});

type Raw = z.infer<typeof schema>;

/** The Kubernetes objects the runbooks may act on, all in the AI namespace. */
export interface KubernetesTargets {
  deployments: string[];
  ingress: string;
  /** The ingress's usual backend, and the one failover switches to. */
  primaryService: string;
  backupService: string;
  servicePort: number;
  configMaps: string[];
}

export interface MaintenanceConfig {
  modelVersion?: string;
  minAccuracy: number;
  warmupUrls: string[];
  costStatusUrl: string;
  costAlertRatio: number;
}

export interface BackupConfig {
  /** The role pg_dump, pg_restore and the drill's scratch databases use; its database is the one backed up. */
  databaseUrl: string;
  binDir?: string;
  keep: { daily: number; weekly: number; monthly: number };
  maxAgeHours: number;
  /** The disaster recovery drill's scratch namespace and the RTO it is measured against. */
  drillNamespace: string;
  rtoMinutes: number;
}

export interface RetrainingConfig {
  image: string;
  imageAllowlist: string[];
  cpu: string;
  memory: string;
  jobTimeoutMinutes: number;
  qualityMaxBadRatio: number;
  maxAccuracyDrop: number;
  deployment: string;
  canaryWeight: number;
  abIntervalMinutes: number;
  abMaxDays: number;
  alpha: number;
  minPerArm: number;
  errorRateMax: number;
}

export interface AppConfig {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl?: string;
    /** Absent: plaintext. File paths, read when a connection is made (src/config/temporal-connection.ts). */
    tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
    apiKey?: string;
  };
  worker: {
    health: { host: string; port: number };
    shutdownGraceSeconds: number;
    /** host:port of the Prometheus exporter, when metrics are served. */
    metricsAddress?: string;
  };
  /** The Alertmanager webhook receiver, when the worker serves one. */
  alerts?: { host: string; port: number; token: string };
  postgres: { url: string; poolMax: number };
  redis: { url: string };
  s3: {
    /** For AWS itself, the regional endpoint, e.g. https://s3.eu-west-1.amazonaws.com. */
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    buckets: { models: string; backups: string };
  };
  maintenance: MaintenanceConfig;
  backups: BackupConfig;
  kubernetes: {
    /** Path of a kubeconfig file; absent with inCluster false means no cluster is configured. */
    kubeconfig?: string;
    inCluster: boolean;
    aiNamespace: string;
    targets: KubernetesTargets;
  };
  wedsync: {
    healthUrls: string[];
    /** What the crisis-manager watch probes. */
    crisisManagerHealthUrl: string;
    metricsUrl: string;
    errorsUrl: string;
    apiToken?: string;
    timeoutMs: number;
    /** seed 002 EMERGENCY PROTOCOL endpoints. */
    crisis: {
      emergencyAlertUrl: string;
      manualModeUrl: string;
      coupleNotifyUrl: string;
      emergencyPlannersUrl: string;
      vendorNetworkUrl: string;
      executiveEscalationUrl: string;
      crisisCommsUrl: string;
      /** Couple notifications in flight at once. */
      notifyConcurrency: number;
    };
  };
  notifications: { slackWebhookUrl: string; pagerdutyEventsUrl: string; pagerdutyRoutingKey: string };
  roster: Person[];
  businessHours: BusinessHours;
  failover: FailoverConfig;
  retraining: RetrainingConfig;
  /** Prometheus and Alertmanager, when set: what `runbook doctor` checks. */
  monitoring: { prometheusUrl?: string; alertmanagerUrl?: string };
  scrollUniversity: ScrollUniversityConfig;
  payloads: PayloadKeysConfig;
  /** The codec server for the Temporal Web UI, when the worker serves one. */
  codecServer?: { host: string; port: number; token: string; corsOrigins: string[] };
}

/** ScrollUniversity's API and the database limits its runbooks check (seed 000 Issues 5-7, Data Breach). */
export interface ScrollUniversityConfig {
  apiUrl?: string;
  evidenceBucket: string;
  connectionAlertRatio: number;
  longQuerySeconds: number;
  apiToken?: string;
  namespace: string;
  deployments: string[];
  modelConfigMap: string;
}

/** A payload key: its id (written in each sealed payload's metadata) and its 32 bytes. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

export interface PayloadKeysConfig {
  /** Every key that may open a payload. */
  keys: PayloadKey[];
  /** The id of the key that seals new payloads; one of `keys`. */
  activeKeyId: string;
}

/** The AI ingress's two targets' health endpoints and the rule-based fallback's switch. */
export interface FailoverConfig {
  primaryHealthUrl: string;
  backupHealthUrl?: string;
  fallbackEnableUrl?: string;
  fallbackDisableUrl?: string;
  /** The external dependency's status endpoint (seed 002 Issue 3's `curl https://api.openai.com/v1/models`). */
  providerStatusUrl?: string;
}

export type Person = z.infer<typeof personSchema>;

export type { BusinessHours } from '../contracts/business-hours';

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { variable: 'AIOPS_CONFIG_FILE', message: `cannot read ${path}: ${(err as Error).message}` },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([
      { variable: 'AIOPS_CONFIG_FILE', message: `${path} is not valid JSON: ${(err as Error).message}` },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([
      { variable: 'AIOPS_CONFIG_FILE', message: `${path} must hold a JSON object of VARIABLE: value` },
    ]);
  }
  const unknownKeys = Object.keys(parsed).filter((k) => !(k in schema.shape));
  if (unknownKeys.length > 0) {
    throw new ConfigError(unknownKeys.map((k) => ({ variable: k, message: `unknown setting in ${path}` })));
  }
  // Structured values (the roster) may be written as JSON in the file; they are parsed like the variable.
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v),
    ]),
  );
}

/** Every variable the configuration reads (the keys of the config file). */
export const SETTING_NAMES = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

/**
 * The settings as given, file first and environment over it, before defaults and validation: what the operator
 * set, for a caller that fills in only what is missing (the local stack does).
 */
export function givenSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const fromFile = env.AIOPS_CONFIG_FILE ? readConfigFile(env.AIOPS_CONFIG_FILE) : {};
  const merged: Record<string, string> = { ...fromFile };
  for (const key of SETTING_NAMES) {
    const value = env[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** Every outbound HTTP endpoint a workflow step calls (webhooks, crisis actions, notifications). */
export const OUTBOUND_URL_VARIABLES = [
  'WEDSYNC_EMERGENCY_ALERT_URL',
  'WEDSYNC_MANUAL_MODE_URL',
  'WEDSYNC_COUPLE_NOTIFY_URL',
  'WEDSYNC_EMERGENCY_PLANNERS_URL',
  'WEDSYNC_VENDOR_NETWORK_URL',
  'WEDSYNC_EXECUTIVE_ESCALATION_URL',
  'WEDSYNC_CRISIS_COMMS_URL',
  'SLACK_WEBHOOK_URL',
  'PAGERDUTY_EVENTS_URL',
] as const;

/** Reads and validates the configuration; throws ConfigError naming every bad or missing variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const result = schema.safeParse(givenSettings(env));
  if (!result.success) {
    // One line per variable: the first problem found is the one to fix.
    const byVariable = new Map<string, string>();
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '?');
      const missing = issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined';
      if (!byVariable.has(variable)) byVariable.set(variable, missing ? 'not set (required)' : issue.message);
    }
    throw new ConfigError([...byVariable].map(([variable, message]) => ({ variable, message })));
  }
  if (!result.data.TEMPORAL_TLS_CERT !== !result.data.TEMPORAL_TLS_KEY) {
    throw new ConfigError([
      {
        variable: result.data.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT',
        message: 'not set (mTLS needs both the client certificate and its key)',
      },
    ]);
  }
  const keyProblem = activeKeyProblem(result.data);
  if (keyProblem) throw new ConfigError([{ variable: 'PAYLOAD_ACTIVE_KEY_ID', message: keyProblem }]);
  if (result.data.CODEC_SERVER_ADDRESS && !result.data.CODEC_SERVER_TOKEN) {
    throw new ConfigError([
      {
        variable: 'CODEC_SERVER_TOKEN',
        message: 'not set (required with CODEC_SERVER_ADDRESS: the codec server decrypts only for token holders)',
      },
    ]);
  }
  if (result.data.ALERT_RECEIVER_ADDRESS && !result.data.ALERT_RECEIVER_TOKEN) {
    throw new ConfigError([
      {
        variable: 'ALERT_RECEIVER_TOKEN',
        message: 'not set (required with ALERT_RECEIVER_ADDRESS: the receiver refuses unauthenticated alerts)',
      },
    ]);
  }
  return toAppConfig(result.data);
}

/** Why PAYLOAD_ACTIVE_KEY_ID does not pick one of PAYLOAD_KEYS, if it does not. */
function activeKeyProblem(raw: Raw): string | undefined {
  const ids = raw.PAYLOAD_KEYS.map((k) => k.id);
  if (raw.PAYLOAD_ACTIVE_KEY_ID === undefined) {
    return ids.length === 1 ? undefined : `not set (required when PAYLOAD_KEYS holds several keys: ${ids.join(', ')})`;
  }
  return ids.includes(raw.PAYLOAD_ACTIVE_KEY_ID)
    ? undefined
    : `"${raw.PAYLOAD_ACTIVE_KEY_ID}" is not one of the ids in PAYLOAD_KEYS (${ids.join(', ')})`;
}

/** "127.0.0.1:28081" or "[::]:8080" → host (brackets dropped) and port. */
function splitHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(value.slice(at + 1)) };
}

function toAppConfig(raw: Raw): AppConfig {
  return {
    temporal: {
      address: raw.TEMPORAL_ADDRESS,
      namespace: raw.TEMPORAL_NAMESPACE,
      taskQueue: raw.TEMPORAL_TASK_QUEUE,
      uiUrl: raw.TEMPORAL_UI_URL,
      ...((raw.TEMPORAL_TLS || raw.TEMPORAL_TLS_CA || raw.TEMPORAL_TLS_CERT || raw.TEMPORAL_API_KEY) && {
        tls: {
          caFile: raw.TEMPORAL_TLS_CA,
          certFile: raw.TEMPORAL_TLS_CERT,
          keyFile: raw.TEMPORAL_TLS_KEY,
          serverName: raw.TEMPORAL_TLS_SERVER_NAME,
        },
      }),
      apiKey: raw.TEMPORAL_API_KEY,
    },
    worker: {
      health: splitHostPort(raw.WORKER_HEALTH_ADDRESS),
      shutdownGraceSeconds: raw.WORKER_SHUTDOWN_GRACE_SECONDS,
      metricsAddress: raw.WORKER_METRICS_ADDRESS,
    },
    ...(raw.ALERT_RECEIVER_ADDRESS &&
      raw.ALERT_RECEIVER_TOKEN && {
        alerts: { ...splitHostPort(raw.ALERT_RECEIVER_ADDRESS), token: raw.ALERT_RECEIVER_TOKEN },
      }),
    postgres: { url: raw.DATABASE_URL, poolMax: raw.DATABASE_POOL_MAX },
    redis: { url: raw.REDIS_URL },
    s3: {
      endpoint: raw.S3_ENDPOINT,
      region: raw.S3_REGION,
      accessKeyId: raw.S3_ACCESS_KEY_ID,
      secretAccessKey: raw.S3_SECRET_ACCESS_KEY,
      forcePathStyle: raw.S3_FORCE_PATH_STYLE,
      buckets: { models: raw.S3_BUCKET_MODELS, backups: raw.S3_BUCKET_BACKUPS },
    },
    maintenance: {
      modelVersion: raw.AI_MODEL_VERSION,
      minAccuracy: raw.MODEL_MIN_ACCURACY,
      warmupUrls: raw.CACHE_WARMUP_URLS,
      costStatusUrl: raw.COST_STATUS_URL,
      costAlertRatio: raw.COST_ALERT_RATIO,
    },
    backups: {
      databaseUrl: raw.BACKUP_DATABASE_URL ?? raw.DATABASE_URL,
      binDir: raw.POSTGRES_BIN_DIR,
      keep: { daily: raw.BACKUP_KEEP_DAILY, weekly: raw.BACKUP_KEEP_WEEKLY, monthly: raw.BACKUP_KEEP_MONTHLY },
      maxAgeHours: raw.BACKUP_MAX_AGE_HOURS,
      drillNamespace: raw.DR_DRILL_NAMESPACE ?? `${raw.K8S_AI_NAMESPACE}-dr-drill`,
      rtoMinutes: raw.DR_RTO_MINUTES,
    },
    kubernetes: {
      kubeconfig: raw.KUBECONFIG,
      inCluster: raw.K8S_IN_CLUSTER,
      aiNamespace: raw.K8S_AI_NAMESPACE,
      targets: {
        deployments: raw.K8S_DEPLOYMENTS,
        ingress: raw.K8S_INGRESS,
        primaryService: raw.K8S_PRIMARY_SERVICE,
        backupService: raw.K8S_BACKUP_SERVICE,
        servicePort: raw.K8S_SERVICE_PORT,
        configMaps: raw.K8S_CONFIGMAPS,
      },
    },
    wedsync: {
      healthUrls: raw.WEDSYNC_HEALTH_URLS,
      crisisManagerHealthUrl: raw.WEDSYNC_CRISIS_MANAGER_HEALTH_URL ?? raw.WEDSYNC_HEALTH_URLS[0],
      metricsUrl: raw.WEDSYNC_METRICS_URL,
      errorsUrl: raw.WEDSYNC_ERRORS_URL,
      apiToken: raw.WEDSYNC_API_TOKEN,
      timeoutMs: raw.HTTP_TIMEOUT_MS,
      crisis: {
        emergencyAlertUrl: raw.WEDSYNC_EMERGENCY_ALERT_URL,
        manualModeUrl: raw.WEDSYNC_MANUAL_MODE_URL,
        coupleNotifyUrl: raw.WEDSYNC_COUPLE_NOTIFY_URL,
        emergencyPlannersUrl: raw.WEDSYNC_EMERGENCY_PLANNERS_URL,
        vendorNetworkUrl: raw.WEDSYNC_VENDOR_NETWORK_URL,
        executiveEscalationUrl: raw.WEDSYNC_EXECUTIVE_ESCALATION_URL,
        crisisCommsUrl: raw.WEDSYNC_CRISIS_COMMS_URL,
        notifyConcurrency: raw.CRISIS_NOTIFY_CONCURRENCY,
      },
    },
    notifications: {
      slackWebhookUrl: raw.SLACK_WEBHOOK_URL,
      pagerdutyEventsUrl: raw.PAGERDUTY_EVENTS_URL,
      pagerdutyRoutingKey: raw.PAGERDUTY_ROUTING_KEY,
    },
    roster: raw.AIOPS_ROSTER,
    businessHours: { ...raw.BUSINESS_HOURS, days: raw.BUSINESS_DAYS, timeZone: raw.BUSINESS_TIMEZONE },
    failover: {
      primaryHealthUrl: raw.WEDSYNC_PRIMARY_HEALTH_URL ?? raw.WEDSYNC_HEALTH_URLS[0],
      backupHealthUrl: raw.WEDSYNC_BACKUP_HEALTH_URL,
      fallbackEnableUrl: raw.WEDSYNC_FALLBACK_ENABLE_URL,
      fallbackDisableUrl: raw.WEDSYNC_FALLBACK_DISABLE_URL,
      providerStatusUrl: raw.WEDSYNC_PROVIDER_STATUS_URL,
    },
    retraining: {
      image: raw.RETRAIN_IMAGE,
      imageAllowlist: raw.RETRAIN_IMAGE_ALLOWLIST,
      cpu: raw.RETRAIN_JOB_CPU,
      memory: raw.RETRAIN_JOB_MEMORY,
      jobTimeoutMinutes: raw.RETRAIN_JOB_TIMEOUT_MINUTES,
      qualityMaxBadRatio: raw.RETRAIN_QUALITY_MAX_BAD_RATIO,
      maxAccuracyDrop: raw.RETRAIN_MAX_ACCURACY_DROP,
      deployment: raw.RETRAIN_DEPLOYMENT,
      canaryWeight: raw.RETRAIN_CANARY_WEIGHT,
      abIntervalMinutes: raw.RETRAIN_AB_INTERVAL_MINUTES,
      abMaxDays: raw.RETRAIN_AB_MAX_DAYS,
      alpha: raw.RETRAIN_AB_ALPHA,
      minPerArm: raw.RETRAIN_AB_MIN_PER_ARM,
      errorRateMax: raw.RETRAIN_ERROR_RATE_MAX,
    },
    monitoring: { prometheusUrl: raw.PROMETHEUS_URL, alertmanagerUrl: raw.ALERTMANAGER_URL },
    scrollUniversity: {
      apiUrl: raw.SCROLLUNIVERSITY_API_URL,
      evidenceBucket: raw.S3_BUCKET_EVIDENCE,
      connectionAlertRatio: raw.DATABASE_CONNECTION_ALERT_RATIO,
      longQuerySeconds: raw.DATABASE_LONG_QUERY_SECONDS,
      apiToken: raw.SCROLLUNIVERSITY_API_TOKEN,
      namespace: raw.SCROLLUNIVERSITY_NAMESPACE,
      deployments: raw.SCROLLUNIVERSITY_DEPLOYMENTS,
      modelConfigMap: raw.SCROLLUNIVERSITY_MODEL_CONFIGMAP,
    },
    payloads: { keys: raw.PAYLOAD_KEYS, activeKeyId: raw.PAYLOAD_ACTIVE_KEY_ID ?? raw.PAYLOAD_KEYS[0].id },
    ...(raw.CODEC_SERVER_ADDRESS &&
      raw.CODEC_SERVER_TOKEN && {
        codecServer: {
          ...splitHostPort(raw.CODEC_SERVER_ADDRESS),
          token: raw.CODEC_SERVER_TOKEN,
          corsOrigins: raw.CODEC_SERVER_CORS_ORIGINS ?? [],
        },
      }),
  };
}

/** A copy safe to print or log: passwords in URLs and secret keys are masked. */
export function redactConfig(config: AppConfig): AppConfig {
  const maskUrl = (value: string) => {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  };
  return {
    ...config,
    postgres: { ...config.postgres, url: maskUrl(config.postgres.url) },
    backups: { ...config.backups, databaseUrl: maskUrl(config.backups.databaseUrl) },
    redis: { url: maskUrl(config.redis.url) },
    s3: { ...config.s3, secretAccessKey: '***' },
    wedsync: { ...config.wedsync, apiToken: config.wedsync.apiToken ? '***' : undefined },
    notifications: { ...config.notifications, slackWebhookUrl: '***', pagerdutyRoutingKey: '***' },
    scrollUniversity: { ...config.scrollUniversity, apiToken: config.scrollUniversity.apiToken ? '***' : undefined },
    ...(config.alerts && { alerts: { ...config.alerts, token: '***' } }),
    temporal: { ...config.temporal, ...(config.temporal.apiKey && { apiKey: '***' }) },
    payloads: { ...config.payloads, keys: config.payloads.keys.map((k) => ({ id: k.id, key: Buffer.from('***') })) },
    ...(config.codecServer && { codecServer: { ...config.codecServer, token: '***' } }),
  };
}

/** Loads the configuration or ends the process with the message; for process entry points. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
