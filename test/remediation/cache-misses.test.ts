/**
 * cacheMissesRemediation against Redis and the demo API's ScrollUniversity endpoints (a demo API of this file's own):
 * the rebuild below 70 %, the TTL and eviction findings, and a page when the hit rate stays low.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { cacheMissesRemediation, incidentResponse } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

describe('cacheMissesRemediation (seed 000 Issue 4)', () => {
  const su = scrollUniversitySuite('su-cache');
  const input = { requestedBy: 'oncall', severity: 'P3' as const };

  su.suite.test('rebuilds a cache below 70 % and sees the hit rate back, with TTL and eviction findings', async () => {
    await su.setCondition('low-hit-rate');
    const result = await su.run(cacheMissesRemediation, input);
    assert.equal(result.outcome, 'fixed');
    assert.deepEqual(result.before, { hitRate: 0.45 });
    assert.deepEqual(result.after, { hitRate: 0.85 });
    assert.deepEqual(result.actions, ['cache cleared and rebuilt']);
    assert.ok(result.findings.some((f) => /^redis INFO stats: \{"hits":\d+,"misses":\d+,"hitRate":/.test(f)));
    assert.ok(result.findings.includes('TTL 3600 s'));
    assert.ok(result.findings.includes('evicted keys 18250'));
    assert.ok(result.findings.some((f) => /memory 95 % of the limit: evictions likely/.test(f)));
  });

  su.suite.test('pages when the hit rate is still low after the rebuild', async () => {
    await su.setCondition('low-hit-rate', true);
    const result = await su.run(cacheMissesRemediation, input);
    assert.equal(result.outcome, 'escalated');
    assert.ok(su.pages().some((p) => /cache hit rate still 0\.45 after a rebuild/.test(p)));
  });

  su.suite.test("the incident's quick fix rebuild-cache runs this workflow as its child", async () => {
    await su.setCondition('low-hit-rate');
    const fingerprint = uniqueId('su-cache');
    const incident = await su.suite.env.client.workflow.start(incidentResponse, {
      taskQueue: su.suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P3', service: 'ai-gateway-service', summary: 'cache hit rate low', fingerprint }],
    });
    for (const [gate, extra] of [
      ['acknowledge', {}],
      ['root-cause', {}],
      ['quick-fix', { choice: 'rebuild-cache' }],
    ] as const) {
      await queryUntil(incident, incidentStatusQuery, (st) => st.gates.some((g) => g.gate === gate), 30_000);
      await incident.executeUpdate(decideUpdate, {
        args: [{ gate, decision: 'approve', by: 'oncall', reason: `${gate} done`, ...extra }],
      });
    }
    const child = su.suite.env.client.workflow.getHandle(`${incident.workflowId}/quick-fix`);
    const described = await waitUntil('the quick fix child', () => child.describe().catch(() => undefined));
    assert.equal(described?.type, 'cacheMissesRemediation');
    // Awaiting the result is what lets the time-skipping server skip the child's settling time.
    assert.equal((await child.result()).outcome, 'fixed');
    const status = await queryUntil(incident, incidentStatusQuery, (st) => st.step === 'monitor', 60_000);
    assert.ok(
      status.timeline.some((e) =>
        /^quick fix rebuild-cache: cache rebuild: fixed; cache cleared and rebuilt/.test(e.event),
      ),
      JSON.stringify(status.timeline),
    );
    await incident.terminate('test over');
    await replayOwnHistory(incident);
  });

  su.suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      su.run(cacheMissesRemediation, { ...input, severity: 'P9' } as never),
      /^severity: must be one of P0, P1, P2, P3/,
    );
  });
});
