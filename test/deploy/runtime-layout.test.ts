/**
 * The worker image without a container engine: the Dockerfile's stages carried out into directories
 * (test/deploy/dockerfile.ts), then the worker started from the runtime stage's directory as its CMD says, with
 * its ENV, against the dev server. What the runtime stage leaves out, the worker cannot load.
 */
import assert from 'node:assert/strict';
import { givenSettings } from '../../src/config';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseAllDocuments } from 'yaml';
import { backupTaskQueue } from '../../src/contracts/backups';
import { monitorUntilHealthy } from '../../src/workflows';
import { SHUTDOWN_MARGIN_SECONDS } from '../../src/workers/shutdown';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { devServerEnv, sealingClient, uniqueId } from '../helpers/temporal';
import { finalStage, instructions, layOut, parseDockerfile, ROOT, stageEnv } from './dockerfile';

const stages = parseDockerfile();
const runtime = finalStage(stages);

interface RunningWorker {
  child: ChildProcess;
  taskQueue: string;
  probes: string;
  exited: Promise<number | null>;
}

describe('the worker image, laid out from the Dockerfile', () => {
  let into: string;
  let app: string;
  let env: TestWorkflowEnvironment;
  let receiver: HttpReceiver;
  const workers: RunningWorker[] = [];

  before(
    async () => {
      into = mkdtempSync(join(tmpdir(), 'aiops-image-'));
      app = layOut(stages, into).get(runtime.name)!;
      env = await devServerEnv();
      receiver = await new HttpReceiver().start();
    },
    { timeout: 600_000 },
  );

  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await receiver?.stop();
    await env?.teardown();
    if (into) rmSync(into, { recursive: true, force: true });
  });

  /**
   * The runtime stage's CMD in its directory, with its ENV and nothing of this machine's but PATH, HOME and the
   * settings an operator gives a pod (here, the test stack's: where each system is and how to log in).
   */
  async function startWorker(
    settings: Record<string, string>,
    commandLine = JSON.parse(instructions(runtime, 'CMD')[0].args) as string[],
  ): Promise<RunningWorker> {
    const taskQueue = uniqueId('image');
    const [command, ...args] = commandLine;
    assert.equal(command, 'node');
    const child = spawn(process.execPath, args, {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...givenSettings(process.env),
        ...stageEnv(runtime),
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKER_HEALTH_ADDRESS: '127.0.0.1:0', // the image's 0.0.0.0:8080 is for a pod's own network
        // and its metrics and alert-receiver ports
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
        CODEC_SERVER_ADDRESS: '127.0.0.1:0',
        WEDSYNC_HEALTH_URLS: receiver.url('/ai/health'),
        HTTP_TIMEOUT_MS: '60000',
        ...settings,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const worker = { child, taskQueue, probes: '', exited };
    workers.push(worker);
    const deadline = Date.now() + 60_000;
    for (;;) {
      // The worker's start line (JSON, like every line it writes) names its probe endpoint.
      const m = /"probes":"(http:\/\/[\d.]+:\d+)\/readyz"/.exec(output);
      if (m) return { ...worker, probes: m[1] };
      if (child.exitCode !== null) assert.fail(`the worker exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) assert.fail(`the worker did not start in a minute:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const probe = async (worker: RunningWorker, path: string) => {
    const res = await fetch(`${worker.probes}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A monitorUntilHealthy run whose single probe of the health endpoint is held open by `hold`. */
  async function startHeldProbe(worker: RunningWorker, hold: Promise<void>) {
    const seen = receiver.callsTo('/ai/health');
    receiver.route('/ai/health', async () => {
      await hold;
      return { status: 200, body: HEALTHY_BODY };
    });
    const handle = await sealingClient(env).workflow.start(monitorUntilHealthy, {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('image-monitor'),
      args: [{ healthyChecksRequired: 1, intervalSeconds: 1, timeoutSeconds: 600 }],
    });
    await until('the probe reaches the endpoint', () => receiver.callsTo('/ai/health') > seen);
    return handle;
  }

  it('holds production dependencies only, and no sources', () => {
    assert.ok(existsSync(join(app, 'node_modules', '@temporalio', 'worker')));
    for (const devOnly of ['typescript', '@temporalio/testing', '@types/pg']) {
      assert.ok(!existsSync(join(app, 'node_modules', devOnly)), `${devOnly} is in the runtime stage`);
    }
    assert.ok(!existsSync(join(app, 'src')) && !existsSync(join(app, 'dist', 'scripts')));
    assert.ok(existsSync(join(app, 'dist', 'workflow-bundle.js')), 'the prebuilt workflow bundle');
  });

  it('starts the worker, which polls the task queue and says so on /readyz', async () => {
    const worker = await startWorker({});
    await until('/readyz answers 200', async () => (await probe(worker, '/readyz')).status === 200);
    const { pollers } = await env.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: worker.taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    assert.ok(
      (pollers ?? []).some((p) => p.identity?.startsWith(`${worker.child.pid}@`)),
      `no poller of pid ${worker.child.pid}: ${JSON.stringify(pollers)}`,
    );
    const live = await probe(worker, '/livez');
    assert.equal(live.status, 200);

    // Workflows from the prebuilt bundle, activities from the compiled sources.
    receiver.route('/ai/health', { status: 200, body: HEALTHY_BODY });
    const result = await sealingClient(env).workflow.execute(monitorUntilHealthy, {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('image-monitor'),
      args: [{ healthyChecksRequired: 1, intervalSeconds: 1, timeoutSeconds: 60 }],
    });
    assert.equal(result.resolved, true);

    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it("starts the backup worker with its Deployment's command, which polls the backup task queue", async () => {
    const backupPod = parseAllDocuments(readFileSync(join(ROOT, 'k8s', 'backup-worker-deployment.yaml'), 'utf8'))
      .map((d) => d.toJS() as { kind: string; spec: { template: { spec: { containers: { command: string[] }[] } } } })
      .find((o) => o.kind === 'Deployment')!;
    const worker = await startWorker({}, backupPod.spec.template.spec.containers[0].command);
    await until('/readyz answers 200', async () => (await probe(worker, '/readyz')).status === 200);
    const pollersOf = async (taskQueue: string) =>
      (
        await env.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
        })
      ).pollers ?? [];
    const ours = (p: { identity?: string | null }) => p.identity?.startsWith(`${worker.child.pid}@`);
    assert.ok((await pollersOf(backupTaskQueue(worker.taskQueue))).some(ours), 'it polls the backup task queue');
    assert.ok(!(await pollersOf(worker.taskQueue)).some(ours), "and not the workflows' own");
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('turns unready, but stays alive, while Temporal is unreachable', async () => {
    // A dev server of the test's own, to stop under the worker; the worker itself stays up.
    const own = await devServerEnv({ own: true });
    let stopped = false;
    try {
      const worker = await startWorker({ TEMPORAL_ADDRESS: own.address });
      await until('/readyz answers 200', async () => (await probe(worker, '/readyz')).status === 200);
      await own.teardown();
      stopped = true;
      const started = Date.now();
      const unready = await probe(worker, '/readyz');
      assert.equal(unready.status, 503);
      assert.match(String(unready.body.temporal), /unreachable/);
      assert.ok(Date.now() - started < 5_000, 'answered within the probe timeout');
      assert.equal((await probe(worker, '/livez')).status, 200, 'unready, not dead: no restart for a server outage');
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
    } finally {
      if (!stopped) await own.teardown();
    }
  });

  it('on SIGTERM stops polling, turns unready, lets the running activity finish, and exits', async () => {
    const worker = await startWorker({ WORKER_SHUTDOWN_GRACE_SECONDS: '30' });
    await until('/readyz answers 200', async () => (await probe(worker, '/readyz')).status === 200);
    let release!: () => void;
    const handle = await startHeldProbe(worker, new Promise<void>((r) => (release = r)));

    worker.child.kill('SIGTERM');
    await until('/readyz answers 503', async () => (await probe(worker, '/readyz')).status === 503, 5_000);
    assert.equal((await probe(worker, '/livez')).status, 200, 'a draining worker is alive');
    assert.equal(worker.child.exitCode, null, 'the worker waits for its running activity');
    release();
    assert.equal(await worker.exited, 0);

    const { events } = await handle.fetchHistory();
    assert.ok(
      events?.some((e) => e.activityTaskCompletedEventAttributes),
      'the activity running at SIGTERM completed',
    );
    await handle.terminate('test over');
  });

  it('cancels an activity still running when the shutdown grace time ends, and exits in time', async () => {
    const grace = 2;
    const worker = await startWorker({ WORKER_SHUTDOWN_GRACE_SECONDS: String(grace) });
    await until('/readyz answers 200', async () => (await probe(worker, '/readyz')).status === 200);
    let release!: () => void;
    const handle = await startHeldProbe(worker, new Promise<void>((r) => (release = r)));

    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    const seconds = (Date.now() - signalled) / 1000;
    release();
    assert.equal(code, 0);
    assert.ok(seconds >= grace - 0.5, `exited after ${seconds}s, before the grace time`);
    assert.ok(seconds < grace + SHUTDOWN_MARGIN_SECONDS, `exited after ${seconds}s`);

    // The attempt went back to the server as failed, to be retried by another worker, rather than timing out.
    const { raw } = await handle.describe();
    const pending = raw.pendingActivities?.[0];
    assert.ok(pending?.lastFailure, `pending activity: ${JSON.stringify(pending)}`);
    await handle.terminate('test over');
  });
});
