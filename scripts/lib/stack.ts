/**
 * The local stack: Temporal dev server, PostgreSQL, Redis, MinIO and a Kubernetes API server (etcd +
 * kube-apiserver) on loopback, each with its state under .data/. A service whose endpoint the operator
 * configured (TEMPORAL_ADDRESS, DATABASE_URL, REDIS_URL, S3_ENDPOINT, KUBECONFIG or K8S_IN_CLUSTER, in the
 * environment or the config file) is not started: the configured one is used instead. Every service is recorded
 * in the process registry (processes.ts) the moment it is spawned, so whoever stops the stack finds it even when
 * the start-up did not finish.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Interrupted, throwIfInterrupted } from './interrupt';
import {
  endpointsSetByOperator,
  LOCAL_CREDENTIALS,
  LOCAL_PORTS,
  localStackSettings,
  writeLocalStackFile,
  localCodecEndpoint,
} from './local-stack';
import { alertmanagerArgs, prometheusArgs, writeMonitoringConfig } from './monitoring';
import { DATA_DIR, ensureDir } from './paths';
import { forgetService, log, portOpen, run, runningPid, spawnService, stopPid, waitFor } from './processes';
import {
  etcdArgs,
  kubeApiserverArgs,
  kubeApiserverReady,
  prepareKubeFiles,
  seedLocalCluster,
  writeLocalKubeconfig,
} from './kube-local';
import {
  ensureAlertmanager,
  ensureDebianPackages,
  ensureEtcd,
  ensureKubeApiserver,
  ensureMinio,
  ensurePrometheus,
  ensureTemporalCli,
  POSTGRES_BIN,
} from './tools';

export type ServiceName =
  'temporal' | 'postgres' | 'redis' | 's3' | 'kubernetes' | 'etcd' | 'prometheus' | 'alertmanager';
/** Stop order: dependants first. */
export const SERVICE_NAMES: ServiceName[] = [
  'prometheus',
  'alertmanager',
  'temporal',
  'kubernetes',
  'etcd',
  's3',
  'redis',
  'postgres',
];

export const POSTGRES_ADMIN = {
  user: LOCAL_CREDENTIALS.postgresAdminUser,
  password: LOCAL_CREDENTIALS.postgresAdminPassword,
};

/** The local server's administrator connection to a database (`postgres` unless named). */
export function localPostgresAdminUrl(database = 'postgres'): string {
  return `postgres://${POSTGRES_ADMIN.user}:${POSTGRES_ADMIN.password}@127.0.0.1:${LOCAL_PORTS.postgres}/${database}`;
}

interface Service {
  /** True when the operator points us at an existing server instead. */
  external: () => boolean;
  port: number;
  install: () => Promise<unknown>;
  start: () => Promise<number>;
  ready: () => Promise<boolean>;
  stopSignal: NodeJS.Signals;
  /** Signal only the leader; postgres shuts its children down itself. */
  leaderOnly?: boolean;
  /** Services that must answer before this one starts. */
  after?: ServiceName[];
  /** Runs once the service answers, whether we started it or found it running. */
  whenReady?: () => Promise<void>;
}

/**
 * PostgreSQL refuses to run as root. As root we run it in a user namespace whose uid maps back to ours, so it
 * sees an unprivileged user yet owns .data/postgres wherever the checkout lives.
 */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['unshare', ['--user', '--map-user=1000', '--map-group=1000', '--', command, ...args]];
}

