/** Redis activities (the runbooks' `redis-cli` steps). */
import type { Redis } from 'ioredis';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failures';
import {
  validatePurgeInput,
  type PurgeCacheInput,
  type PurgeCacheResult,
  type PurgeProgress,
} from '../contracts/maintenance';
import type { DependencyProbe } from '../contracts/probes';

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

const isCursor = (c: unknown): c is string | null => c === null || (typeof c === 'string' && /^\d+$/.test(c));

/** The checkpoint an earlier attempt heartbeated, if any; a single-cursor one (before lanes) is one lane. */
function readPurgeCheckpoint(details: unknown): PurgeProgress | undefined {
  const d = details as (Partial<PurgeProgress> & { cursor?: unknown }) | undefined;
  if (!d || ![d.scanned, d.removed, d.batches].every(Number.isInteger)) return undefined;
  const counts = { scanned: d.scanned!, removed: d.removed!, batches: d.batches! };
  // A power of two: lane i is the cursors whose low bits are i.
  const lanes = Array.isArray(d.cursors) ? d.cursors.length : 0;
  if (lanes > 0 && (lanes & (lanes - 1)) === 0 && d.cursors!.every(isCursor)) {
    return { cursors: [...d.cursors], ...counts };
  }
  if (isCursor(d.cursor) && d.cursor !== null) return { cursors: [d.cursor === '0' ? null : d.cursor], ...counts };
  return undefined;
}

/**
 * How many lanes SCAN can be split into on this server. Redis's SCAN cursor is a bucket index of its key table,
 * counted in reverse bit order, so its lowest bits change last: the cursors whose low two bits are i form one
 * unbroken stretch of the iteration, which starts at cursor i and ends where a returned cursor's low bits differ.
 * A Redis key table has at least four buckets, so four lanes never share one. Other servers that speak the
 * protocol (Valkey, Dragonfly, KeyDB, a Redis Cluster node, whose cursor carries a slot number in its low bits)
 * lay their cursors out otherwise, and get a single lane.
 */
export function purgeLanes(info: Record<string, string>): number {
  const otherServer = Object.keys(info).some(
    (k) => k.endsWith('_version') && k !== 'redis_version' && k !== 'gcc_version',
  );
  const plainRedis = info.redis_mode === 'standalone' && !otherServer && (info.server_name ?? 'redis') === 'redis';
  return plainRedis ? 4 : 1;
}

/** INFO can be refused (an ACL without it, a renamed command); the purge then runs one lane rather than none. */
async function lanesOn(redis: Redis): Promise<number> {
  try {
    return purgeLanes(parseInfo(await redis.info('server')));
  } catch {
    return 1;
  }
}

/** Throws the activity's cancellation once the server has asked for it (delivered through heartbeats). */
function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason;
}

/** UNLINK in commands of at most `size` keys, sent back to back; resolves to the number removed. */
async function unlinkAll(redis: Redis, keys: string[], size: number): Promise<number> {
  const sent: Promise<number>[] = [];
  for (let i = 0; i < keys.length; i += size) sent.push(redis.unlink(...keys.slice(i, i + size)));
  return (await Promise.all(sent)).reduce((a, b) => a + b, 0);
}

/** How long a failed or cancelled purge waits for its commands in flight before giving up on counting them. */
const UNLINK_SETTLE_MS = 2000;

