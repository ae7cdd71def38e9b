/**
 * budgetExceededResponse against the demo API's ScrollUniversity endpoints (a demo API of this file's own): the
 * emergency throttle, the spending breakdown, the P1 incident, and a page when spending stays over the budget.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { budgetExceededResponse } from '../../src/workflows';
import { BUDGET_EXCEEDED_FINGERPRINT } from '../../src/workflows/remediation/budget-exceeded/workflow';
import { incidentWorkflowId } from '../../src/workflows/incident/messages';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { rejectsWithCause } from '../helpers/temporal';

describe('budgetExceededResponse (seed 000 Emergency Procedures, Budget Exceeded)', () => {
  const su = scrollUniversitySuite('su-budget');
  const input = { requestedBy: 'oncall', severity: 'P1' as const, settleSeconds: 60 };

  su.suite.test('throttles at once, reports the cost drivers and opens the P1 incident', async () => {
    await su.setCondition('over-budget');
    const result = await su.run(budgetExceededResponse, input);
    assert.equal(result.outcome, 'fixed');
    assert.deepEqual(result.actions, [
      'emergency throttling enabled',
      `P1 incident opened: ${incidentWorkflowId(BUDGET_EXCEEDED_FINGERPRINT)}`,
    ]);
    assert.equal(result.after?.throttle, 'emergency');
    assert.ok(result.findings.some((f) => /cost drivers: essay-grader 687\.5/.test(f)));
    assert.ok(result.findings.some((f) => /possible abuse \(top token users\): batch-essay-import/.test(f)));
    const incident = su.suite.env.client.workflow.getHandle(result.incident!.workflowId);
    const described = await incident.describe();
    assert.equal(described.type, 'incidentResponse');
    await incident.terminate('test over');
  });

  su.suite.test('pages when spending stays over the budget under the emergency throttle', async () => {
    await su.setCondition('over-budget', true);
    const result = await su.run(budgetExceededResponse, { ...input, openIncident: false });
    assert.equal(result.outcome, 'escalated');
    assert.equal(result.incident, undefined);
    assert.ok(su.pages().some((p) => /spending still 125 % of the budget under emergency throttling/.test(p)));
  });

  su.suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      su.run(budgetExceededResponse, { ...input, openIncident: 'yes' } as never),
      /^openIncident: must be true or false/,
    );
  });
});
