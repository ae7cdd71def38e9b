/**
 * A production worker never falls back to the local stack's demo endpoints and credentials: only `npm start` (and
 * the commands that preload scripts/use-local-stack.js) fill them in. Started without them, the worker stops at
 * once, naming each setting.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');
const WORKER = join(ROOT, 'dist', 'src', 'workers', 'main.js');

/** The test environment (the local stack's settings) without `missing`, as a worker in a pod would get it. */
function startWorkerWithout(missing: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
    WORKER_METRICS_ADDRESS: '127.0.0.1:0',
    ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
    CODEC_SERVER_ADDRESS: '127.0.0.1:0',
    AIOPS_CONFIG_FILE: undefined,
  };
  for (const name of missing) delete env[name];
  return spawnSync(process.execPath, [WORKER], { env, encoding: 'utf8', timeout: 60_000 });
}

describe('the worker started without a required setting', () => {
  const required = [
    'DATABASE_URL',
    'SLACK_WEBHOOK_URL',
    'PAGERDUTY_EVENTS_URL',
    'PAGERDUTY_ROUTING_KEY',
    'WEDSYNC_COUPLE_NOTIFY_URL',
    'WEDSYNC_EMERGENCY_ALERT_URL',
    'PAYLOAD_KEYS',
  ];

  it('exits 78 naming every missing setting, before connecting to anything', () => {
    const run = startWorkerWithout(required);
    assert.equal(run.status, 78, run.stderr);
    for (const name of required) assert.match(run.stderr, new RegExp(`^  ${name}: not set \\(required\\)$`, 'm'));
    assert.doesNotMatch(run.stdout, /worker polling/);
  });

  for (const name of ['DATABASE_URL', 'SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY']) {
    it(`exits non-zero without ${name} alone: no demo value stands in for it`, () => {
      const run = startWorkerWithout([name]);
      assert.equal(run.status, 78, run.stderr);
      assert.match(run.stderr, new RegExp(`${name}: not set \\(required\\)`));
      assert.doesNotMatch(run.stderr + run.stdout, /127\.0\.0\.1:\d+\/hooks\/slack|aiops-local/);
    });
  }
});