/** Marks a promise as observed so an early exit elsewhere cannot leave its rejection unhandled; awaiting it still throws. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

export function createRedisActivities({ redis }: RedisDeps) {
  return {
    /**
     * Seed 002 Sunday "Cache optimization" (`redis-cli --scan --pattern "ai:*" | xargs redis-cli DEL`), without
     * KEYS and without holding the key list: SCAN MATCH, UNLINK (freed off the main thread), pipelined.
     * The SCAN runs as four lanes at once on one connection (see `purgeLanes`). Each lane sends the UNLINK of a
     * batch right behind the SCAN that found it, with its next SCAN behind that: Redis finds the keys still in its
     * CPU cache, and it has the other lanes' commands to run while this process reads a reply, so it never idles.
     * With one lane, the next SCAN goes first instead, or Redis would wait for every round trip.
     * Safe to retry and to resume: a SCAN cursor is stateless on the server, SCAN returns every key present for
     * the whole iteration at least once, and unlinking a key twice removes nothing.
     */
    async purgeCacheKeys(rawInput?: PurgeCacheInput): Promise<PurgeCacheResult> {
      const input = validatePurgeInput(rawInput);
      const started = performance.now();
      const checkpoint = readPurgeCheckpoint(activityInfo().heartbeatDetails);
      const resumed = checkpoint !== undefined && checkpoint.batches > 0;
      let batchesThisAttempt = 0;
      const progress: PurgeProgress = resumed
        ? checkpoint
        : {
            cursors: Array.from({ length: await lanesOn(redis) }, (_, i) => String(i)),
            scanned: 0,
            removed: 0,
            batches: 0,
          };
      const resumedFrom = resumed ? [...progress.cursors] : undefined;
      const result = (): PurgeCacheResult => ({
        pattern: input.pattern,
        ...progress,
        cursors: [...progress.cursors],
        resumed,
        resumedFrom,
        batchesThisAttempt,
        durationMs: Math.round(performance.now() - started),
      });
      const laneMask = BigInt(progress.cursors.length - 1);
      const unlinkFirst = progress.cursors.length > 1;
      const scan = (cursor: string) => {
        batchesThisAttempt++;
        return quiet(redis.scan(cursor, 'MATCH', input.pattern, 'COUNT', input.scanCount));
      };

      // Set once this attempt has ended: an UNLINK answering later must not move the checkpoint of an attempt
      // that is over. `stopping` ends every lane at its next batch once one of them has failed.
      let ended = false;
      let stopping = false;
      const unlinked: Promise<void>[] = progress.cursors.map(() => Promise.resolve());
      const lane = async (i: number) => {
        let cursor = progress.cursors[i];
        if (cursor === null) return;
        let scanning = scan(cursor);
        for (;;) {
          throwIfCancelled();
          const [next, keys] = await scanning;
          const after = next === '0' || (BigInt(next) & laneMask) !== BigInt(i) ? null : next;
          if (after !== null && !unlinkFirst) scanning = scan(after);
          const removed = unlinkAll(redis, keys, input.unlinkBatch);
          if (after !== null && unlinkFirst) scanning = scan(after);
          const before = unlinked[i];
          // The checkpoint moves past a batch only once its UNLINK and the lane's earlier ones have answered: a
          // crash before then rescans it.
          unlinked[i] = quiet(
            Promise.all([removed, before]).then(([n]) => {
              if (ended) return;
              progress.cursors[i] = after;
              progress.scanned += keys.length;
              progress.removed += n;
              progress.batches++;
              heartbeat({ ...progress, cursors: [...progress.cursors] });
            }),
          );
          // At most two batches' keys per lane are held: this one and the one whose UNLINK is still in flight.
          await before;
          if (after === null) return unlinked[i];
          if (stopping) return;
        }
      };
      const lanes = progress.cursors.map((_, i) => quiet(lane(i)));
      try {
        await Promise.all(lanes);
      } catch (err) {
        stopping = true;
        // An UNLINK already sent has removed its keys whatever happens here: let the lanes' commands answer
        // (briefly) so that the last checkpoint counts them, and a resumed attempt's total stays exact.
        const settle = new Promise((r) => setTimeout(r, UNLINK_SETTLE_MS));
        await Promise.race([Promise.allSettled(lanes).then(() => Promise.allSettled(unlinked)), settle]);
        if (
          err instanceof Error &&
          !(err instanceof ApplicationFailure) &&
          !Context.current().cancellationSignal.aborted
        ) {
          throw ApplicationFailure.create({ type: FailureType.UpstreamUnavailable, message: `Redis: ${err.message}` });
        }
        throw err;
      } finally {
        ended = true;
      }
      return result();
    },

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
