import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, redactConfig } from '../../src/config';
import {
  endpointsSetByOperator,
  LOCAL_KUBECONFIG,
  LOCAL_PORTS,
  localStackSettings,
  withLocalStack,
} from '../../scripts/lib/local-stack';

const ROOT = join(__dirname, '..', '..', '..');

/** `env` on top of the local stack's settings, as npm start and npm test give them to the worker and the tests. */
const local = (env: NodeJS.ProcessEnv) => withLocalStack(env);

function problems(env: NodeJS.ProcessEnv, { withoutLocalStack = false } = {}): string[] {
  try {
    loadConfig(withoutLocalStack ? env : local(env));
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems.map((p) => p.variable);
  }
  assert.fail('configuration was accepted');
}

describe('configuration', () => {
  it('takes from the local stack every endpoint and credential the operator did not set', () => {
    const config = loadConfig(local({}));
    assert.equal(config.temporal.taskQueue, 'aiops-runbooks');
    assert.equal(config.temporal.address, `127.0.0.1:${LOCAL_PORTS.temporal}`);
    assert.match(config.postgres.url, new RegExp(`127\\.0\\.0\\.1:${LOCAL_PORTS.postgres}/`));
    assert.equal(config.kubernetes.kubeconfig, LOCAL_KUBECONFIG);
    assert.equal(config.roster.find((p) => p.roles.includes('on-call'))?.id, 'oncall');
  });

  it('has no endpoint, credential or roster of its own: with nothing set it names each one missing', () => {
    const missing = problems({}, { withoutLocalStack: true });
    for (const variable of [
      'TEMPORAL_ADDRESS',
      'DATABASE_URL',
      'REDIS_URL',
      'S3_ENDPOINT',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'WEDSYNC_HEALTH_URLS',
      'SLACK_WEBHOOK_URL',
      'PAGERDUTY_ROUTING_KEY',
      'AIOPS_ROSTER',
    ]) {
      assert.ok(missing.includes(variable), `${variable} is not reported missing: ${missing.join(', ')}`);
    }
    // What suits every deployment keeps its default.
    for (const variable of [
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_TASK_QUEUE',
      'S3_BUCKET_MODELS',
      'BUSINESS_HOURS',
      'K8S_AI_NAMESPACE',
    ]) {
      assert.ok(!missing.includes(variable), `${variable} has no default`);
    }
    assert.throws(() => loadConfig({}), /DATABASE_URL: not set \(required\)/);
  });

  it('lets what the operator set win over the local stack, in the environment or the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        REDIS_URL: 'redis://cache.internal:6379/2',
        AIOPS_ROSTER: [{ id: 'ops', name: 'Ops', roles: ['on-call'] }],
      }),
    );
    const config = loadConfig(
      local({ AIOPS_CONFIG_FILE: file, DATABASE_URL: 'postgres://app:pw@db.internal:5432/ai' }),
    );
    assert.equal(config.postgres.url, 'postgres://app:pw@db.internal:5432/ai');
    assert.equal(config.redis.url, 'redis://cache.internal:6379/2');
    assert.deepEqual(
      config.roster.map((p) => p.id),
      ['ops'],
    );
    assert.equal(config.s3.endpoint, `http://127.0.0.1:${LOCAL_PORTS.s3}`);
    // A server the operator replaced gets none of the local one's settings, not even its credentials.
    const settings = localStackSettings({ S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' });
    assert.equal(settings.S3_ENDPOINT, undefined);
    assert.equal(settings.S3_SECRET_ACCESS_KEY, undefined);
  });

  it('gives the operator commands the settings a start wrote, under what their own shell sets', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aiops-data-'));
    const printConfig = (extra: NodeJS.ProcessEnv) =>
      spawnSync(
        process.execPath,
        [
          '-r',
          join(ROOT, 'dist', 'scripts', 'use-local-stack.js'),
          '-e',
          `const c = require(${JSON.stringify(join(ROOT, 'dist', 'src', 'config'))}).loadConfigOrExit();` +
            'console.log(JSON.stringify({ db: c.postgres.url, redis: c.redis.url }))',
        ],
        { env: { PATH: process.env.PATH, AIOPS_DATA_DIR: dataDir, ...extra }, encoding: 'utf8', timeout: 30_000 },
      );
    const before = printConfig({});
    assert.equal(before.status, 78, before.stderr);
    assert.match(before.stderr, /DATABASE_URL: not set/);

    const settings = localStackSettings({});
    writeFileSync(
      join(dataDir, 'local-stack.json'),
      JSON.stringify({ ...settings, AIOPS_ROSTER: JSON.parse(settings.AIOPS_ROSTER) }),
    );
    const after = printConfig({ REDIS_URL: 'redis://elsewhere:6379/0' });
    assert.equal(after.status, 0, after.stderr);
    assert.deepEqual(JSON.parse(after.stdout), { db: settings.DATABASE_URL, redis: 'redis://elsewhere:6379/0' });
  });

  it('keeps the local stack ports out of the ephemeral range client connections draw from', () => {
    // A port in that range can be held by a client socket in TIME_WAIT, and the service then cannot bind it.
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const inside = Object.entries(LOCAL_PORTS).filter(([, port]) => port >= range[0] && port <= range[1]);
    assert.deepEqual(inside, [], `ephemeral range ${range.join('-')}`);
  });

  it('names the variable of a malformed URL', () => {
    assert.deepEqual(problems({ DATABASE_URL: 'mysql://x@y/z' }), ['DATABASE_URL']);
    assert.deepEqual(problems({ REDIS_URL: 'not a url' }), ['REDIS_URL']);
  });

  it('names every bad variable at once', () => {
    const bad = problems({ TEMPORAL_ADDRESS: 'localhost', HTTP_TIMEOUT_MS: '-5', K8S_AI_NAMESPACE: 'AI_Services' });
    assert.deepEqual(bad.sort(), ['HTTP_TIMEOUT_MS', 'K8S_AI_NAMESPACE', 'TEMPORAL_ADDRESS']);
  });

  it('treats an empty value as missing', () => {
    assert.deepEqual(problems({ S3_BUCKET_BACKUPS: '' }), ['S3_BUCKET_BACKUPS']);
  });

  it('rejects a non-http URL in the health endpoint list', () => {
    assert.deepEqual(problems({ WEDSYNC_HEALTH_URLS: 'http://a/ai/health,ftp://b/health' }), ['WEDSYNC_HEALTH_URLS']);
    assert.deepEqual(loadConfig(local({ WEDSYNC_HEALTH_URLS: 'http://a/h, http://b/h' })).wedsync.healthUrls, [
      'http://a/h',
      'http://b/h',
    ]);
  });

  it('reads a JSON config file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ K8S_AI_NAMESPACE: 'from-file', S3_BUCKET_MODELS: 'models-from-file' }));
    const config = loadConfig(local({ AIOPS_CONFIG_FILE: file, S3_BUCKET_MODELS: 'models-from-env' }));
    assert.equal(config.kubernetes.aiNamespace, 'from-file');
    assert.equal(config.s3.buckets.models, 'models-from-env');
  });

  it('names an unknown key in the config file and an unreadable file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ DATABSE_URL: 'postgres://typo' }));
    assert.deepEqual(problems({ AIOPS_CONFIG_FILE: file }), ['DATABSE_URL']);
    assert.deepEqual(problems({ AIOPS_CONFIG_FILE: join(dir, 'missing.json') }), ['AIOPS_CONFIG_FILE']);
  });

  it('counts an endpoint set in the config file as set by the operator, so no local server replaces it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ DATABASE_URL: 'postgres://app:pw@db.internal:5432/ai' }));
    assert.deepEqual(endpointsSetByOperator({ AIOPS_CONFIG_FILE: file, REDIS_URL: 'redis://cache:6379/0' }), {
      temporal: false,
      postgres: true,
      redis: true,
      s3: false,
      kubernetes: false,
    });
    assert.deepEqual(Object.values(endpointsSetByOperator({})), [false, false, false, false, false]);
  });

  it('counts a cluster as configured by KUBECONFIG or in-cluster credentials, not by K8S_IN_CLUSTER=false', () => {
    assert.equal(endpointsSetByOperator({ KUBECONFIG: '/home/ops/.kube/config' }).kubernetes, true);
    assert.equal(endpointsSetByOperator({ K8S_IN_CLUSTER: 'true' }).kubernetes, true);
    assert.equal(endpointsSetByOperator({ K8S_IN_CLUSTER: 'false' }).kubernetes, false);
  });

  it('reads the Kubernetes targets as lists of names and refuses a name the API would refuse', () => {
    const config = loadConfig(
      local({ K8S_DEPLOYMENTS: 'ai-optimization-engine, gateway', K8S_CONFIGMAPS: 'ai-model-config' }),
    );
    assert.deepEqual(config.kubernetes.targets.deployments, ['ai-optimization-engine', 'gateway']);
    assert.throws(
      () => loadConfig(local({ K8S_DEPLOYMENTS: 'ai-engine,Bad_Name' })),
      /K8S_DEPLOYMENTS: "Bad_Name" is not a lowercase DNS label/,
    );
    assert.throws(() => loadConfig(local({ MODEL_MIN_ACCURACY: '1.5' })), /MODEL_MIN_ACCURACY: must be from 0 to 1/);
  });

  it('masks secrets when the configuration is printed', () => {
    const safe = JSON.stringify(redactConfig(loadConfig(local({ WEDSYNC_API_TOKEN: 'tok-123' }))));
    assert.ok(!safe.includes('aiops-local'), safe);
    assert.ok(!safe.includes('tok-123'), safe);
  });

  it('stops the worker process with a message naming the variable', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      env: { ...process.env, REDIS_URL: 'http://wrong-scheme', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 78, result.stderr);
    assert.match(result.stderr, /REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//);
  });

  it('stops a worker with no settings naming what is missing, instead of using the demo credentials', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'workers', 'main.js')], {
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 78, result.stderr);
    assert.match(result.stderr, /DATABASE_URL: not set \(required\)/);
    assert.match(result.stderr, /S3_SECRET_ACCESS_KEY: not set \(required\)/);
    assert.ok(!result.stderr.includes('aiops-local'), result.stderr);
  });
});
