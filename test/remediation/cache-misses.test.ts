/**
 * cacheMissesRemediation against Redis and the demo API's ScrollUniversity endpoints (a demo API of this file's own):
 * the rebuild below 70 %, the TTL and eviction findings, and a page when the hit rate stays low.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { cacheMissesRemediation } from '../../src/workflows';
import { scrollUniversitySuite } from '../helpers/scrolluniversity';
import { rejectsWithCause, replayOwnHistory } from '../helpers/temporal';

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
    const { incident, childType, childResult, timeline } = await su.quickFixChild('rebuild-cache', 'P3');
    assert.equal(childType, 'cacheMissesRemediation');
    assert.equal(childResult.outcome, 'fixed');
    assert.ok(
      timeline.some((e) => /^quick fix rebuild-cache: cache rebuild: fixed; cache cleared and rebuilt/.test(e)),
      JSON.stringify(timeline),
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
