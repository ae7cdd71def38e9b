/**
 * highAiCostsRemediation against the demo API's ScrollUniversity endpoints (a demo API of this file's own): the
 * throttle level chosen from the overspend, the root-cause checks in the report, the budget read again, and a page
 * when spending stays over the budget.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { highAiCostsRemediation } from '../../src/workflows';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { rejectsWithCause } from '../helpers/temporal';

describe('highAiCostsRemediation (seed 000 Issue 1)', () => {
  const su = scrollUniversitySuite('su-high-costs');
  const input = { requestedBy: 'oncall', reason: 'budget alert', settleSeconds: 60 };

  su.suite.test('throttles at the level the overspend calls for and sees spending back under the budget', async () => {
    await su.setCondition('over-budget');
    const result = await su.run(highAiCostsRemediation, input);
    assert.equal(result.outcome, 'fixed');
    assert.equal(result.before.ratio, 1.25);
    assert.deepEqual(result.actions, ['cost throttling enabled at level aggressive']);
    assert.equal(result.after?.throttle, 'aggressive');
    assert.ok(Number(result.after?.ratio) < 1);
    assert.ok(result.findings.some((f) => /request patterns: 480\/min .* \(unusual\)/.test(f)));
    assert.ok(result.findings.some((f) => /top token users: batch-essay-import/.test(f)));
    assert.ok(result.findings.some((f) => /retry loops: essay-grader ×37/.test(f)));
    assert.ok(result.findings.some((f) => /cache hit rate 0\.85/.test(f)));
    assert.ok(su.messages().some((t) => /cost throttling \(aggressive\) brought spending to 41 %/.test(t)));
    assert.deepEqual(su.pages(), []);
  });

  su.suite.test('pages the on-call engineer and the AI lead when spending stays over the budget', async () => {
    await su.setCondition('over-budget', true);
    const result = await su.run(highAiCostsRemediation, input);
    assert.equal(result.outcome, 'escalated');
    assert.equal(result.after?.ratio, 1.25);
    assert.ok(su.pages().some((p) => /spending still 125 % of the budget after throttling at aggressive/.test(p)));
  });

  su.suite.test('changes nothing while spending is within the alert ratio', async () => {
    await su.setCondition('healthy');
    const result = await su.run(highAiCostsRemediation, input);
    assert.equal(result.outcome, 'not-needed');
    assert.deepEqual(result.actions, []);
    assert.equal(result.before.throttle, 'aggressive', 'the earlier test left its throttle on, and it is only read');
  });

  su.suite.test("the incident's quick fix enable-cost-throttling runs this workflow as its child", async () => {
    await su.setCondition('over-budget');
    const { incident, childType, childResult, timeline } = await su.quickFixChild('enable-cost-throttling', 'P2');
    assert.equal(childType, 'highAiCostsRemediation');
    assert.equal(childResult.outcome, 'fixed');
    assert.ok(
      timeline.some((e) =>
        /^quick fix enable-cost-throttling: cost throttling: fixed; cost throttling enabled at level aggressive/.test(
          e,
        ),
      ),
      JSON.stringify(timeline),
    );
    await incident.terminate('test over');
  });

  su.suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      su.run(highAiCostsRemediation, { ...input, settleSeconds: -1 }),
      /^settleSeconds: must be a whole number/,
    );
    await rejectsWithCause(su.run(highAiCostsRemediation, { reason: 'x' } as never), /^requestedBy: is required/);
  });
});
