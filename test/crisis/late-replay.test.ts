/**
 * Issue 18: the late crises of the randomised chaos run (test/chaos/randomised.test.ts), on their own. Crises wait at
 * their stage 2 gates on the time-skipping server while its clock runs with the machine's; the clock jumps past stage
 * 2's deadline while the worker's thread stalls past the workflow task timeout (a loaded machine: tasks in flight
 * time out and are retried across the jump); each records its missed deadline and is resolved by a decision signed
 * against the server's clock. Then every history replays, each in a process of its own with a deadline.
 *
 * The replay's guard is checked too: a history with an event between a workflow task's start and its end, which no
 * server keeps, is named as invalid, and replaying it anyway fails at once with the replayer's refusal, where the SDK
 * alone would hang (it refuses such a history in its poller and then waits for ever).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe } from 'node:test';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DATA_DIR } from '../../scripts/lib/paths';
import { weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId, type CrisisStatus } from '../../src/workflows/crisis/messages';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { runbookSuite } from '../helpers/runbook-suite';
import { invalidHistoryAt, queryUntil, replayEachWithin, replayFilesWithin, uniqueId } from '../helpers/temporal';

const FOLLOW_UPS = ['emergency-planners', 'vendor-network', 'executive-escalation', 'crisis-communication'];
const CRISES = 4;
/** Stalls of the worker's thread during the jump, each past the 10-second workflow task timeout. */
const STALLS = 2;
const STALL_MS = 11_000;
const REPLAY_MS = 60_000;
const SAVED = join(DATA_DIR, 'chaos-histories');

/** Blocks this process's thread, where the test's worker runs, as a loaded machine would. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else on this thread runs meanwhile
  }
}

describe('late wedding-day crises across the time-skipping server’s clock jump', () => {
  const suite = runbookSuite('aiops_test_crisis_late');

  beforeEach(async () => {
    await suite.deps.pool.query('DELETE FROM active_crises');
  });

  suite.test(
    'each records its missed stage 2 deadline and is resolved; every history replays, an invalid one is refused at once',
    async () => {
      const tag = uniqueId('late').slice(-8);
      const handles = [];
      for (let i = 0; i < CRISES; i++) {
        const weddingId = `${tag}-w${i}`;
        await suite.deps.pool.query(
          `INSERT INTO active_crises (wedding_id, couple_email, crisis_type, status, created_at)
           SELECT $1::text, $1::text || '-c' || g || '@example.com', 'vendor_cancellation', 'ai_processing', now()
             FROM generate_series(1, 3) g`,
          [weddingId],
        );
        const input = { failure: `${tag}-f${i}`, weddingId };
        handles.push(
          await suite.env.client.workflow.start(weddingDayCrisis, {
            taskQueue: suite.taskQueue,
            workflowId: crisisWorkflowId(input),
            args: [input],
          }),
        );
      }
      const inStage2 = (s: CrisisStatus) => FOLLOW_UPS.every((a) => s.steps[a] === 'awaiting-confirmation');
      for (const h of handles) await queryUntil(h, crisisStatusQuery, inStage2, 30_000);

      const jump = suite.env.sleep('31 minutes');
      for (let k = 0; k < STALLS; k++) {
        await new Promise((r) => setTimeout(r, 200));
        stall(STALL_MS);
      }
      await jump;
      for (const h of handles) await queryUntil(h, crisisStatusQuery, (s) => s.stages.stage2.missedDeadline, 30_000);
      for (const h of handles)
        await h.signal(decisionSignal, { gate: 'resolve', decision: 'approve', by: 'cto', reason: 'handled late' });
      for (const h of handles) assert.ok((await h.result()).stages.stage2.missedDeadline);

      const histories = await Promise.all(handles.map((h) => h.fetchHistory()));
      for (const history of histories) assert.equal(invalidHistoryAt(history), undefined);
      assert.deepEqual(await replayEachWithin(handles, REPLAY_MS, SAVED), []);

      // One history broken the way the replayer refuses: a timer firing moved to just after a task's start.
      type EventJSON = {
        eventId: string;
        timerFiredEventAttributes?: object;
        workflowTaskStartedEventAttributes?: object;
      };
      const json = JSON.parse(historyToJSON(histories[0])) as { events: EventJSON[] };
      const fired = json.events.findIndex((e) => e.timerFiredEventAttributes);
      const started = json.events.findIndex((e, i) => i > fired && e.workflowTaskStartedEventAttributes);
      const [timer] = json.events.splice(fired, 1);
      json.events.splice(started, 0, timer);
      json.events.forEach((e, i) => (e.eventId = String(i + 1)));
      assert.match(invalidHistoryAt(historyFromJSON(json)) ?? '', /WORKFLOW_TASK_STARTED, \d+ TIMER_FIRED/);
      const file = join(SAVED, `weddingDayCrisis@${handles[0].workflowId}-invalid.json`);
      writeFileSync(file, JSON.stringify(json));
      const began = Date.now();
      const [refused] = await replayFilesWithin([{ workflowId: handles[0].workflowId, file }], REPLAY_MS);
      assert.match(refused.error ?? '', /Invalid history!.*should be WFT completed, failed, or timed out/);
      assert.ok(Date.now() - began < REPLAY_MS, 'refused without waiting out the deadline');
      rmSync(file);
    },
  );
});
