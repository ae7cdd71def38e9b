/**
 * The local stack's settings: its ports, its demo credentials and roster, and which of its servers the operator
 * replaced with their own. They reach what runs against the stack as configuration variables: the worker and the
 * tests get them in their environment, and `.data/local-stack.json` (written on every start) gives them to the
 * operator commands (`npm run audit`, `npm run schedules`, ...), whose npm scripts preload use-local-stack.js.
 * src/config has no defaults for any of this, so a production worker never falls back to them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { givenSettings } from '../../src/config';
import { withDemoOperatorKeys } from './operator-keys';
import { DATA_DIR, ensureDir } from './paths';

/**
 * How far AIOPS_PORT_OFFSET moves every port up, for a second stack beside the first (another checkout, or a test
 * with its own AIOPS_DATA_DIR). The highest port must stay below the ephemeral range.
 */
function portOffset(value = process.env.AIOPS_PORT_OFFSET): number {
  if (value === undefined || value === '') return 0;
  const offset = Number(value);
  if (!Number.isInteger(offset) || offset < 0 || offset > 3000) {
    throw new Error(`AIOPS_PORT_OFFSET: must be a whole number from 0 to 3000, not "${value}"`);
  }
  return offset;
}

const offset = portOffset();

/**
 * Ports of the local stack; docker-compose.yml publishes the same ones (a test holds them equal). All lie below
 * Linux's ephemeral range (32768-60999 by default): a port in it can be the local end of some client connection,
 * and a listener then fails to bind it with EADDRINUSE until that connection's TIME_WAIT is over.
 */
export const LOCAL_PORTS = {
  temporal: 7233 + offset,
  temporalUi: 8233 + offset,
  postgres: 25432 + offset,
  redis: 26379 + offset,
  s3: 29000 + offset,
  s3Console: 29001 + offset,
  demoApi: 28080 + offset,
  etcd: 22379 + offset,
  etcdPeer: 22380 + offset,
  kubeApiserver: 26443 + offset,
  workerHealth: 28081 + offset,
  alertReceiver: 28082 + offset,
  workerMetrics: 28083 + offset,
  prometheus: 29090 + offset,
  alertmanager: 29093 + offset,
  codecServer: 28084 + offset,
  backupWorkerHealth: 28085 + offset,
} as const;

/** Credentials of the local stack only; a real deployment sets its own. */
export const LOCAL_CREDENTIALS = {
  postgresUser: 'aiops',
  postgresPassword: 'aiops-local',
  postgresDatabase: 'aiops',
  /** The local server's superuser (scripts/lib/stack.ts POSTGRES_ADMIN), which backups also use locally. */
  postgresAdminUser: 'postgres',
  postgresAdminPassword: 'aiops-admin-local',
  s3AccessKeyId: 'aiops',
  s3SecretAccessKey: 'aiops-local-secret',
  pagerdutyRoutingKey: 'local-routing-key',
  /** What the local Alertmanager presents to the worker's alert receiver (monitoring/alertmanager.yml). */
  alertReceiverToken: 'aiops-local-alert-token',
} as const;

/** The seeds' contacts as a demo roster for the local stack; a real team sets AIOPS_ROSTER. */
export const DEMO_ROSTER = [
  { id: 'oncall', name: 'On-Call Engineer', roles: ['on-call'], slack: '@oncall', pagerduty: true },
  { id: 'ai-lead', name: 'AI Team Lead', roles: ['ai-team-lead'], slack: '@ai-lead', pagerduty: true },
  { id: 'devops', name: 'DevOps Team', roles: ['devops'], slack: '#devops' },
  { id: 'security', name: 'Security Team', roles: ['security'], slack: '#security' },
  { id: 'ai-ops', name: 'AI Operations Team', roles: ['ai-ops'], slack: '#ai-ops-alerts' },
  { id: 'platform', name: 'Platform Engineering on-call', roles: ['platform-oncall'], pagerduty: true },
  { id: 'cto', name: 'CTO', roles: ['cto', 'executive'], slack: '@cto' },
  { id: 'wedding-support', name: 'Wedding Day Support Team', roles: ['wedding-day-support'], slack: '#wedding-day' },
  { id: 'faculty', name: 'Faculty Theological Reviewer', roles: ['faculty-reviewer'], slack: '#faculty-review' },
];

/** The local stack's payload key and codec server token: made on first use, kept in .data/ (never committed). */
export const LOCAL_SECRETS_FILE = join(DATA_DIR, 'local-secrets.json');

interface LocalSecrets {
  payloadKeyId: string;
  payloadKey: string;
  codecServerToken: string;
}

