/**
 * ScrollUniversity Emergency Procedures, Budget Exceeded (seed 000):
 *
 *   curl -X POST http://localhost:3000/api/cost-optimization/emergency-throttle     # Enable emergency throttling
 *   curl http://localhost:3000/api/cost-optimization/spending/breakdown           # Check spending breakdown
 *
 * then the Analysis (cost drivers from the breakdown read just before the throttle, unusual patterns, abuse) in the report, and a P1 incident (seed 000's Severity
 * Levels: "Budget exceeded by 50%") opened, or joined when one is open, so people carry on with the Mitigation. No
 * gate: the emergency throttle is the procedure's immediate action. Spending still over the budget after it pages.
 * Also the incident's quick fix `emergency-throttle` (without a second incident: `openIncident: false`).
 *
 *   temporal workflow start --type budgetExceededResponse --task-queue aiops-runbooks \
 *     --workflow-id su-budget-exceeded-1 --input '{"requestedBy":"oncall","severity":"P1"}'
 */
import { changes, probes } from '../../policies';
import { openOrJoinIncident } from '../../incident/open';
import type { RemediationInput, RemediationResult } from '../messages';
import { Remediation } from '../remediation';

/** One incident for the budget, however often it is exceeded while that incident is open. */
export const BUDGET_EXCEEDED_FINGERPRINT = 'scrolluniversity-budget-exceeded';

export async function budgetExceededResponse(input: RemediationInput): Promise<RemediationResult> {
  const r = new Remediation('budget-exceeded', input, 'budgetExceededResponse');
  const before = await probes.budgetStatus();
  const figures = (b: typeof before) => ({ spent: b.spent, budget: b.budget, ratio: b.ratio, throttle: b.throttle });
  r.finding(
    `spent ${before.spent} of ${before.budget} (${Math.round(before.ratio * 100)} %), throttle ${before.throttle}`,
  );
  if (before.ratio < 1) return r.finish({ outcome: 'not-needed', before: figures(before) });

  // The breakdown and usage are read just before the throttle, not after it: the analysis is about the spending that
  // exceeded the budget, which a throttled service may no longer report; two GETs hold the throttle up by a moment.
  const breakdown = await r.check('spending breakdown', probes.spendingBreakdown());
  const usage = await r.check('usage patterns', probes.usagePatterns());
  r.step('emergency-throttle');
  await changes.emergencyThrottle({ key: r.gates.pager.dedupKey });
  r.acted('emergency throttling enabled');

  r.step('analysis');
  if (breakdown) {
    r.finding(
      `cost drivers: ${breakdown.services.map((s) => `${s.service} ${s.spent} (${s.tokens} tokens)`).join(', ') || 'none reported'}`,
    );
  }
  if (usage) {
    r.finding(`requests ${usage.requestsPerMinute}/min against a baseline of ${usage.baselineRequestsPerMinute}/min`);
    r.finding(
      `possible abuse (top token users): ${usage.topTokenUsers.map((u) => `${u.user} ${u.tokens}`).join(', ') || 'none'}`,
    );
  }

  let incident: RemediationResult['incident'];
  if (r.input.openIncident) {
    r.step('incident');
    incident = await openOrJoinIncident({
      severity: 'P1',
      service: 'ai-gateway-service',
      summary: `AI budget exceeded: spent ${before.spent} of ${before.budget}; emergency throttling on`,
      fingerprint: BUDGET_EXCEEDED_FINGERPRINT,
    });
    r.acted(`P1 incident ${incident.outcome}: ${incident.workflowId}`);
  }

  await r.settle();
  const after = await probes.budgetStatus();
  if (after.ratio < 1) {
    await r.tell(`emergency throttling brought spending to ${Math.round(after.ratio * 100)} % of the budget`);
    return r.finish({ outcome: 'fixed', before: figures(before), after: figures(after), incident });
  }
  await r.escalate(
    `spending still ${Math.round(after.ratio * 100)} % of the budget under emergency throttling: ${r.findings.join('; ')}`,
  );
  return r.finish({ outcome: 'escalated', before: figures(before), after: figures(after), incident });
}
