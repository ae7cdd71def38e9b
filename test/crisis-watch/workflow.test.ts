import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { crisisManagerWatch } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId, type WeddingDayCrisisInput } from '../../src/workflows/crisis/messages';
import {
  parseCrisisManagerWatchInput,
  parseWatchState,
  watchStatusQuery,
  type WatchStatus,
} from '../../src/workflows/crisis-watch/messages';
import { invalidInputNaming } from '../helpers/failures';
import { HEALTHY_BODY } from '../helpers/http-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, replayOwnHistory, uniqueId } from '../helpers/temporal';

const INTERVAL_MS = 60_000;
const CRISIS_MANAGER = '/crisis-manager/health';

/** What the crisis manager's health endpoint answers, as the test sets it. */
type Mode = 'healthy' | 'failed' | 'slow' | 'down';
const ANSWERS = {
  healthy: { status: 200, body: HEALTHY_BODY },
  failed: { status: 200, body: { ...HEALTHY_BODY, status: 'degraded', crisis_manager: 'failed' } },
  // Seed 002 Issue 4: "Crisis response time >10 seconds".
  slow: { status: 200, body: { ...HEALTHY_BODY, response_time_ms: 12_500 } },
  down: { status: 503 },
};

describe('crisisManagerWatch on the time-skipping test server', () => {
  let mode: Mode = 'healthy';
  const suite = runbookSuite('aiops_test_crisis_watch', (receiver) => {
    receiver.route(CRISIS_MANAGER, () => ANSWERS[mode]);
    return { WEDSYNC_CRISIS_MANAGER_HEALTH_URL: receiver.url(CRISIS_MANAGER) };
  });

  async function startWatch(input: Parameters<typeof crisisManagerWatch>[0]) {
    return suite.env.client.workflow.start(crisisManagerWatch, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('crisis-manager-watch'),
      args: [input],
    });
  }

  /** Advances the server's clock by one interval and waits until the watch has made that round. */
  async function nextRound(handle: WorkflowHandle, rounds: number): Promise<WatchStatus> {
    await suite.env.sleep(INTERVAL_MS);
    return queryUntil(handle, watchStatusQuery, (s) => s.rounds >= rounds, 20_000);
  }

  /**
   * Advances the server's clock an interval at a time until the watch's status satisfies `pred`: a round whose
   * timer started only after a sleep ended is made by the next sleep.
   */
  async function roundsUntil(handle: WorkflowHandle, pred: (s: WatchStatus) => boolean): Promise<WatchStatus> {
    const deadline = Date.now() + 60_000;
    let status = await handle.query(watchStatusQuery);
    while (!pred(status)) {
      if (Date.now() > deadline) throw new Error(`the watch never got there: ${JSON.stringify(status)}`);
      await suite.env.sleep(INTERVAL_MS);
      status = await queryUntil(handle, watchStatusQuery, (s) => s.rounds > status.rounds || pred(s), 5_000).catch(() =>
        handle.query(watchStatusQuery),
      );
    }
    return status;
  }

  /** The weddingDayCrisis runs a watch's history shows it starting (every run of it, continued as new or not). */
  async function childStarts(
    handle: WorkflowHandleWithFirstExecutionRunId,
  ): Promise<{ workflowId: string; input: WeddingDayCrisisInput }[]> {
    const starts: { workflowId: string; input: WeddingDayCrisisInput }[] = [];
    let runId: string | undefined = handle.firstExecutionRunId;
    const { workflowId } = handle;
    while (runId) {
      const history = await suite.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      let next: string | undefined;
      for (const event of history.events ?? []) {
        const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
        if (initiated) {
          assert.equal(initiated.workflowType?.name, 'weddingDayCrisis');
          const payload = initiated.input?.payloads?.[0]?.data;
          starts.push({
            workflowId: initiated.workflowId ?? '',
            input: JSON.parse(Buffer.from(payload ?? []).toString()) as WeddingDayCrisisInput,
          });
        }
        next ??= event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      runId = next;
    }
    return starts;
  }

  /**
   * The protocol run the watch started, looked up on the server. It is left running: the time-skipping server does
   * not let its clock move while a terminated run's activity is still in flight, so ending it here would stall
   * the next round. Each test has a server of its own, which goes with the runs when the test ends.
   */
  async function crisisType(workflowId: string): Promise<string> {
    return (await suite.env.client.workflow.getHandle(workflowId).describe()).type;
  }

  suite.test(
    'starts exactly one weddingDayCrisis after N failed probes, keyed by the first failed probe, and no second while it fails on',
    async () => {
      mode = 'failed';
      const handle = await startWatch({ intervalSeconds: 60, failuresToStart: 3, recoveriesToRearm: 2 });
      const first = await queryUntil(handle, watchStatusQuery, (s) => s.rounds >= 1, 20_000);
      assert.equal(first.consecutiveFailures, 1);
      assert.equal(first.lastProbe?.reason, 'crisis_manager is "failed"');
      const detectedAt = first.failingSince!;
      assert.equal(detectedAt, first.lastProbe?.at);
      assert.equal((await nextRound(handle, 2)).openCrisis, undefined, 'two failures are not yet three');

      const third = await nextRound(handle, 3);
      const expectedId = crisisWorkflowId({ failure: detectedAt });
      assert.match(expectedId, /^crisis-takeover-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.deepEqual(third.openCrisis && { ...third.openCrisis, at: '' }, {
        workflowId: expectedId,
        failure: detectedAt,
        at: '',
        outcome: 'started',
      });
      assert.equal(third.crisesStarted, 1);
      assert.equal(third.armed, false);
      assert.equal(await crisisType(expectedId), 'weddingDayCrisis');
      // The protocol took the watch's start as its own: its failure is the one the watch detected.
      const crisis = await queryUntil(
        suite.env.client.workflow.getHandle(expectedId),
        crisisStatusQuery,
        (c) => c.failure !== undefined,
        20_000,
      );
      assert.deepEqual([crisis.crisisKey, crisis.failure, crisis.weddingId], [expectedId, detectedAt, undefined]);

      await nextRound(handle, 4);
      mode = 'down';
      const fifth = await nextRound(handle, 5);
      assert.equal(fifth.consecutiveFailures, 5);
      assert.equal(fifth.crisesStarted, 1);
      assert.deepEqual(await childStarts(handle), [
        {
          workflowId: expectedId,
          input: {
            failure: detectedAt,
            reportedBy: 'crisis-manager-watch',
            description: 'crisis-manager watch: crisis_manager is "failed"',
          },
        },
      ]);
      await handle.terminate('test over');
    },
  );

  suite.test('starts a second protocol run for a new failure only after M healthy probes in a row', async () => {
    mode = 'slow';
    const handle = await startWatch({ intervalSeconds: 60, failuresToStart: 2, recoveriesToRearm: 2 });
    await queryUntil(handle, watchStatusQuery, (s) => s.rounds >= 1, 20_000);
    const firstCrisis = (await nextRound(handle, 2)).openCrisis!;
    assert.equal(firstCrisis.outcome, 'started');
    assert.equal(await crisisType(firstCrisis.workflowId), 'weddingDayCrisis');

    // One healthy probe is not a recovery: the failure that follows is still the first one's.
    mode = 'healthy';
    assert.equal((await nextRound(handle, 3)).consecutiveHealthy, 1);
    mode = 'slow';
    await nextRound(handle, 4);
    const stillOne = await nextRound(handle, 5);
    assert.equal(stillOne.crisesStarted, 1);
    assert.equal(stillOne.openCrisis?.workflowId, firstCrisis.workflowId);

    mode = 'healthy';
    await nextRound(handle, 6);
    const recovered = await nextRound(handle, 7);
    assert.equal(recovered.armed, true);
    assert.equal(recovered.openCrisis, undefined);

    mode = 'slow';
    const failing = await nextRound(handle, 8);
    const second = (await nextRound(handle, 9)).openCrisis!;
    assert.equal(second.failure, failing.failingSince);
    assert.notEqual(second.workflowId, firstCrisis.workflowId);
    assert.equal(await crisisType(second.workflowId), 'weddingDayCrisis');
    const starts = await childStarts(handle);
    assert.deepEqual(
      starts.map((s) => [s.workflowId, s.input.description]),
      [
        [firstCrisis.workflowId, 'crisis-manager watch: response_time_ms 12500 is over 10000'],
        [second.workflowId, 'crisis-manager watch: response_time_ms 12500 is over 10000'],
      ],
    );
    assert.equal((await handle.query(watchStatusQuery)).crisesStarted, 2);
    await handle.terminate('test over');
  });

  suite.test('carries a failure streak and an open crisis across continueAsNew', async () => {
    mode = 'failed';
    const handle = await startWatch({ intervalSeconds: 60, failuresToStart: 3, recoveriesToRearm: 1, roundsPerRun: 2 });
    const first = await queryUntil(handle, watchStatusQuery, (s) => s.rounds >= 1, 20_000);
    // However the rounds fell on a loaded machine: every one of them failed, and the streak (and its detection
    // time) came along into the next run.
    const carried = await roundsUntil(handle, (s) => s.continuedAsNew >= 1 && s.rounds >= 3);
    assert.equal(carried.consecutiveFailures, carried.rounds);
    assert.equal(carried.roundsThisRun, carried.rounds - 2 * carried.continuedAsNew);
    assert.equal(carried.failingSince, first.failingSince);
    assert.equal(carried.openCrisis?.workflowId, crisisWorkflowId({ failure: first.failingSince! }));
    assert.equal(await crisisType(carried.openCrisis!.workflowId), 'weddingDayCrisis');

    // Another run on, still failing: the open crisis came along, so nothing new was started.
    const later = await roundsUntil(handle, (s) => s.continuedAsNew >= carried.continuedAsNew + 1);
    assert.equal(later.consecutiveFailures, later.rounds);
    assert.equal(later.crisesStarted, 1);
    assert.equal(later.openCrisis?.workflowId, carried.openCrisis?.workflowId);
    assert.equal((await childStarts(handle)).length, 1);
    assert.notEqual((await handle.describe()).runId, handle.firstExecutionRunId);
    // Today's code replays what it wrote: the first run, closed by the hand-over, and the one running now.
    await replayOwnHistory(suite.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId));
    await replayOwnHistory(handle);
    await handle.terminate('test over');
  });

  suite.test('refuses a hostile input or carried state, naming the field, before it probes anything', async () => {
    const refusals: [unknown[], string][] = [
      [[{ intervalSeconds: 0 }], 'intervalSeconds'],
      [[{ failuresToStart: 1.5 }], 'failuresToStart'],
      [[{ recoveriesToRearm: '3' }], 'recoveriesToRearm'],
      [[{ roundsPerRun: 1e9 }], 'roundsPerRun'],
      [[{ url: 'http://evil.example/' }], 'url'],
      [['every minute'], 'input'],
      [[{}, { consecutiveFailures: -1 }], 'consecutiveFailures'],
      [
        [
          {},
          {
            consecutiveFailures: 0,
            consecutiveHealthy: 0,
            crisesStarted: 0,
            rounds: 0,
            continuedAsNew: 0,
            failingSince: 'yesterday',
          },
        ],
        'failingSince',
      ],
    ];
    for (const [args, field] of refusals) {
      const handle = await suite.env.client.workflow.start('crisisManagerWatch', {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('hostile-watch'),
        args,
      });
      await assert.rejects(
        handle.result(),
        (err: Error & { cause?: unknown }) => invalidInputNaming(field)(err.cause),
        field,
      );
      // Refused in its first workflow task: no probe was scheduled, and the task itself did not fail.
      const events = (await handle.fetchHistory()).events ?? [];
      assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0, field);
      assert.equal(events.filter((e) => e.workflowTaskFailedEventAttributes).length, 0, field);
    }
    // The same schemas, called directly.
    assert.throws(() => parseCrisisManagerWatchInput({ intervalSeconds: 4 }), invalidInputNaming('intervalSeconds'));
    assert.throws(
      () => parseWatchState({ rounds: 1 }),
      (err) => err instanceof ApplicationFailure,
    );
    assert.deepEqual(parseCrisisManagerWatchInput(undefined), {
      intervalSeconds: 30,
      failuresToStart: 3,
      recoveriesToRearm: 3,
      roundsPerRun: 500,
    });
  });
});
