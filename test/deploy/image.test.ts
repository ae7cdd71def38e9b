import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { givenSettings, loadConfig } from '../../src/config';
import { BACKUP_WORKER_NODE_FLAGS } from '../../src/workers/backup-worker';
import { SHUTDOWN_MARGIN_SECONDS } from '../../src/workers/shutdown';
import { DEBIAN_PACKAGES, NODE_RUNTIME, POSTGRES_BIN, POSTGRES_MAJOR } from '../../scripts/lib/tools';
import { aptPackages, finalStage, instructions, parseCopy, parseDockerfile, ROOT, stageEnv } from './dockerfile';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const IMAGE = `aiops-runbooks-worker:${pkg.version}`;
/** The PostgreSQL client as the native stack pins it (scripts/lib/tools.ts). */
const PG_CLIENT = DEBIAN_PACKAGES.postgres.find((p) => p.startsWith('postgresql-client-'))!;
/** What the runtime stage installs: the backups' pg_dump and pg_restore, and the zstd their dumps go through. */
const RUNTIME_PACKAGES = [PG_CLIENT, ...DEBIAN_PACKAGES.zstd];
const stages = parseDockerfile();
const runtime = finalStage(stages);

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  image: string;
  command?: string[];
  env?: { name: string; value: string }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsUser: number; runAsNonRoot: boolean };
  automountServiceAccountToken?: boolean;
  containers: Container[];
}
const podSpecOf = (file: string) =>
  (
    parseAllDocuments(readFileSync(join(ROOT, 'k8s', file), 'utf8'))
      .map((d) => d.toJS())
      .find((o) => o.kind === 'Deployment') as { spec: { template: { spec: PodSpec } } }
  ).spec.template.spec;
const podSpec = podSpecOf('worker-deployment.yaml');
const container = podSpec.containers[0];
/**
 * A worker's configuration in its pod: where each system is comes from the operator's settings (here, the test
 * stack's), then the image's ENV, then the container's env over it.
 */
const podConfig = (of: Container = container) =>
  loadConfig({
    ...givenSettings(process.env),
    ...stageEnv(runtime),
    ...Object.fromEntries((of.env ?? []).map((e) => [e.name, e.value])),
  });

describe('the worker image', () => {
  it(`is named ${IMAGE} (package.json's version) in k8s/, docker-compose.yml and the README alike`, () => {
    const files = [
      ...readdirSync(join(ROOT, 'k8s')).map((f) => join('k8s', f)),
      'docker-compose.yml',
      'README.md',
      'Dockerfile',
    ];
    const named = new Map<string, string[]>();
    for (const file of files) {
      for (const [ref] of readFileSync(join(ROOT, file), 'utf8').matchAll(/aiops-runbooks-worker:[\w.-]*\w/g)) {
        named.set(file, [...(named.get(file) ?? []), ref]);
      }
    }
    for (const file of ['k8s/worker-deployment.yaml', 'docker-compose.yml', 'README.md']) {
      assert.ok(named.get(file)?.length, `${file} does not name the image`);
    }
    for (const [file, refs] of named) {
      for (const ref of refs) assert.equal(ref, IMAGE, `${file} names ${ref}`);
    }
    assert.equal(container.image, IMAGE);
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string; build?: string }>;
    };
    assert.equal(compose.services.worker.image, IMAGE);
    assert.equal(compose.services.worker.build, '.');
  });

  it(`builds and runs on the pinned Node ${NODE_RUNTIME.version}, on Debian (the core bridge has glibc builds only)`, () => {
    for (const stage of stages)
      assert.equal(stage.from, `node:${NODE_RUNTIME.version}-bookworm-slim`, `stage ${stage.name}`);
  });

  it('runs as a non-root user by number, the one the Deployment requires', () => {
    const [user] = instructions(runtime, 'USER').map((i) => i.args.split(':')[0]);
    assert.match(user ?? '', /^\d+$/, 'USER must be numeric for runAsNonRoot to verify it');
    assert.notEqual(Number(user), 0);
    assert.equal(podSpec.securityContext.runAsNonRoot, true);
    assert.equal(podSpec.securityContext.runAsUser, Number(user));
  });

  it('ships only build output and production dependencies, installed without a compiler', () => {
    const copies = instructions(runtime, 'COPY').map((i) => parseCopy(i.args));
    assert.deepEqual(
      copies.filter((c) => c.from === undefined),
      [],
      'the runtime stage copies nothing from the sources',
    );
    const deps = stages.find((s) => s.name === copies.find((c) => c.sources.includes('/app/node_modules'))?.from);
    assert.ok(deps, 'node_modules comes from a stage of its own');
    assert.match(
      instructions(deps, 'RUN')
        .map((i) => i.args)
        .join('\n'),
      /npm ci --omit=dev/,
    );
    const runs = instructions(runtime, 'RUN');
    assert.deepEqual(
      runs.map((r) => aptPackages(r.args)),
      [RUNTIME_PACKAGES],
      'nothing is built in the runtime stage, and the only things installed are the PostgreSQL client and zstd',
    );
    assert.deepEqual(JSON.parse(instructions(runtime, 'CMD')[0].args), ['node', 'dist/src/workers/main.js']);
  });

  it(`has pg_dump and pg_restore of PostgreSQL ${POSTGRES_MAJOR}, the major of the stack and docker-compose.yml, pinned`, () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string }>;
    };
    assert.equal(compose.services.postgres.image, `postgres:${POSTGRES_MAJOR}`);
    const run = instructions(runtime, 'RUN').find((r) => aptPackages(r.args)?.length);
    assert.ok(run, 'the runtime stage installs the PostgreSQL client (the backups run pg_dump and pg_restore)');
    // The major pinned as the native stack pins it: a new major in the image is a decision, not an apt upgrade.
    assert.deepEqual(aptPackages(run.args), RUNTIME_PACKAGES);
    assert.equal(PG_CLIENT, `postgresql-client-${POSTGRES_MAJOR}=${POSTGRES_MAJOR}.*`);
    assert.match(run.args, /^apt-get update && apt-get install -y --no-install-recommends /);
    assert.match(run.args, /&& rm -rf \/var\/lib\/apt\/lists\/\*$/, "apt's lists do not stay in the layer");
    // Installed as root, before the image drops to its user.
    const order = runtime.instructions.map((i) => i.op);
    assert.ok(order.indexOf('RUN') < order.indexOf('USER'), 'the client is installed before USER');
    // The activities find the tools where Debian's package puts them: POSTGRES_BIN_DIR unset, or set to that place.
    const set = { ...stageEnv(runtime), ...Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value])) };
    const binDir = set.POSTGRES_BIN_DIR;
    assert.ok(binDir === undefined || binDir === POSTGRES_BIN, `the image sets POSTGRES_BIN_DIR=${binDir}`);
    assert.equal(POSTGRES_BIN, `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`);
  });
});