/** The stack's own secrets, made once per data directory so what one start sealed the next can open. */
export function localSecrets(): LocalSecrets {
  if (existsSync(LOCAL_SECRETS_FILE)) return JSON.parse(readFileSync(LOCAL_SECRETS_FILE, 'utf8')) as LocalSecrets;
  const secrets: LocalSecrets = {
    payloadKeyId: `local-${randomBytes(4).toString('hex')}`,
    payloadKey: randomBytes(32).toString('base64'),
    codecServerToken: randomBytes(24).toString('base64url'),
  };
  ensureDir(DATA_DIR);
  // wx: two processes making the file at once keep the first one's secrets.
  try {
    writeFileSync(LOCAL_SECRETS_FILE, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return JSON.parse(readFileSync(LOCAL_SECRETS_FILE, 'utf8')) as LocalSecrets;
  }
  return secrets;
}

/**
 * The Web UI's codec endpoint: the token as the first path segment, since the dev server's UI has no login and
 * cannot send an Authorization header (the codec protocol reads only the last segment: /encode, /decode).
 */
export function localCodecEndpoint(): string {
  return `http://127.0.0.1:${LOCAL_PORTS.codecServer}/${localSecrets().codecServerToken}`;
}

export const KUBE_DIR = join(DATA_DIR, 'kubernetes');
/** The local API server's administrator kubeconfig, written once the server has made its certificate. */
export const LOCAL_KUBECONFIG = join(KUBE_DIR, 'kubeconfig');

/** The settings file every start writes; keys are the configuration's variable names. */
export const LOCAL_STACK_FILE = join(DATA_DIR, 'local-stack.json');

/**
 * Which servers the operator set (in the environment or the AIOPS_CONFIG_FILE file): the start command starts a
 * local one only for the others.
 */
export function endpointsSetByOperator(env: NodeJS.ProcessEnv = process.env) {
  const given = givenSettings(env);
  const set = (name: string) => given[name] !== undefined;
  return {
    temporal: set('TEMPORAL_ADDRESS'),
    postgres: set('DATABASE_URL'),
    redis: set('REDIS_URL'),
    s3: set('S3_ENDPOINT'),
    kubernetes: given.KUBECONFIG !== undefined || ['true', '1'].includes(String(given.K8S_IN_CLUSTER)),
  };
}

const DEMO_API = `http://127.0.0.1:${LOCAL_PORTS.demoApi}`;

/**
 * The local stack's value of every setting the operator did not give. A server the operator replaced (their own
 * database, say) gets none of the local one's settings, not even its credentials. The demo API stands in for each
 * WedSync endpoint and notification receiver that is not set one by one: it answers as WedSync and records what
 * the runbooks send.
 */
export function localStackSettings(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const operator = endpointsSetByOperator(env);
  const host = '127.0.0.1';
  const c = LOCAL_CREDENTIALS;
  const secrets = localSecrets();
  const all: Record<string, string> = {
    ...(!operator.temporal && {
      TEMPORAL_ADDRESS: `${host}:${LOCAL_PORTS.temporal}`,
      TEMPORAL_UI_URL: `http://${host}:${LOCAL_PORTS.temporalUi}`,
    }),
    ...(!operator.postgres && {
      DATABASE_URL: `postgres://${c.postgresUser}:${c.postgresPassword}@${host}:${LOCAL_PORTS.postgres}/${c.postgresDatabase}`,
      // Backups dump every table and the restore drill creates databases: the local server's administrator does both.
      BACKUP_DATABASE_URL: `postgres://${c.postgresAdminUser}:${c.postgresAdminPassword}@${host}:${LOCAL_PORTS.postgres}/${c.postgresDatabase}`,
    }),
    ...(!operator.redis && { REDIS_URL: `redis://${host}:${LOCAL_PORTS.redis}/0` }),
    ...(!operator.s3 && {
      S3_ENDPOINT: `http://${host}:${LOCAL_PORTS.s3}`,
      S3_ACCESS_KEY_ID: c.s3AccessKeyId,
      S3_SECRET_ACCESS_KEY: c.s3SecretAccessKey,
    }),
    ...(!operator.kubernetes && { KUBECONFIG: LOCAL_KUBECONFIG }),
    WORKER_HEALTH_ADDRESS: `${host}:${LOCAL_PORTS.workerHealth}`,
    WORKER_METRICS_ADDRESS: `${host}:${LOCAL_PORTS.workerMetrics}`,
    ALERT_RECEIVER_ADDRESS: `${host}:${LOCAL_PORTS.alertReceiver}`,
    ALERT_RECEIVER_TOKEN: c.alertReceiverToken,
    WEDSYNC_HEALTH_URLS: `${DEMO_API}/ai/health`,
    WEDSYNC_METRICS_URL: `${DEMO_API}/ai/metrics/daily`,
    WEDSYNC_ERRORS_URL: `${DEMO_API}/ai/errors/recent`,
    CACHE_WARMUP_URLS: `${DEMO_API}/ai/metrics/daily,${DEMO_API}/ai/health`,
    COST_STATUS_URL: `${DEMO_API}/api/cost-optimization/budget/status`,
    WEDSYNC_EMERGENCY_ALERT_URL: `${DEMO_API}/alerts/emergency`,
    WEDSYNC_MANUAL_MODE_URL: `${DEMO_API}/crisis/manual-mode/enable`,
    WEDSYNC_COUPLE_NOTIFY_URL: `${DEMO_API}/crisis/notify-couple`,
    WEDSYNC_EMERGENCY_PLANNERS_URL: `${DEMO_API}/crisis/emergency-planners/deploy`,
    WEDSYNC_VENDOR_NETWORK_URL: `${DEMO_API}/crisis/vendor-network/activate`,
    WEDSYNC_EXECUTIVE_ESCALATION_URL: `${DEMO_API}/crisis/executive-escalation`,
    WEDSYNC_CRISIS_COMMS_URL: `${DEMO_API}/crisis/communication/begin`,
    SLACK_WEBHOOK_URL: `${DEMO_API}/hooks/slack`,
    PAGERDUTY_EVENTS_URL: `${DEMO_API}/pagerduty/v2/enqueue`,
    PAGERDUTY_ROUTING_KEY: c.pagerdutyRoutingKey,
    AIOPS_ROSTER: JSON.stringify(withDemoOperatorKeys(DEMO_ROSTER)),
    WEDSYNC_BACKUP_HEALTH_URL: `${DEMO_API}/ai/backup/health`,
    WEDSYNC_FALLBACK_ENABLE_URL: `${DEMO_API}/ai/fallback/enable`,
    WEDSYNC_FALLBACK_DISABLE_URL: `${DEMO_API}/ai/fallback/disable`,
    WEDSYNC_PROVIDER_STATUS_URL: `${DEMO_API}/v1/models`,
    PROMETHEUS_URL: `http://${host}:${LOCAL_PORTS.prometheus}`,
    ALERTMANAGER_URL: `http://${host}:${LOCAL_PORTS.alertmanager}`,
    SCROLLUNIVERSITY_API_URL: DEMO_API,
    PAYLOAD_KEYS: `${secrets.payloadKeyId}:${secrets.payloadKey}`,
    PAYLOAD_ACTIVE_KEY_ID: secrets.payloadKeyId,
    CODEC_SERVER_ADDRESS: `${host}:${LOCAL_PORTS.codecServer}`,
    CODEC_SERVER_TOKEN: secrets.codecServerToken,
    CODEC_SERVER_CORS_ORIGINS: `http://${host}:${LOCAL_PORTS.temporalUi}`,
  };
  const given = givenSettings(env);
  return Object.fromEntries(Object.entries(all).filter(([name]) => given[name] === undefined));
}

/** Whether any of these settings points at the demo API, which the start then runs. */
export function usesDemoApi(settings: Record<string, string>): boolean {
  return Object.values(settings).some((value) => value.includes(DEMO_API));
}

/**
 * `env` with the local stack's settings added where the operator gave none: what the operator set, in the
 * environment or in their AIOPS_CONFIG_FILE, always wins.
 */
export function withLocalStack(
  env: NodeJS.ProcessEnv = process.env,
  settings: Record<string, string> = localStackSettings(env),
): NodeJS.ProcessEnv {
  const given = givenSettings(env);
  const added = Object.fromEntries(Object.entries(settings).filter(([name]) => given[name] === undefined));
  return { ...env, ...added };
}

/** Writes the settings of the stack being started, for the commands run in other shells. */
export function writeLocalStackFile(settings: Record<string, string> = localStackSettings()): string {
  ensureDir(DATA_DIR);
  // Structured as the config file allows: the roster as an array, the rest as strings.
  const file = {
    ...settings,
    ...(settings.AIOPS_ROSTER && { AIOPS_ROSTER: JSON.parse(settings.AIOPS_ROSTER) as unknown }),
  };
  writeFileSync(LOCAL_STACK_FILE, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  return LOCAL_STACK_FILE;
}

/** The settings the last start wrote, or undefined when nothing was started in this data directory. */
export function readLocalStackFile(): Record<string, string> | undefined {
  if (!existsSync(LOCAL_STACK_FILE)) return undefined;
  const file = JSON.parse(readFileSync(LOCAL_STACK_FILE, 'utf8')) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(file).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
