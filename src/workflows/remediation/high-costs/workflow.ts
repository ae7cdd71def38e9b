/**
 * ScrollUniversity Issue 1, High AI API Costs (seed 000):
 *
 *   curl http://localhost:3000/api/cost-optimization/budget/status          # Check current spending
 *   curl -X POST http://localhost:3000/api/cost-optimization/throttle \
 *     -H "Content-Type: application/json" -d '{"enabled": true, "level": "moderate"}'   # Enable cost throttling
 *
 * with the Root Cause Analysis in the report: unusual request patterns, cache hit rates, services with high token
 * usage, retry loops. The throttle's level follows the overspend (throttleLevelFor); after it, the budget is read
 * again, and spending still at or over the budget pages the on-call engineer and the AI Team Lead. Also the
 * incident's quick fix `enable-cost-throttling`.
 *
 *   temporal workflow start --type highAiCostsRemediation --task-queue aiops-runbooks \
 *     --workflow-id su-high-costs-1 --input '{"requestedBy":"oncall","reason":"budget alert"}'
 */
import { throttleLevelFor } from '../../../contracts/scrolluniversity';
import { changes, probes } from '../../policies';
import type { RemediationInput, RemediationResult } from '../messages';
import { Remediation } from '../remediation';

export async function highAiCostsRemediation(input: RemediationInput): Promise<RemediationResult> {
  const r = new Remediation('high-ai-costs', input, 'highAiCostsRemediation');
  const before = await probes.budgetStatus();
  r.finding(
    `spent ${before.spent} of ${before.budget} (${Math.round(before.ratio * 100)} %), throttle ${before.throttle}`,
  );
  const figures = (b: typeof before) => ({ spent: b.spent, budget: b.budget, ratio: b.ratio, throttle: b.throttle });
  if (!before.anomaly) return r.finish({ outcome: 'not-needed', before: figures(before) });

  // Root cause analysis, steps 1-4: each check that cannot be made is reported as such.
  r.step('root-cause');
  const usage = await r.check('request patterns', probes.usagePatterns());
  if (usage) {
    const factor = usage.baselineRequestsPerMinute > 0 ? usage.requestsPerMinute / usage.baselineRequestsPerMinute : 1;
    r.finding(
      `request patterns: ${usage.requestsPerMinute}/min against a baseline of ${usage.baselineRequestsPerMinute}/min${factor >= 2 ? ' (unusual)' : ''}`,
    );
    r.finding(`top token users: ${usage.topTokenUsers.map((u) => `${u.user} ${u.tokens}`).join(', ') || 'none'}`);
    r.finding(`retry loops: ${usage.retryLoops.map((l) => `${l.service} ×${l.retries}`).join(', ') || 'none'}`);
  }
  const cache = await r.check('cache hit rate', probes.cacheStats());
  if (cache) r.finding(`cache hit rate ${cache.hitRate}`);

  r.step('throttle');
  const level = throttleLevelFor(before.ratio);
  await changes.setCostThrottle({ level, key: r.gates.pager.dedupKey });
  r.acted(`cost throttling enabled at level ${level}`, { ratio: before.ratio });

  await r.settle();
  const after = await probes.budgetStatus();
  if (after.ratio < 1) {
    await r.tell(`cost throttling (${level}) brought spending to ${Math.round(after.ratio * 100)} % of the budget`);
    return r.finish({ outcome: 'fixed', before: figures(before), after: figures(after) });
  }
  await r.escalate(
    `spending still ${Math.round(after.ratio * 100)} % of the budget after throttling at ${level}: ${r.findings.join('; ')}`,
  );
  return r.finish({ outcome: 'escalated', before: figures(before), after: figures(after) });
}