const portOf = (of: Container, probe?: Probe) => {
  const p = probe?.httpGet.port;
  return typeof p === 'number' ? p : (of.ports ?? []).find((named) => named.name === p)?.containerPort;
};

describe('k8s/worker-deployment.yaml and the worker', () => {
  it('probes /readyz and /livez on the port the worker listens on in the image', () => {
    const { port, host } = podConfig().worker.health;
    assert.equal(host, '0.0.0.0', 'the kubelet probes the pod address, not loopback');
    assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet.path, '/livez');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      assert.equal(portOf(container, probe), port);
    }
  });

  it('gives the worker the time it takes to stop after SIGTERM', () => {
    const grace = podConfig().worker.shutdownGraceSeconds;
    assert.ok(grace > 0, 'running activities get time to finish');
    assert.ok(
      grace + SHUTDOWN_MARGIN_SECONDS <= podSpec.terminationGracePeriodSeconds,
      `shutdown grace ${grace}s + ${SHUTDOWN_MARGIN_SECONDS}s must fit in terminationGracePeriodSeconds ${podSpec.terminationGracePeriodSeconds}`,
    );
  });
});

describe('the backup worker in k8s/backup-worker-deployment.yaml, docker-compose.yml and package.json', () => {
  const backupPod = podSpecOf('backup-worker-deployment.yaml');
  const backup = backupPod.containers[0];
  const entry = 'dist/src/workers/backup-main.js';

  it("runs the image's backup worker entry with its node flags everywhere it is started", () => {
    const command = ['node', ...BACKUP_WORKER_NODE_FLAGS, entry];
    assert.equal(backup.image, IMAGE);
    assert.deepEqual(backup.command, command);
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
    };
    assert.deepEqual(compose.services['backup-worker'].command, command);
    assert.deepEqual(compose.services['backup-worker'].environment, compose.services.worker.environment);
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts['backup-worker'];
    for (const flag of BACKUP_WORKER_NODE_FLAGS)
      assert.ok(script.includes(` ${flag} `), `npm run backup-worker: ${flag}`);
    assert.ok(script.endsWith(entry), script);
  });

  it("probes the backup worker's endpoints, stops in time and holds no Kubernetes credentials", () => {
    const { port } = podConfig(backup).worker.health;
    assert.equal(backup.readinessProbe?.httpGet.path, '/readyz');
    assert.equal(backup.livenessProbe?.httpGet.path, '/livez');
    for (const probe of [backup.readinessProbe, backup.livenessProbe, backup.startupProbe]) {
      assert.equal(portOf(backup, probe), port);
    }
    const grace = podConfig(backup).worker.shutdownGraceSeconds;
    assert.ok(grace + SHUTDOWN_MARGIN_SECONDS <= backupPod.terminationGracePeriodSeconds);
    assert.equal(backupPod.automountServiceAccountToken, false);
    assert.equal(backupPod.securityContext.runAsNonRoot, true);
  });
});
