/**
 * Issue 18, hostile input, on a real worker: every workflow type of the catalog started with inputs its own check
 * refuses (generated as in test/chaos/input-schemas.test.ts, sent through JSON as a client sends them). Each run must
 * fail at once, in its first workflow task, with the same non-retryable InvalidInput the check gives, naming the
 * field; nothing scheduled, and no workflow-task failure in its history.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { listRunbooks, runbook, type WorkflowType } from '../../src/client/runbooks';
import {
  hostileJson,
  mutationOf,
  overTheWire,
  refusalProblem,
  SEED,
  VALID_INPUTS,
  type Mutation,
} from '../helpers/hostile';
import { newTally, recordTally, resultWithin } from '../helpers/chaos';
import { runbookSuite } from '../helpers/runbook-suite';
import { replayOwnHistories, uniqueId } from '../helpers/temporal';

/** Bad inputs started per workflow type; with every type, a few hundred runs on one server in some seconds. */
const RUNS_PER_TYPE = 12;
/** Runs in flight at once. */
const CONCURRENCY = 8;
/** A run that has not failed by then failed a workflow task, or waits for something: either is the bug. */
const DEADLINE_MS = 15_000;

interface BadStart {
  type: WorkflowType;
  mutation: Mutation;
  /** The input as the workflow receives it. */
  raw: unknown;
  /** What the workflow's own check says of it here. */
  expected: ApplicationFailure;
}

/** Inputs of `type` that its check refuses once through JSON, with the refusal, from a fixed seed. */
function badStarts(type: WorkflowType): BadStart[] {
  const found: BadStart[] = [];
  const samples = fc.sample(mutationOf(VALID_INPUTS[type], hostileJson), { seed: SEED, numRuns: RUNS_PER_TYPE * 5 });
  for (const mutation of samples) {
    const raw = overTheWire(mutation.input);
    try {
      runbook(type).parse(raw);
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, `${type}'s check threw ${String(err)}`);
      found.push({ type, mutation, raw, expected: err });
    }
    if (found.length === RUNS_PER_TYPE) break;
  }
  assert.equal(found.length, RUNS_PER_TYPE, `${type}: too few bad inputs generated`);
  return found;
}

describe('every workflow started with hostile input', () => {
  const suite = runbookSuite('aiops_test_hostile_starts');

  /** Why this run is not refused at once as its check refuses the input, or undefined when it is. */
  async function refusedAtOnce(bad: BadStart, handle: WorkflowHandle): Promise<string | undefined> {
    let outcome: unknown;
    const notes: string[] = [];
    try {
      outcome = (await resultWithin(handle, DEADLINE_MS, notes)) ? 'it completed' : `after ${DEADLINE_MS} ms ${notes}`;
    } catch (err) {
      outcome = err;
    }
    const events = (await handle.fetchHistory()).events ?? [];
    const taskFailures = events.flatMap((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? []);
    if (taskFailures.length) return `workflow task failed: ${taskFailures[0]}`;
    if (typeof outcome === 'string') return outcome;
    if (!(outcome instanceof WorkflowFailedError)) return `result threw ${String(outcome)}`;
    const problem = refusalProblem(outcome.cause, bad.raw, bad.mutation);
    if (problem) return problem;
    if (outcome.cause!.message !== bad.expected.message) {
      return `refused with "${outcome.cause!.message}", its check says "${bad.expected.message}"`;
    }
    const tasks = events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    const scheduled = events.filter(
      (e) =>
        e.activityTaskScheduledEventAttributes ||
        e.timerStartedEventAttributes ||
        e.startChildWorkflowExecutionInitiatedEventAttributes,
    ).length;
    if (tasks !== 1 || scheduled !== 0) return `${tasks} workflow tasks and ${scheduled} scheduled before the refusal`;
    return undefined;
  }

  suite.test('each run fails in its first task with the InvalidInput naming the field, and replays', async () => {
    const types = listRunbooks().map((r) => r.workflowType);
    const queue = types.flatMap(badStarts);
    const problems: string[] = [];
    const lastOfType = new Map<WorkflowType, WorkflowHandle>();
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let bad = queue.shift(); bad; bad = queue.shift()) {
          const handle = await suite.env.client.workflow.start(bad.type, {
            taskQueue: suite.taskQueue,
            workflowId: uniqueId(`hostile-${bad.type}`),
            args: [bad.raw],
          });
          const problem = await refusedAtOnce(bad, handle);
          if (problem) {
            const sent = JSON.stringify(bad.raw)?.slice(0, 300);
            problems.push(
              `${bad.type} (${bad.mutation.kind} ${bad.mutation.path.join('.')}): ${problem}; sent ${sent}`,
            );
          }
          lastOfType.set(bad.type, handle);
        }
      }),
    );
    const runs = types.length * RUNS_PER_TYPE;
    const seconds = (Date.now() - started) / 1000;
    recordTally({
      ...newTally(`hostile input: ${RUNS_PER_TYPE} bad starts of each of ${types.length} workflow types`),
      runs,
      completed: runs - problems.length,
      stuck: problems.length,
      notes: [
        `each refused in its first workflow task, naming the field; ${seconds.toFixed(1)} s in all`,
        ...problems.slice(0, 3),
      ],
    });
    assert.deepEqual(problems, []);
    assert.equal(lastOfType.size, types.length);
    // One run of each type replayed (all of them take a replay worker some seconds per hundred).
    await replayOwnHistories([...lastOfType.values()]);
  });
});
