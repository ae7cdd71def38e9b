/**
 * Installs the stack's tools on first use and reuses them after: Go builds and Maven classpaths are cached in
 * the user cache directory by version, Debian packages are installed pinned. Every version is pinned here.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, ensureDir, ROOT, TOOLS_BIN } from './paths';
import { log, run, runInterruptible, which } from './processes';

/** The newest Temporal CLI release whose go.mod has no replace directive, which `go install` requires. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
/** MinIO publishes no semver tags to the module proxy; this pseudo-version is the pinned build. */
export const MINIO_MODULE = 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c';
export const POSTGRES_MAJOR = 15;
/** Prometheus 3.16 (module versions are 0.3xx); its API works from `go install`, its web UI is not embedded. */
export const PROMETHEUS_MODULE = 'github.com/prometheus/prometheus/cmd/prometheus@v0.316.0';
export const PROMTOOL_MODULE = 'github.com/prometheus/prometheus/cmd/promtool@v0.316.0';
/** The newest Alertmanager whose module still ships its generated UI assets, which `go install` needs. */
export const ALERTMANAGER_MODULE = 'github.com/prometheus/alertmanager/cmd/alertmanager@v0.28.1';

/**
 * Node 24 LTS, the runtime everything runs on (package.json `engines`, the Dockerfile's base image). Where the
 * machine's node is not a 24, the entry scripts run on this release, from the npm registry's `node-<os>-<cpu>`
 * package (the official binary), checked against the integrity pinned here.
 */
export const NODE_RUNTIME = {
  version: '24.21.0',
  /** The first Node 24 LTS release: a machine's own node from here up to 25 is used as it is. */
  minimum: '24.11.0',
  integrity: {
    'linux-x64': 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    'linux-arm64': 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
  } as Record<string, string>,
};
/** Debian bookworm's packages; the glob accepts its security updates of the same upstream release. */
export const DEBIAN_PACKAGES = {
  redis: ['redis-server=5:7.0.15-1~deb12u*', 'redis-tools=5:7.0.15-1~deb12u*'],
  postgres: [`postgresql-${POSTGRES_MAJOR}=15.*`, `postgresql-client-${POSTGRES_MAJOR}=15.*`],
  // The database backup pipes pg_dump into it.
  zstd: ['zstd=1.5.4+dfsg2-5'],
};

function linkIntoTools(name: string, target: string): string {
  ensureDir(TOOLS_BIN);
  const link = join(TOOLS_BIN, name);
  rmSync(link, { force: true });
  symlinkSync(target, link);
  return link;
}

/** `go install` into a per-version folder of the user cache, once. */
async function goInstall(moduleAtVersion: string, binary: string): Promise<string> {
  const version = moduleAtVersion.split('@')[1];
  const dir = join(CACHE_DIR, 'bin', `${binary}-${version}`);
  const path = join(dir, binary);
  if (!existsSync(path)) {
    if (!which('go')) throw new Error(`${binary} is not installed and there is no Go toolchain to build it`);
    log(`building ${moduleAtVersion} with go install (first run only; a few minutes)...`);
    await runInterruptible('go', ['install', moduleAtVersion], {
      env: { ...process.env, GOBIN: ensureDir(dir), CGO_ENABLED: '0' },
    });
  }
  return path;
}

/**
 * `go install` of a command from one of our wrapper modules under tools/ (for upstream modules whose go.mod
 * has replace directives), into a per-version folder of the user cache, once. The version is the one the
 * wrapper's go.mod requires, so changing the pin there rebuilds.
 */
