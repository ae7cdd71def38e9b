/**
 * ScrollUniversity Issue 4, Cache Misses (seed 000):
 *
 *   redis-cli INFO stats                                                # Check cache status
 *   curl http://localhost:3000/api/cost-optimization/cache/stats        # Check cache hit rate
 *   curl -X POST http://localhost:3000/api/cost-optimization/cache/rebuild   # Clear and rebuild cache
 *
 * Below the seed's 70 % the cache is rebuilt and the hit rate read again; the Root Cause Analysis's TTL, memory
 * limit and eviction findings go in the report. A hit rate still low after the rebuild pages.
 *
 *   temporal workflow start --type cacheMissesRemediation --task-queue aiops-runbooks \
 *     --workflow-id su-cache-misses-1 --input '{"requestedBy":"oncall","severity":"P3"}'
 */
import { CACHE_HIT_RATE_FLOOR } from '../../../contracts/scrolluniversity';
import { changes, probes } from '../../policies';
import type { RemediationInput, RemediationResult } from '../messages';
import { Remediation } from '../remediation';

export async function cacheMissesRemediation(input: RemediationInput): Promise<RemediationResult> {
  const r = new Remediation('cache-misses', input, 'cacheMissesRemediation');
  const redis = await r.check('redis INFO stats', probes.probeCache());
  if (redis) r.finding(`redis INFO stats: ${JSON.stringify(redis.detail)}`);
  const before = await probes.cacheStats();
  r.finding(`hit rate ${before.hitRate} (low below ${CACHE_HIT_RATE_FLOOR})`);
  if (before.ttlSeconds !== undefined) r.finding(`TTL ${before.ttlSeconds} s`);
  if (before.evictedKeys !== undefined) r.finding(`evicted keys ${before.evictedKeys}`);
  if (before.usedMemoryBytes !== undefined && before.maxMemoryBytes) {
    const share = before.usedMemoryBytes / before.maxMemoryBytes;
    r.finding(
      `memory ${Math.round(share * 100)} % of the limit${share >= 0.9 ? ': evictions likely from the memory limit' : ''}`,
    );
  }
  if (before.hitRate >= CACHE_HIT_RATE_FLOOR)
    return r.finish({ outcome: 'not-needed', before: { hitRate: before.hitRate } });

  r.step('rebuild');
  await changes.rebuildScrollUniversityCache({ key: r.gates.pager.dedupKey });
  r.acted('cache cleared and rebuilt');

  await r.settle();
  const after = await probes.cacheStats();
  const result = { before: { hitRate: before.hitRate }, after: { hitRate: after.hitRate } };
  if (after.hitRate >= CACHE_HIT_RATE_FLOOR) {
    await r.tell(`cache rebuilt: hit rate ${before.hitRate} → ${after.hitRate}`);
    return r.finish({ outcome: 'fixed', ...result });
  }
  await r.escalate(`cache hit rate still ${after.hitRate} after a rebuild: ${r.findings.join('; ')}`);
  return r.finish({ outcome: 'escalated', ...result });
}
