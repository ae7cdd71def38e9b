/** Redis activities (the runbooks' `redis-cli` steps). */
import type { Redis } from 'ioredis';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/failures';
import { validatePurgeInput, type PurgeCacheInput } from '../workflows/maintenance/messages';
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

/** The heartbeat checkpoint: every key SCAN returned before `cursor` has been unlinked. */
export interface PurgeProgress {
  cursor: string;
  scanned: number;
  removed: number;
  batches: number;
}

export interface PurgeCacheResult extends PurgeProgress {
  pattern: string;
  /** True when this attempt continued a checkpoint left by an earlier one (a crashed worker). */
  resumed: boolean;
  resumedFromCursor?: string;
  /** SCAN calls made by this attempt alone; below `batches` after a resume. */
  batchesThisAttempt: number;
  durationMs: number;
}

function isProgress(d: unknown): d is PurgeProgress {
  const p = d as PurgeProgress | undefined;
  return typeof p?.cursor === 'string' && /^\d+$/.test(p.cursor) && [p.scanned, p.removed, p.batches].every(Number.isInteger);
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

/** How long a failed or cancelled purge waits for its UNLINK in flight before giving up on counting it. */
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
     * KEYS and without holding the key list: SCAN MATCH with a large COUNT, UNLINK (freed off the main thread),
     * and the next SCAN sent while the current batch's UNLINK is in flight, so the round trips overlap.
     * Safe to retry and to resume: a SCAN cursor is stateless on the server, SCAN returns every key present for
     * the whole iteration at least once, and unlinking a key twice removes nothing.
     */
    async purgeCacheKeys(rawInput?: PurgeCacheInput): Promise<PurgeCacheResult> {
      const input = validatePurgeInput(rawInput);
      const started = performance.now();
      const checkpoint = activityInfo().heartbeatDetails as unknown;
      const resumed = isProgress(checkpoint) && checkpoint.batches > 0;
      const progress: PurgeProgress = resumed ? { ...checkpoint } : { cursor: '0', scanned: 0, removed: 0, batches: 0 };
      const resumedFromCursor = resumed ? progress.cursor : undefined;
      const result = (batchesThisAttempt: number): PurgeCacheResult => ({
        pattern: input.pattern,
        ...progress,
        resumed,
        resumedFromCursor,
        batchesThisAttempt,
        durationMs: Math.round(performance.now() - started),
      });
      // An earlier attempt finished the iteration (cursor back to 0) but died before reporting it.
      if (resumed && progress.cursor === '0') return result(0);
      let batchesThisAttempt = 0;
      const scan = (cursor: string) => {
        batchesThisAttempt++;
        return redis.scan(cursor, 'MATCH', input.pattern, 'COUNT', input.scanCount);
      };

      // Set once this attempt has ended: an UNLINK answering later must not move the checkpoint of an attempt
      // that is over.
      let ended = false;
      let unlinking: Promise<void> = Promise.resolve();
      try {
        // Redis answers one connection's commands in order, so each SCAN is queued ahead of the UNLINK built from
        // the batch before it: Redis works on one while this process parses the other's reply and never waits idle.
        let scanning = quiet(scan(progress.cursor));
        for (;;) {
          throwIfCancelled();
          const [next, keys] = await scanning;
          const done = next === '0';
          if (!done) scanning = quiet(scan(next));
          const removed = unlinkAll(redis, keys, input.unlinkBatch);
          const before = unlinking;
          // The checkpoint moves past a batch only once its UNLINK and every earlier one have answered: a crash
          // before then rescans it.
          unlinking = quiet(
            Promise.all([removed, before]).then(([n]) => {
              if (ended) return;
              progress.cursor = next;
              progress.scanned += keys.length;
              progress.removed += n;
              progress.batches++;
              heartbeat({ ...progress });
            }),
          );
          // At most two batches' keys are held: this one and the one whose UNLINK is still in flight.
          await before;
          if (done) {
            await unlinking;
            break;
          }
        }
      } catch (err) {
        // An UNLINK already sent has removed its keys whatever happens here: let it answer (briefly) so that the
        // last checkpoint counts them, and a resumed attempt's total stays exact.
        await Promise.race([unlinking.catch(() => undefined), new Promise((r) => setTimeout(r, UNLINK_SETTLE_MS))]);
        if (err instanceof Error && !(err instanceof ApplicationFailure) && !Context.current().cancellationSignal.aborted) {
          throw ApplicationFailure.create({ type: FailureType.UpstreamUnavailable, message: `Redis: ${err.message}` });
        }
        throw err;
      } finally {
        ended = true;
      }
      return result(batchesThisAttempt);
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
