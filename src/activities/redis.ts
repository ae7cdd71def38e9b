/** Redis activities (the runbooks' `redis-cli` steps). */
import type { Redis } from 'ioredis';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/failures';
import type { DependencyProbe } from '../workflows/health/types';

export interface RedisDeps {
  redis: Redis;
}

/** Parses the `key:value` lines of one INFO section. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export function createRedisActivities({ redis }: RedisDeps) {
  return {
    /** `redis-cli PING` and seed 000 Issue 4's `redis-cli INFO stats`: reachability and cache hit rate. */
    async probeCache(): Promise<DependencyProbe> {
      const started = performance.now();
      try {
        const pong = await redis.ping();
        const stats = parseInfo(await redis.info('stats'));
        const hits = Number(stats.keyspace_hits ?? 0);
        const misses = Number(stats.keyspace_misses ?? 0);
        return {
          name: 'cache',
          ok: pong === 'PONG',
          latencyMs: Math.round(performance.now() - started),
          detail: { hits, misses, hitRate: hits + misses === 0 ? 1 : Number((hits / (hits + misses)).toFixed(4)) },
        };
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `Redis: ${(err as Error).message}`,
        });
      }
    },
  };
}
