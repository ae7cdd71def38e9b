import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, endpointsSetByOperator, LOCAL_PORTS, loadConfig, redactConfig } from '../src/config';

const ROOT = join(__dirname, '..', '..');

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems.map((p) => p.variable);
  }
  assert.fail('configuration was accepted');
}

describe('configuration', () => {
  it('defaults to the local stack with the operator-facing names', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.taskQueue, 'aiops-runbooks');
    assert.equal(config.temporal.address, '127.0.0.1:7233');
    assert.match(config.postgres.url, /127\.0\.0\.1:25432/);
    assert.equal(config.kubernetes.kubeconfig, undefined);
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
    assert.deepEqual(loadConfig({ WEDSYNC_HEALTH_URLS: 'http://a/h, http://b/h' }).wedsync.healthUrls, [
      'http://a/h',
      'http://b/h',
    ]);
  });

  it('reads a JSON config file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ K8S_AI_NAMESPACE: 'from-file', S3_BUCKET_MODELS: 'models-from-file' }));
    const config = loadConfig({ AIOPS_CONFIG_FILE: file, S3_BUCKET_MODELS: 'models-from-env' });
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
      wedsyncApi: false,
    });
    assert.deepEqual(Object.values(endpointsSetByOperator({})), [false, false, false, false, false, false]);
  });

  it('counts a cluster as configured by KUBECONFIG or in-cluster credentials, not by K8S_IN_CLUSTER=false', () => {
    assert.equal(endpointsSetByOperator({ KUBECONFIG: '/home/ops/.kube/config' }).kubernetes, true);
    assert.equal(endpointsSetByOperator({ K8S_IN_CLUSTER: 'true' }).kubernetes, true);
    assert.equal(endpointsSetByOperator({ K8S_IN_CLUSTER: 'false' }).kubernetes, false);
  });

  it('reads the Kubernetes targets as lists of names and refuses a name the API would refuse', () => {
    const config = loadConfig({ K8S_DEPLOYMENTS: 'ai-optimization-engine, gateway', K8S_CONFIGMAPS: 'ai-model-config' });
    assert.deepEqual(config.kubernetes.targets.deployments, ['ai-optimization-engine', 'gateway']);
    assert.throws(() => loadConfig({ K8S_DEPLOYMENTS: 'ai-engine,Bad_Name' }), /K8S_DEPLOYMENTS: "Bad_Name" is not a lowercase DNS label/);
    assert.throws(() => loadConfig({ MODEL_MIN_ACCURACY: '1.5' }), /MODEL_MIN_ACCURACY: must be from 0 to 1/);
  });

  it('masks secrets when the configuration is printed', () => {
    const safe = JSON.stringify(redactConfig(loadConfig({ WEDSYNC_API_TOKEN: 'tok-123' })));
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
});
