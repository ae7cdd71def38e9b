/**
 * The `runbook` CLI as an operator uses it: the npm bin spawned against the stack, its output read and its exit
 * codes checked. Runs go to a task queue of this file's own, served by the real worker (all activities) in a child
 * process whose heartbeats reach the server within 100 ms, so `watch` can show a purge's progress.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Redis } from 'ioredis';
import * as workflows from '../../src/workflows';
import { SCHEDULES } from '../../src/schedules/table';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { jsonLines, runbookCli } from '../helpers/runbook-cli';
import { devServerEnv, sealingClient, uniqueId } from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';

const ROOT = join(__dirname, '..', '..', '..');

/** A port nothing listens on: taken from the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the runbook CLI', () => {
  let env: TestWorkflowEnvironment;
  let worker: ChildProcess;
  let redis: Redis;
  const taskQueue = uniqueId('runbook-cli');
  const redisUrl = redisUrlFor(REDIS_DB.cli);
  /** What every spawned command and the worker share: this file's task queue and Redis DB. */
  const settings = { TEMPORAL_TASK_QUEUE: taskQueue, REDIS_URL: redisUrl };
  const cli = (...args: string[]) => runbookCli(args, settings);
  const started: string[] = [];

  before(async () => {
    env = await devServerEnv();
    redis = new Redis(redisUrl);
    worker = spawn(process.execPath, [join(ROOT, 'dist', 'test', 'helpers', 'maintenance-worker.js')], {
      env: {
        ...process.env,
        ...settings,
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
      },
      stdio: 'ignore',
    });
  });
  after(async () => {
    for (const id of started) {
      await env.client.workflow
        .getHandle(id)
        .terminate('runbook CLI test over')
        .catch(() => undefined);
    }
    worker?.kill('SIGTERM');
    if (worker) await exited(worker, 60_000).catch(() => worker.kill('SIGKILL'));
    redis?.disconnect();
    await env?.teardown();
  });

  it('lists every workflow the worker runs, with the schedules of the table, as text and as JSON', async () => {
    const text = await cli('list');
    assert.equal(text.code, 0, text.stderr);
    for (const type of Object.keys(workflows)) assert.match(text.stdout, new RegExp(`^${type} `, 'm'));
    for (const s of SCHEDULES) assert.ok(text.stdout.includes(s.scheduleId), `${s.scheduleId} not listed`);

    const json = await cli('--json', 'list');
    assert.equal(json.code, 0, json.stderr);
    const rows = jsonLines(json.stdout) as { workflowType: string; schedules: { scheduleId: string }[] }[];
    assert.deepEqual(rows.map((r) => r.workflowType).sort(), Object.keys(workflows).sort());
    const backup = rows.find((r) => r.workflowType === 'databaseBackup');
    assert.deepEqual(
      backup?.schedules.map((s) => s.scheduleId),
      ['wedsync-database-backup'],
    );
  });

  it('refuses a start whose input its schema refuses, naming the field, and starts nothing', async () => {
    const workflowId = uniqueId('cli-bad-input');
    const bad = await cli('start', 'purgeCache', '--workflow-id', workflowId, '--input', '{"pattern":"*"}');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /pattern: "\*" has no literal prefix/);
    const badSeverity = await cli(
      'start',
      'incidentResponse',
      '--input',
      '{"severity":"P9","service":"x","summary":"y"}',
    );
    assert.equal(badSeverity.code, 2);
    assert.match(badSeverity.stderr, /severity: must be one of P0, P1, P2, P3/);
    await assert.rejects(env.client.workflow.getHandle(workflowId).describe(), WorkflowNotFoundError);

    const unknownRunbook = await cli('start', 'noSuchRunbook');
    assert.equal(unknownRunbook.code, 2);
    assert.match(unknownRunbook.stderr, /unknown runbook "noSuchRunbook"/);
    const noArgument = await cli('start');
    assert.equal(noArgument.code, 2);
    assert.match(noArgument.stderr, /missing required argument 'runbook'/);
  });

  it('starts an incident, shows its open gate, refuses a wrong gate and an unauthorised person, accepts on-call', async () => {
    const fingerprint = uniqueId('cli');
    const input = JSON.stringify({ severity: 'P3', service: 'ai-gateway-service', summary: 'CLI test', fingerprint });
    const start = await cli('--json', 'start', 'incidentResponse', '--input', input);
    assert.equal(start.code, 0, start.stderr);
    const [startedRun] = jsonLines(start.stdout) as { workflowId: string; runId: string; link?: string }[];
    started.push(startedRun.workflowId);
    assert.equal(startedRun.workflowId, `incident-${fingerprint}`);
    const described = await env.client.workflow.getHandle(startedRun.workflowId).describe();
    assert.equal(described.runId, startedRun.runId);
    assert.equal(described.taskQueue, taskQueue);

    const view = await waitUntil(
      'the acknowledge gate open in `runbook status --json`',
      async () => {
        const r = await cli('--json', 'status', startedRun.workflowId);
        assert.equal(r.code, 0, r.stderr);
        return jsonLines(r.stdout)[0] as { status: string; gates: { gate: string }[]; stage?: string };
      },
      (v) => v.gates.some((g) => g.gate === 'acknowledge'),
      120_000,
    );
    assert.equal(view.status, 'RUNNING');
    const text = await cli('status', startedRun.workflowId);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^incidentResponse {2}incident-cli-.* {2}RUNNING/);
    assert.match(
      text.stdout,
      /gate acknowledge: waiting for role on-call \(escalation tier 0 of \d+\), deadline \S+ \(in /,
    );
    assert.match(text.stdout, /severity: P3/);

    const wrongGate = await cli(
      'approve',
      startedRun.workflowId,
      '--gate',
      'resolve',
      '--reason',
      'x',
      '--by',
      'oncall',
    );
    assert.equal(wrongGate.code, 1);
    assert.match(wrongGate.stderr, /refused: gate "resolve" is not open \(open: acknowledge\)/);
    const stranger = await cli(
      'approve',
      startedRun.workflowId,
      '--gate',
      'acknowledge',
      '--reason',
      'x',
      '--by',
      'mallory',
    );
    assert.equal(stranger.code, 1);
    // Nobody holds a key for "mallory": the decision goes unsigned, and the gate refuses it, saying why.
    assert.match(stranger.stderr, /not signed \(no private key for "mallory"/);
    assert.match(stranger.stderr, /refused: signature: required/);
    const noReason = await cli('approve', startedRun.workflowId, '--gate', 'acknowledge', '--by', 'oncall');
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /required option '--reason <text>' not specified/);

    const accepted = await cli(
      '--json',
      'approve',
      startedRun.workflowId,
      '--gate',
      'acknowledge',
      '--reason',
      'on it',
      '--by',
      'oncall',
    );
    assert.equal(accepted.code, 0, accepted.stderr);
    const [decision] = jsonLines(accepted.stdout) as { accepted: boolean; outcome: { by: string; decision: string } }[];
    assert.equal(decision.accepted, true);
    assert.equal(decision.outcome.by, 'oncall');
    const after = (await sealingClient(env).workflow.getHandle(startedRun.workflowId).query('status')) as {
      acknowledgedBy?: string;
    };
    assert.equal(after.acknowledgedBy, 'oncall');
  });

  it('watches a running cache purge: progress bars that advance, then exit 0 once it completed', async () => {
    const prefix = `${uniqueId('cli-purge')}:`;
    const keys = 200_000;
    for (let i = 0; i < keys; i += 10_000) {
      const batch = redis.pipeline();
      for (let j = i; j < i + 10_000; j++) batch.set(`${prefix}${j}`, 'x');
      await batch.exec();
    }
    const workflowId = uniqueId('cli-purge');
    const input = JSON.stringify({ pattern: `${prefix}*`, scanCount: 10, unlinkBatch: 10 });
    const start = await cli('start', 'purgeCache', '--workflow-id', workflowId, '--input', input);
    assert.equal(start.code, 0, start.stderr);
    started.push(workflowId);
    assert.match(start.stdout, new RegExp(`^started purgeCache {2}${workflowId}$`, 'm'));

    const watch = await runbookCli(['watch', workflowId, '--interval', '0.2'], settings, 300_000);
    assert.equal(watch.code, 0, watch.stderr);
    const bars = [
      ...watch.stdout.matchAll(/activity purgeCacheKeys started {2}\[[#.]+\] +(\d+)% {2}scanned \d+, removed (\d+)/g),
    ];
    assert.ok(bars.length >= 2, `fewer than two progress lines:\n${watch.stdout}`);
    const percents = bars.map((m) => Number(m[1]));
    const removed = bars.map((m) => Number(m[2]));
    assert.ok(removed.at(-1)! > removed[0], `progress did not advance: ${removed.join(', ')}`);
    assert.ok(
      percents.every((p, i) => i === 0 || p >= percents[i - 1]),
      `percent went back: ${percents.join(', ')}`,
    );
    assert.ok(
      percents.some((p) => p > 0 && p < 100),
      `no partial progress shown: ${percents.join(', ')}`,
    );
    assert.match(watch.stdout.trimEnd().split('\n').at(-1)!, /COMPLETED/);
    assert.equal((await redis.keys(`${prefix}*`)).length, 0);

    const status = await cli('status', workflowId);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /COMPLETED/);
    assert.match(status.stdout, new RegExp(`removed: ${keys}`));
  });

  it('doctor reports every target of the stack reachable, and a closed port as failed with exit code 1', async () => {
    const healthy = await cli('doctor', '--timeout', '20');
    assert.equal(healthy.code, 0, `${healthy.stdout}${healthy.stderr}`);
    const lines = healthy.stdout.trimEnd().split('\n');
    for (const target of ['Temporal', 'PostgreSQL', 'Redis', 'S3', 'Kubernetes', 'WedSync health', 'webhooks']) {
      assert.ok(
        lines.some((l) => new RegExp(`^ok +${target}`).test(l)),
        `${target} not ok:\n${healthy.stdout}`,
      );
    }
    if (process.env.PROMETHEUS_URL)
      assert.ok(
        lines.some((l) => /^ok +Prometheus/.test(l)),
        healthy.stdout,
      );
    if (process.env.ALERTMANAGER_URL)
      assert.ok(
        lines.some((l) => /^ok +Alertmanager/.test(l)),
        healthy.stdout,
      );

    const port = await closedPort();
    const broken = await runbookCli(['--json', 'doctor', '--timeout', '5'], {
      ...settings,
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
    });
    assert.equal(broken.code, 1, broken.stderr);
    const results = jsonLines(broken.stdout) as { target: string; ok: boolean; detail: string }[];
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(
      failed.map((r) => r.target),
      [`Redis 127.0.0.1:${port}`],
    );
    assert.ok(results.some((r) => r.ok && r.target.startsWith('Temporal')));
  });

  it('explains every command with --help and exits 2 on an unknown one', async () => {
    for (const command of ['list', 'start', 'status', 'watch', 'approve', 'reject', 'schedules', 'audit', 'doctor']) {
      const help = await cli(command, '--help');
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^Usage: runbook ${command}`));
      assert.match(help.stdout, /--json/);
    }
    const version = await cli('--version');
    assert.equal(version.code, 0, version.stderr);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
    const unknown = await cli('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});
