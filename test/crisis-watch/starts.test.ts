/**
 * The ways the crisis protocol is started from outside a workflow, on the stack's dev server: an alert's
 * signal-with-start, an operator's start and the CLI, and the schedule that keeps the crisis-manager watch running.
 * The protocol runs themselves are left without a worker: what is tested is which runs exist, not what they do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError, type ScheduleDescription } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createTemporalActivities } from '../../src/activities/temporal';
import { alertCrisis, startCrisis } from '../../src/client/crisis';
import { addCrisisCommands, type Command } from '../../src/cli/crisis';
import { parseCommandLine } from '../helpers/parse-command-line';
import { crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { watchStatusQuery } from '../../src/workflows/crisis-watch/messages';
import type { OwnedDeps } from '../../src/workers/deps';
import { testDeps } from '../helpers/deps';
import { invalidInputNaming } from '../helpers/failures';
import { HEALTHY_BODY, HttpReceiver } from '../helpers/http-receiver';
import { devServerEnv, uniqueId, workflowBundle } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'runbook.js');

describe('starting the crisis protocol from outside, on the dev server', () => {
  let env: TestWorkflowEnvironment;
  const started: string[] = [];
  const taskQueue = uniqueId('crisis-starts'); // no worker: the runs are only looked at

  before(async () => {
    env = await devServerEnv();
  });
  after(async () => {
    for (const id of started) {
      await env.client.workflow
        .getHandle(id)
        .terminate('crisis-starts test over')
        .catch(() => undefined);
    }
    await env?.teardown();
  });

  const failureName = () => uniqueId('fp').slice(0, 40);
  const signalsOf = async (workflowId: string) =>
    ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'alert',
    ).length;

  it('gives one run for two alerts with one fingerprint, both alerts delivered to it', async () => {
    const fingerprint = failureName();
    const first = await alertCrisis(env.client, taskQueue, { fingerprint, summary: 'crisis manager not responding' });
    started.push(first.workflowId);
    const second = await alertCrisis(env.client, taskQueue, { fingerprint, status: 'firing', summary: 'still down' });
    assert.equal(first.workflowId, `crisis-takeover-${fingerprint}`);
    assert.equal(second.workflowId, first.workflowId);
    assert.equal(second.runId, first.runId);
    assert.equal(first.outcome, 'signalled');
    const description = await env.client.workflow.getHandle(first.workflowId).describe();
    assert.equal(description.type, 'weddingDayCrisis');
    assert.equal(description.runId, first.runId);
    assert.equal(await signalsOf(first.workflowId), 2);
    const startEvent = (await env.client.workflow.getHandle(first.workflowId).fetchHistory()).events![0];
    const input = JSON.parse(
      Buffer.from(startEvent.workflowExecutionStartedEventAttributes!.input!.payloads![0].data!).toString(),
    );
    assert.deepEqual(input, {
      failure: fingerprint,
      reportedBy: 'alert',
      description: 'crisis manager not responding',
    });
  });

  it('an alert with a fingerprint of its own joins the platform takeover running on its task queue', async () => {
    const queue = uniqueId('crisis-join');
    const platform = await startCrisis(env.client, queue, { failure: failureName() });
    const oneWedding = await startCrisis(env.client, queue, { failure: failureName(), weddingId: 'w-join' });
    started.push(platform.workflowId, oneWedding.workflowId);
    // Visibility is eventually consistent: the runs are listed a moment after they start.
    await waitUntil(
      'both runs listed',
      async () => {
        let n = 0;
        for await (const _ of env.client.workflow.list({ query: `TaskQueue = '${queue}'` })) n++;
        return n;
      },
      (n) => n === 2,
    );
    const fingerprint = failureName();
    const joined = await alertCrisis(env.client, queue, { fingerprint, summary: 'crisis responses over 10 s' });
    assert.deepEqual([joined.workflowId, joined.outcome], [platform.workflowId, 'signalled']);
    assert.equal(await signalsOf(platform.workflowId), 1);
    // A takeover limited to one wedding is not joined, and no run of the alert's own was started.
    assert.equal(await signalsOf(oneWedding.workflowId), 0);
    await assert.rejects(
      env.client.workflow.getHandle(crisisWorkflowId({ failure: fingerprint })).describe(),
      WorkflowNotFoundError,
    );
    // On another task queue, the same alert starts a run of its own.
    const elsewhere = await alertCrisis(env.client, uniqueId('crisis-other'), { fingerprint });
    started.push(elsewhere.workflowId);
    assert.equal(elsewhere.workflowId, crisisWorkflowId({ failure: fingerprint }));
  });

  it('the watch finds the platform takeovers running on its own task queue, oldest first', async () => {
    const queue = uniqueId('crisis-lookup');
    const first = await startCrisis(env.client, queue, { failure: failureName() });
    const second = await startCrisis(env.client, queue, { failure: failureName() });
    const oneWedding = await startCrisis(env.client, queue, { failure: failureName(), weddingId: 'w-lookup' });
    started.push(first.workflowId, second.workflowId, oneWedding.workflowId);
    const { runningTakeovers } = createTemporalActivities(env.client, []);
    const activity = new MockActivityEnvironment({ taskQueue: queue });
    const found = await waitUntil(
      'both platform runs listed',
      () => activity.run(runningTakeovers) as Promise<string[]>,
      (ids) => ids.length === 2,
    );
    assert.deepEqual(found, [first.workflowId, second.workflowId]);
    assert.deepEqual(await new MockActivityEnvironment({ taskQueue: uniqueId('empty') }).run(runningTakeovers), []);
  });

  it('never starts a protocol for a resolved alert, and refuses a hostile alert before the server sees it', async () => {
    const fingerprint = failureName();
    const resolved = await alertCrisis(env.client, taskQueue, { fingerprint, status: 'resolved' });
    assert.deepEqual(resolved, { workflowId: crisisWorkflowId({ failure: fingerprint }), outcome: 'no-run' });
    await assert.rejects(env.client.workflow.getHandle(resolved.workflowId).describe(), WorkflowNotFoundError);

    const hostile: [Record<string, unknown>, string][] = [
      [{ fingerprint: '' }, 'fingerprint'],
      [{ fingerprint: 'a b/../c' }, 'fingerprint'],
      [{ fingerprint: 'x'.repeat(101) }, 'fingerprint'],
      [{ fingerprint, status: 'exploded' }, 'status'],
      [{ fingerprint, summary: 'x'.repeat(2001) }, 'summary'],
      [{ fingerprint, startsAt: 'soon' }, 'startsAt'],
      [{ fingerprint, labels: { severity: 'critical' } }, 'labels'],
    ];
    for (const [alert, field] of hostile) {
      await assert.rejects(
        alertCrisis(env.client, taskQueue, alert as never),
        invalidInputNaming(field),
        JSON.stringify(alert).slice(0, 80),
      );
    }
    await assert.rejects(env.client.workflow.getHandle(resolved.workflowId).describe(), WorkflowNotFoundError);
  });

  it('starts a protocol run for an operator once, and says so when it is already running', async () => {
    const failure = failureName();
    const first = await startCrisis(env.client, taskQueue, { failure, weddingId: 'wedding-17', reportedBy: 'cto' });
    started.push(first.workflowId);
    assert.equal(first.workflowId, `crisis-takeover-${failure}-wedding-wedding-17`);
    assert.equal(first.outcome, 'started');
    const again = await startCrisis(env.client, taskQueue, { failure, weddingId: 'wedding-17' });
    assert.deepEqual(again, { ...first, outcome: 'already-running' });
    await assert.rejects(startCrisis(env.client, taskQueue, { failure: 'no spaces' }), invalidInputNaming('failure'));
    await assert.rejects(
      startCrisis(env.client, taskQueue, { failure, withinMinutes: 0 }),
      invalidInputNaming('withinMinutes'),
    );
  });

  describe('runbook crisis', () => {
    const crisisCli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [CLI, 'crisis', ...args],
          { env: { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue }, timeout: 60_000 },
          (err, stdout, stderr) =>
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });

    it('has help for every command', async () => {
      for (const args of [['--help'], ['start', '--help'], ['alert', '-h']]) {
        const r = await crisisCli(args);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Usage: runbook crisis /, args.join(' '));
      }
      assert.match((await crisisCli(['--help'])).stdout, /crisis-takeover-<failure>/);
    });

    it('exits 2 naming the option at fault', async () => {
      const cases: [string[], RegExp][] = [
        [['page'], /unknown command 'page'/],
        [['start'], /required option '--failure <f>' not specified/],
        [['start', '--failure'], /option '--failure <f>' argument missing/],
        [['start', '--failure', 'two words'], /^runbook: --failure: must name the crisis manager failure/],
        [['start', '--failure', 'f1', '--wedding', 'a/b'], /^runbook: --wedding: must be 1-64 characters/],
        [['start', '--failure', 'f1', '--within-minutes', '90m'], /--within-minutes: "90m" is not a whole number/],
        [['start', '--failure', 'f1', '--within-minutes', '0'], /--within-minutes: must be a whole number from 1/],
        [['start', '--failure', 'f1', '--colour', 'red'], /unknown option '--colour'/],
        [['start', '--failure', 'f1', 'extra'], /too many arguments for 'start'/],
        [['alert'], /required option '--fingerprint <f>' not specified/],
        [['alert', '--fingerprint', 'fp', '--status', 'maybe'], /--status: must be one of firing, resolved/],
        [['alert', '--fingerprint', 'fp', '--starts-at', 'noon'], /--starts-at: must be an ISO 8601 date-time/],
      ];
      for (const [args, message] of cases) {
        const r = await crisisCli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr.trim(), message, args.join(' '));
        assert.equal(r.stdout, '');
      }
    });

    it('parses what an operator types into the protocol input', async () => {
      const parseArgs = (argv: string[]) => parseCommandLine<Command>(addCrisisCommands, argv);
      assert.deepEqual(
        await parseArgs([
          'start',
          '--failure',
          '2026-11-28T14:05:00Z',
          '--wedding',
          'w-9',
          '--within-minutes',
          '30',
          '--description',
          'crisis manager silent',
          '--reported-by',
          'cto',
        ]),
        {
          name: 'start',
          input: {
            failure: '2026-11-28T14:05:00Z',
            weddingId: 'w-9',
            withinMinutes: 30,
            description: 'crisis manager silent',
            reportedBy: 'cto',
          },
        } satisfies Command,
      );
      assert.deepEqual(await parseArgs(['alert', '--fingerprint', 'fp1', '--summary', 'down']), {
        name: 'alert',
        alert: { fingerprint: 'fp1', summary: 'down' },
      });
    });

    it('starts the protocol, then reports it running; an alert with the same key joins it', async () => {
      const failure = failureName();
      const first = await crisisCli(['start', '--failure', failure, '--description', 'from the CLI test']);
      assert.equal(first.code, 0, first.stderr);
      started.push(`crisis-takeover-${failure}`);
      const runId = /^crisis-takeover-\S+ {2}started \(run ([0-9a-f-]+)\)$/m.exec(first.stdout)?.[1];
      assert.ok(runId, first.stdout);
      const again = await crisisCli(['start', '--failure', failure]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `crisis-takeover-${failure}  already running (run ${runId}): not started again\n`);
      const alert = await crisisCli(['alert', '--fingerprint', failure, '--summary', 'seen by alerting too']);
      assert.equal(alert.code, 0, alert.stderr);
      assert.equal(alert.stdout, `crisis-takeover-${failure}  alert delivered (run ${runId})\n`);
      assert.equal(await signalsOf(`crisis-takeover-${failure}`), 1);
    });
  });
});

describe('the schedule that keeps the crisis-manager watch running (overlap SKIP)', () => {
  let env: TestWorkflowEnvironment;
  let deps: OwnedDeps;
  const receiver = new HttpReceiver();
  const scheduleId = uniqueId('test-crisis-manager-watch');
  const taskQueue = uniqueId('watch-schedule');

  before(async () => {
    env = await devServerEnv();
    await receiver.start();
    receiver.route('/crisis-manager', { status: 200, body: HEALTHY_BODY });
    deps = await testDeps({ WEDSYNC_CRISIS_MANAGER_HEALTH_URL: receiver.url('/crisis-manager') });
  });
  after(async () => {
    await env.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await deps?.close();
    await receiver.stop();
    await env?.teardown();
  });

  it('leaves a watch that has continued as new alone, and starts one when none runs', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    await worker.runUntil(async () => {
      const describe = () => env.client.schedule.getHandle(scheduleId).describe();
      // The table's action, with a watch that continues as new after every probe (5 s) instead of after 500.
      await env.client.schedule.create({
        scheduleId,
        spec: { cronExpressions: ['0 0 1 1 *'] },
        action: {
          type: 'startWorkflow',
          workflowType: 'crisisManagerWatch',
          workflowId: scheduleId,
          args: [{ intervalSeconds: 5, roundsPerRun: 1 }],
          taskQueue,
        },
        policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
      });
      await env.client.schedule.getHandle(scheduleId).trigger('SKIP');
      const going = await waitUntil(
        'the watch started',
        describe,
        (d: ScheduleDescription) => d.info.runningActions.length === 1,
      );
      const watch = env.client.workflow.getHandle(going.info.runningActions[0].workflow.workflowId);
      const firstRunId = going.info.runningActions[0].workflow.firstExecutionRunId;
      await waitUntil(
        'the watch continued as new twice',
        () => watch.query(watchStatusQuery),
        (s) => s.continuedAsNew >= 2,
        30_000,
      );
      assert.notEqual((await watch.describe()).runId, firstRunId);

      // The slot the schedule would start now: SKIP, because the chain it started is still running.
      await env.client.schedule.getHandle(scheduleId).trigger('SKIP');
      const skipped = await waitUntil(
        'the overlap skip counted',
        describe,
        (d: ScheduleDescription) => d.info.numActionsSkippedOverlap === 1,
      );
      assert.equal(skipped.info.numActionsTaken, 1);
      assert.deepEqual(
        skipped.info.runningActions.map((a) => a.workflow.workflowId),
        [watch.workflowId],
      );

      // A watch that died (terminated here) is replaced at the next slot.
      await watch.terminate('the watch died');
      await waitUntil(
        'the schedule saw the watch close',
        describe,
        (d: ScheduleDescription) => d.info.runningActions.length === 0,
      );
      // A run's ID ends with its time to the second: the next trigger must fall in another second.
      await new Promise((r) => setTimeout(r, 1_100));
      await env.client.schedule.getHandle(scheduleId).trigger('SKIP');
      const restarted = await waitUntil(
        'a new watch started',
        describe,
        (d: ScheduleDescription) => d.info.numActionsTaken === 2 && d.info.runningActions.length === 1,
      );
      const replacement = restarted.info.runningActions[0].workflow.workflowId;
      assert.notEqual(replacement, watch.workflowId);
      await env.client.workflow.getHandle(replacement).terminate('test over');
    });
  });
});