async function goInstallFromToolModule(
  tool: string,
  requiredModule: string,
  pkg: string,
  binary: string,
): Promise<string> {
  const moduleDir = join(ROOT, 'tools', tool);
  const goMod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const escaped = requiredModule.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const version = new RegExp(`^require ${escaped} (\\S+)$`, 'm').exec(goMod)?.[1];
  if (!version) throw new Error(`tools/${tool}/go.mod does not require ${requiredModule}`);
  const dir = join(CACHE_DIR, 'bin', `${tool}-${version}`);
  const path = join(dir, binary);
  if (!existsSync(path)) {
    if (!which('go')) throw new Error(`${tool} is not installed and there is no Go toolchain to build it`);
    log(`building ${tool} ${version} from tools/${tool} with go install (first run only; a few minutes)...`);
    await runInterruptible('go', ['install', pkg], {
      cwd: moduleDir,
      env: { ...process.env, GOBIN: ensureDir(dir), CGO_ENABLED: '0' },
    });
  }
  return path;
}

/** kube-apiserver, built from k8s.io/kubernetes through tools/kube-apiserver. KUBE_APISERVER_PATH overrides it. */
export async function ensureKubeApiserver(): Promise<string> {
  const fromEnv = process.env.KUBE_APISERVER_PATH;
  if (fromEnv) return fromEnv;
  const built = await goInstallFromToolModule(
    'kube-apiserver',
    'k8s.io/kubernetes',
    'k8s.io/kubernetes/cmd/kube-apiserver',
    'kube-apiserver',
  );
  return linkIntoTools('kube-apiserver', built);
}

/** etcd, built from go.etcd.io/etcd/server/v3 through tools/etcd (its command is named `server`). ETCD_PATH overrides it. */
export async function ensureEtcd(): Promise<string> {
  const fromEnv = process.env.ETCD_PATH;
  if (fromEnv) return fromEnv;
  return linkIntoTools(
    'etcd',
    await goInstallFromToolModule('etcd', 'go.etcd.io/etcd/server/v3', 'go.etcd.io/etcd/server/v3', 'server'),
  );
}

/** Whether a node version (without the v) is a supported runtime: at least NODE_RUNTIME.minimum, below 25. */
export function isSupportedNode(version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number);
  const [minMajor, minMinor, minPatch] = NODE_RUNTIME.minimum.split('.').map(Number);
  return major === minMajor && (minor > minMinor || (minor === minMinor && patch >= minPatch));
}

/**
 * The node binary to run on: this process's own if it is a supported one, else the pinned release, fetched once
 * with `npm pack` into the user cache. Progress goes to stderr: the shim reads the path from stdout.
 */
