/**
 * reviewTheologicalAlignment against the local stack's theological-checker endpoints (content leaves the flagged
 * list as its review is completed): one gate per flagged item for the faculty reviewers, the outcomes in the QA
 * service and the audit trail, a score still low paging, refusals from outside the faculty, and bad input.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { reviewTheologicalAlignment } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { theologicalReviewStatusQuery } from '../../src/workflows/theological-review/messages';
import { pagerDutyEvents } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { serveContent, type ContentService } from '../helpers/scrolluniversity-content';
import { createActivities } from '../../src/activities';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

describe('theological alignment review (seed 000 Issue 5)', () => {
  let service: ContentService;
  const suite = runbookSuite('aiops_test_theological_review', (receiver) => {
    service = serveContent(receiver);
    return { SCROLLUNIVERSITY_API_URL: receiver.url('') };
  });

  const run = (input: unknown = {}) =>
    suite.env.client.workflow.start(reviewTheologicalAlignment, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('theology'),
      args: [input as never],
    });
  const decide = (handle: WorkflowHandle, gate: string, decision: 'approve' | 'reject', by = 'faculty') =>
    handle.executeUpdate(decideUpdate, { args: [{ gate, decision, by, reason: `${decision} after reading` }] });
  const allGatesOpen = (handle: WorkflowHandle) =>
    queryUntil(handle, theologicalReviewStatusQuery, (s) => s.gates.length === 3, 60_000);

  suite.test(
    'opens one review per flagged item for the faculty, records each outcome, verifies the score',
    async () => {
      service.set('theological-checker', 'flagged-content');
      const handle = await run({ requestedBy: 'oncall', reason: 'faculty complaints' });
      const waiting = await allGatesOpen(handle);
      assert.deepEqual(waiting.gates.map((g) => g.gate).sort(), [
        'review:essay-feedback-7781',
        'review:lesson-genesis-3-summary',
        'review:quiz-romans-5-q4',
      ]);
      assert.deepEqual(waiting.gates[0].deciders, { roles: ['faculty-reviewer'] });
      await rejectsWithCause(decide(handle, 'review:quiz-romans-5-q4', 'approve', 'oncall'), /may not decide/);
      await decide(handle, 'review:quiz-romans-5-q4', 'reject');
      await decide(handle, 'review:lesson-genesis-3-summary', 'approve');
      await decide(handle, 'review:essay-feedback-7781', 'approve');
      const result = await handle.result();
      assert.equal(result.before.flaggedCount, 3);
      assert.ok((result.after?.alignmentScore ?? 0) >= 0.9);
      assert.equal(result.after?.flaggedCount, 0);
      assert.equal(result.reviews.find((r) => r.contentId === 'quiz-romans-5-q4')?.outcome, 'withdrawn');
      assert.equal(suite.receiver.callsTo('/api/qa/review/create'), 3);
      assert.equal(service.conditions.get('theological-checker'), 'healthy');
      await replayOwnHistory(handle);
      const { rows } = await suite.deps.pool.query<{ step: string; actor: string; outcome: string }>(
        `SELECT step, actor, outcome FROM audit_log WHERE workflow_id = $1 AND action = 'content-review' ORDER BY step`,
        [handle.workflowId],
      );
      assert.deepEqual(
        rows.map((r) => [r.step, r.actor, r.outcome]),
        [
          ['review:essay-feedback-7781', 'faculty', 'approved'],
          ['review:lesson-genesis-3-summary', 'faculty', 'approved'],
          ['review:quiz-romans-5-q4', 'faculty', 'withdrawn'],
        ],
      );
    },
  );

  suite.test('pages the AI Team Lead when the score stays below the SLO after the reviews', async () => {
    service.set('theological-checker', 'flagged-content');
    let reads = 0;
    const real = service.content;
    suite.receiver.route('/api/qa/theological-alignment/metrics', (req) => {
      reads += 1;
      const answer = real.answer(req.method, req.path, req.body)!;
      // The checker keeps scoring new content low: the reviews do not bring the score back.
      return reads === 1 ? answer : { status: 200, body: { alignmentScore: 0.81, flaggedCount: 0 } };
    });
    try {
      const pagesBefore = pagerDutyEvents(suite.receiver).length;
      const handle = await run();
      await allGatesOpen(handle);
      for (const gate of (await handle.query(theologicalReviewStatusQuery)).gates) {
        await decide(handle, gate.gate, 'approve');
      }
      await rejectsWithCause(handle.result(), /alignment still below 0.9 .*alignment 0.78 → 0.81/);
      assert.equal((await handle.query(theologicalReviewStatusQuery)).step, 'escalated');
      await replayOwnHistory(handle);
      assert.ok(
        pagerDutyEvents(suite.receiver)
          .slice(pagesBefore)
          .some((e) => /theological-alignment/.test(e.payload?.summary ?? '')),
      );
    } finally {
      suite.receiver.route('/api/qa/theological-alignment/metrics', (req) =>
        real.answer(req.method, req.path, req.body)!,
      );
    }
  });

  suite.test(
    'replays its history when decisions arrive together while an audit write is still running',
    async () => {
      service.set('theological-checker', 'flagged-content');
      const handle = await run();
      await allGatesOpen(handle);
      const { gates } = await handle.query(theologicalReviewStatusQuery);
      await Promise.all(gates.map((g) => decide(handle, g.gate, 'approve')));
      await handle.result();
      await replayOwnHistory(handle);
    },
    {
      // Slower than the roster read, so each decision's roster read would finish first when both ran at once.
      recordAudit: async (records) => {
        await new Promise((r) => setTimeout(r, 300));
        await createActivities(suite.deps).recordAudit(records);
      },
    },
  );

  suite.test('asks nobody when nothing is flagged and the score meets the SLO', async () => {
    service.set('theological-checker', 'healthy');
    const result = await (await run()).result();
    assert.deepEqual(result.reviews, []);
    assert.equal(result.before.alignmentScore, 0.96);
  });

  suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause((await run({ minAlignment: 2 })).result(), /^minAlignment:/);
    await rejectsWithCause((await run({ reviewers: ['x'] })).result(), /reviewers/);
  });
});