const services: Record<ServiceName, Service> = {
  temporal: {
    external: () => endpointsSetByOperator().temporal,
    port: LOCAL_PORTS.temporal,
    install: ensureTemporalCli,
    async start() {
      const dir = ensureDir(join(DATA_DIR, 'temporal'));
      return spawnService('temporal', await ensureTemporalCli(), [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(LOCAL_PORTS.temporal),
        '--ui-ip',
        '127.0.0.1',
        '--ui-port',
        String(LOCAL_PORTS.temporalUi),
        // The Web UI shows payloads decoded by the worker's codec server (README "Payload encryption").
        '--ui-codec-endpoint',
        localCodecEndpoint(),
        '--db-filename',
        join(dir, 'temporal.db'),
        // WAL with synchronous=NORMAL survives a crash of any process (an OS crash may lose the last commits);
        // it carries the crisis benchmark from 5 to 13 crises/s on two cores.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        // An activity scheduled by a workflow task goes straight back to the worker that completed it, without a
        // trip through matching and its own persisted start (off by default in this server version).
        '--dynamic-config-value',
        'system.enableActivityEagerExecution=true',
        '--namespace',
        'default',
        '--log-level',
        'warn',
      ]);
    },
    ready: async () =>
      (await portOpen(LOCAL_PORTS.temporal)) &&
      fetch(`http://127.0.0.1:${LOCAL_PORTS.temporalUi}/`).then(
        (r) => r.ok,
        () => false,
      ),
    stopSignal: 'SIGTERM',
  },
  postgres: {
    external: () => endpointsSetByOperator().postgres,
    port: LOCAL_PORTS.postgres,
    install: ensureDebianPackages,
    async start() {
      const dir = join(DATA_DIR, 'postgres');
      if (!existsSync(join(dir, 'PG_VERSION'))) {
        log('initialising the PostgreSQL data directory...');
        ensureDir(dir);
        const pwfile = join(DATA_DIR, 'run', 'pg-admin-password');
        writeFileSync(pwfile, POSTGRES_ADMIN.password, { mode: 0o600 });
        const [cmd, args] = asPostgresUser(join(POSTGRES_BIN, 'initdb'), [
          '-D',
          dir,
          '-U',
          POSTGRES_ADMIN.user,
          `--pwfile=${pwfile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C.UTF-8',
        ]);
        run(cmd, args);
      }
      const [cmd, args] = asPostgresUser(join(POSTGRES_BIN, 'postgres'), [
        '-D',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-p',
        String(LOCAL_PORTS.postgres),
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // seed 002 Issue 1's slow-query check (pg_stat_statements); docker-compose.yml's postgres loads it the same way.
        '-c',
        'shared_preload_libraries=pg_stat_statements',
      ]);
      return spawnService('postgres', cmd, args);
    },
    ready: () => portOpen(LOCAL_PORTS.postgres),
    stopSignal: 'SIGINT', // fast shutdown: roll back open transactions, checkpoint, exit
    leaderOnly: true,
  },
  redis: {
    external: () => endpointsSetByOperator().redis,
    port: LOCAL_PORTS.redis,
    install: ensureDebianPackages,
    async start() {
      const dir = ensureDir(join(DATA_DIR, 'redis'));
      return spawnService('redis', 'redis-server', [
        '--bind',
        '127.0.0.1',
        '--port',
        String(LOCAL_PORTS.redis),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
      ]);
    },
    ready: () => portOpen(LOCAL_PORTS.redis),
    stopSignal: 'SIGTERM', // redis writes its append-only file and exits
  },
  s3: {
    external: () => endpointsSetByOperator().s3,
    port: LOCAL_PORTS.s3,
    install: ensureMinio,
    async start() {
      const dir = ensureDir(join(DATA_DIR, 's3'));
      const address = `127.0.0.1:${LOCAL_PORTS.s3}`;
      return spawnService(
        's3',
        await ensureMinio(),
        ['server', dir, '--address', address, '--console-address', `127.0.0.1:${LOCAL_PORTS.s3Console}`, '--quiet'],
        {
          env: {
            ...process.env,
            MINIO_ROOT_USER: LOCAL_CREDENTIALS.s3AccessKeyId,
            MINIO_ROOT_PASSWORD: LOCAL_CREDENTIALS.s3SecretAccessKey,
            MINIO_UPDATE: 'off',
            MINIO_CALLHOME_ENABLE: 'off',
          },
        },
      );
    },
    ready: () =>
      fetch(`http://127.0.0.1:${LOCAL_PORTS.s3}/minio/health/live`).then(
        (r) => r.ok,
        () => false,
      ),
    stopSignal: 'SIGTERM',
  },
  etcd: {
    external: () => endpointsSetByOperator().kubernetes,
    port: LOCAL_PORTS.etcd,
    install: ensureEtcd,
    start: async () => spawnService('etcd', await ensureEtcd(), etcdArgs(ensureDir(join(DATA_DIR, 'etcd')))),
    ready: () =>
      fetch(`http://127.0.0.1:${LOCAL_PORTS.etcd}/health`).then(
        async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true',
        () => false,
      ),
    stopSignal: 'SIGTERM',
  },
  kubernetes: {
    external: () => endpointsSetByOperator().kubernetes,
    port: LOCAL_PORTS.kubeApiserver,
    install: ensureKubeApiserver,
    after: ['etcd'],
    async start() {
      prepareKubeFiles();
      return spawnService('kubernetes', await ensureKubeApiserver(), kubeApiserverArgs());
    },
    ready: kubeApiserverReady,
    whenReady: async () => {
      writeLocalKubeconfig();
      await seedLocalCluster();
    },
    stopSignal: 'SIGTERM',
  },
  // Monitoring is the project's own: it scrapes the worker and the local services wherever the rest runs.
  prometheus: {
    external: () => false,
    port: LOCAL_PORTS.prometheus,
    install: ensurePrometheus,
    after: ['alertmanager'],
    async start() {
      const { prometheus } = writeMonitoringConfig();
      const data = ensureDir(join(DATA_DIR, 'prometheus'));
      return spawnService('prometheus', await ensurePrometheus(), prometheusArgs(prometheus, data));
    },
    ready: () =>
      fetch(`http://127.0.0.1:${LOCAL_PORTS.prometheus}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    stopSignal: 'SIGTERM',
  },
  alertmanager: {
    external: () => false,
    port: LOCAL_PORTS.alertmanager,
    install: ensureAlertmanager,
    async start() {
      const { alertmanager } = writeMonitoringConfig();
      const data = ensureDir(join(DATA_DIR, 'alertmanager'));
      return spawnService('alertmanager', await ensureAlertmanager(), alertmanagerArgs(alertmanager, data));
    },
    ready: () =>
      fetch(`http://127.0.0.1:${LOCAL_PORTS.alertmanager}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    stopSignal: 'SIGTERM',
  },
};

export interface StackState {
  /** Services this call started (and so the caller stops), each listed the moment it is spawned. */
  started: ServiceName[];
  /** Services already running from an earlier start, reused. */
  reused: ServiceName[];
  /** Services the operator configured elsewhere. */
  external: ServiceName[];
}

export const emptyStackState = (): StackState => ({ started: [], reused: [], external: [] });

/**
 * Installs what is missing, then starts every local service not already running; waits until each answers.
 * `state` fills in as services start, so a caller whose start-up fails or is interrupted knows what to stop.
 * Also writes the stack's settings to .data/local-stack.json for the commands run in other shells.
 */
export async function stackUp(state: StackState = emptyStackState()): Promise<StackState> {
  writeLocalStackFile(localStackSettings());
  const local = SERVICE_NAMES.filter((name) => {
    if (services[name].external()) {
      state.external.push(name);
      return false;
    }
    return true;
  });
  const timeoutMs = 120_000;
  if (process.env.AIOPS_STACK === 'compose') {
    // docker compose runs the services on the same ports; wait for them instead of starting our own.
    // The API server container reads the keys and token file we keep under .data/kubernetes.
    if (local.includes('kubernetes')) prepareKubeFiles();
    await settleAll(
      local.map(async (name) => {
        await waitFor(name, services[name].ready, { timeoutMs });
        await services[name].whenReady?.();
      }),
    );
    state.reused.push(...local);
    return state;
  }
  for (const name of local) await services[name].install();
  const up = new Map<ServiceName, Promise<void>>();
  const bringUp = async (name: ServiceName) => {
    const svc = services[name];
    await Promise.all((svc.after ?? []).filter((dep) => up.has(dep)).map((dep) => up.get(dep)));
    throwIfInterrupted();
    const existing = runningPid(name);
    if (existing !== undefined) {
      state.reused.push(name);
      await waitFor(name, svc.ready, { timeoutMs, pid: existing });
    } else {
      if (await portOpen(svc.port)) {
        throw new Error(
          `port ${svc.port} on 127.0.0.1 is taken by a process this project did not start; stop it, or point ${envVarOf(name)} at it`,
        );
      }
      const pid = await svc.start();
      state.started.push(name);
      await waitFor(name, svc.ready, { timeoutMs, pid });
      log(`${name} is up on 127.0.0.1:${svc.port} (pid ${pid})`);
    }
    await svc.whenReady?.();
  };
  for (const name of local) up.set(name, bringUp(name));
  await settleAll([...up.values()]);
  return state;
}

/**
 * Like Promise.all, but returns (or throws the first error) only once every one has settled: a service still
 * starting when another failed must be in the state before the caller stops what was started.
 */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  // After an interrupt the other failures are its echoes: report the interrupt.
  if (failures.length > 0) throw failures.find((e) => e instanceof Interrupted) ?? failures[0];
}

function envVarOf(name: ServiceName): string {
  const variables: Record<ServiceName, string> = {
    temporal: 'TEMPORAL_ADDRESS',
    postgres: 'DATABASE_URL',
    redis: 'REDIS_URL',
    s3: 'S3_ENDPOINT',
    kubernetes: 'KUBECONFIG',
    etcd: 'KUBECONFIG',
    prometheus: 'PROMETHEUS_PATH',
    alertmanager: 'ALERTMANAGER_PATH',
  };
  return variables[name];
}

/** Stops the named services (default: every one we have a pid file for), dependants first. */
export async function stackDown(names: ServiceName[] = SERVICE_NAMES): Promise<void> {
  for (const name of SERVICE_NAMES.filter((n) => names.includes(n))) {
    const pid = runningPid(name);
    if (pid === undefined) continue;
    const svc = services[name];
    await stopPid(pid, svc.stopSignal, 30_000, !svc.leaderOnly);
    forgetService(name);
    log(`${name} stopped`);
  }
}

export async function stackStatus(): Promise<Record<ServiceName, string>> {
  const out = {} as Record<ServiceName, string>;
  for (const name of SERVICE_NAMES) {
    const ext = services[name].external();
    if (ext) {
      out[name] = `external (${envVarOf(name)})`;
      continue;
    }
    const pid = runningPid(name);
    out[name] =
      pid === undefined ? 'stopped' : (await services[name].ready()) ? `running (pid ${pid})` : `starting (pid ${pid})`;
  }
  return out;
}