export function ensureNode(): string {
  if (isSupportedNode(process.versions.node)) return process.execPath;
  const { version } = NODE_RUNTIME;
  const platform = `${process.platform}-${process.arch}`;
  const integrity = NODE_RUNTIME.integrity[platform];
  if (!integrity) throw new Error(`no pinned Node ${version} for ${platform}: install Node ${version} and run with it`);
  const dir = join(CACHE_DIR, `node-${version}-${platform}`);
  const path = join(dir, 'bin', 'node');
  if (existsSync(path)) return path;
  process.stderr.write(
    `[aiops] installing Node ${version} (node-${platform} from the npm registry; first run only)...\n`,
  );
  const work = mkdtempSync(join(ensureDir(CACHE_DIR), `.node-${version}-`));
  try {
    const packed = JSON.parse(
      run('npm', ['pack', `node-${platform}@${version}`, '--json', '--pack-destination', work], { cwd: work }),
    ) as { filename: string }[];
    const tarball = join(work, packed[0].filename);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (actual !== integrity) throw new Error(`node-${platform}@${version}: integrity ${actual}, pinned ${integrity}`);
    const unpacked = ensureDir(join(work, 'node'));
    run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
    const reported = run(join(unpacked, 'bin', 'node'), ['--version']).trim();
    if (reported !== `v${version}`) throw new Error(`node-${platform}@${version} reports ${reported}`);
    // Renamed into place whole, so a second start never sees a half-unpacked binary; one running at the same
    // time may have won the rename.
    try {
      renameSync(unpacked, dir);
    } catch (err) {
      if (!existsSync(path)) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return path;
}

/** TEMPORAL_CLI_PATH, else a `temporal` on PATH, else our pinned build. */
export async function ensureTemporalCli(): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH: no file at ${fromEnv}`);
    return fromEnv;
  }
  const onPath = which('temporal');
  if (onPath && !onPath.startsWith(TOOLS_BIN)) return onPath;
  return linkIntoTools('temporal', await goInstall(TEMPORAL_CLI_MODULE, 'temporal'));
}

export async function ensurePrometheus(): Promise<string> {
  return process.env.PROMETHEUS_PATH ?? linkIntoTools('prometheus', await goInstall(PROMETHEUS_MODULE, 'prometheus'));
}

export async function ensurePromtool(): Promise<string> {
  return process.env.PROMTOOL_PATH ?? linkIntoTools('promtool', await goInstall(PROMTOOL_MODULE, 'promtool'));
}

export async function ensureAlertmanager(): Promise<string> {
  return (
    process.env.ALERTMANAGER_PATH ?? linkIntoTools('alertmanager', await goInstall(ALERTMANAGER_MODULE, 'alertmanager'))
  );
}

export async function ensureMinio(): Promise<string> {
  const fromEnv = process.env.MINIO_PATH;
  if (fromEnv) return fromEnv;
  return linkIntoTools('minio', await goInstall(MINIO_MODULE, 'minio'));
}

/**
 * A wrapper script that runs the Temporal Java test server, for TestWorkflowEnvironment.createTimeSkipping as
 * an existing-path executable. Maven resolves the classpath once into the user cache.
 */
export async function ensureTimeSkippingServer(): Promise<string> {
  const pom = join(ROOT, 'tools', 'temporal-test-server', 'pom.xml');
  const version = /<temporal\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))?.[1];
  if (!version) throw new Error(`${pom} names no temporal.version`);
  const classpathFile = join(ensureDir(join(CACHE_DIR, `temporal-test-server-${version}`)), 'classpath.txt');
  const jarsPresent = () =>
    existsSync(classpathFile) &&
    readFileSync(classpathFile, 'utf8')
      .trim()
      .split(':')
      .every((jar) => existsSync(jar));
  if (!jarsPresent()) {
    if (!which('mvn')) throw new Error('the Temporal test server needs Maven (mvn) to fetch it');
    log(`fetching the Temporal Java test server ${version} with Maven (first run only)...`);
    await runInterruptible('mvn', [
      '-B',
      '-q',
      '-f',
      pom,
      'dependency:build-classpath',
      `-Dmdep.outputFile=${classpathFile}`,
    ]);
  }
  const wrapper = join(ensureDir(TOOLS_BIN), 'temporal-test-server');
  writeFileSync(
    wrapper,
    // The SDK gives the server five seconds to listen. C1 alone and the serial collector halve the JVM's start on
    // a loaded 2-core machine (measured: 1.5-3.2 s against 4.6-7.8 s at load 15-18); the server does too little
    // for C2's later speed to matter.
    `#!/bin/sh\n# Usage: temporal-test-server <port> [--enable-time-skipping]\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$(cat '${classpathFile}')" io.temporal.testserver.TestServer "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

export const POSTGRES_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;

/** PostgreSQL and Redis servers and the zstd command from Debian's packages, installed when missing. */
export async function ensureDebianPackages(): Promise<void> {
  const missing: string[] = [];
  if (!existsSync(join(POSTGRES_BIN, 'postgres'))) missing.push(...DEBIAN_PACKAGES.postgres);
  if (!which('redis-server') || !which('redis-cli')) missing.push(...DEBIAN_PACKAGES.redis);
  if (!which('zstd')) missing.push(...DEBIAN_PACKAGES.zstd);
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  if (!asRoot && !which('sudo')) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them as root with apt-get`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const apt = (args: string[]) =>
    runInterruptible(prefix[0] ?? 'apt-get', [...prefix.slice(1), ...(prefix.length ? ['apt-get'] : []), ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  await apt(['update', '-q']);
  await apt(['install', '-y', '-q', '--no-install-recommends', ...missing]);
}
