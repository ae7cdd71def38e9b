/** Redis activities (the runbooks' `redis-cli` steps). */
import type { Redis } from 'ioredis';
import { activityInfo, Context, heartbeat, log } from '@temporalio/activity';
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

/**
 * The fence and the count of one purge run (a workflow's activity, over all its attempts), in a hash of its own:
 * `fence` is the token of the attempt allowed to unlink, `removed` the keys its batches removed, every attempt's.
 * The attempt that finishes deletes it (FINISH_ATTEMPT), so a purge leaves no key behind; one that no attempt
 * finishes goes a week after the last attempt started (an attempt lasts an hour at most). A purge never removes keys
 * under this prefix, whatever its pattern.
 */
export const PURGE_RUN_PREFIX = 'aiops:purge:';
const PURGE_RUN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Starts an attempt: fixes the count it goes on from (KEYS[1]'s `removed`: reset to ARGV[2] when ARGV[1] is
 * `reset`, else raised to ARGV[2] if below it), then takes the next token, which fences off every earlier attempt.
 * Returns the token and the count.
 */
const BEGIN_ATTEMPT = `
local had = tonumber(redis.call('HGET', KEYS[1], 'removed') or '0')
if ARGV[1] == 'reset' or had < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'removed', ARGV[2]) end
local token = redis.call('HINCRBY', KEYS[1], 'fence', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {token, tonumber(redis.call('HGET', KEYS[1], 'removed'))}`;

/**
 * One batch: UNLINKs KEYS[2..] and adds what it removed to the run's count, but only while the run's fence still
 * holds this attempt's token (ARGV[1]). Returns the run's count after it, or -1 (nothing touched) once a later
 * attempt has taken the fence. In commands of at most 4,000 keys: Lua's unpack has a limit of about 8,000.
 */
const UNLINK_FENCED = `
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[1] then return -1 end
local n = 0
for i = 2, #KEYS, 4000 do n = n + redis.call('UNLINK', unpack(KEYS, i, math.min(i + 3999, #KEYS))) end
return redis.call('HINCRBY', KEYS[1], 'removed', n)`;

/**
 * Ends an attempt that went through: returns the run's count and deletes its hash, while the fence still holds this
 * attempt's token (ARGV[1]); -1 otherwise. Once deleted, an earlier attempt's next batch finds no token and stops.
 * Should the completion then be lost and the activity retried, the retry counts from its checkpoint's figure.
 */
const FINISH_ATTEMPT = `
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[1] then return -1 end
local removed = tonumber(redis.call('HGET', KEYS[1], 'removed'))
redis.call('DEL', KEYS[1])
return removed`;

interface PurgeScripts {
  aiopsPurgeBegin(
    numKeys: 1,
    run: string,
    mode: 'reset' | 'at-least',
    removed: number,
    ttl: number,
  ): Promise<[number, number]>;
  aiopsPurgeUnlink(numKeys: number, ...keysThenToken: string[]): Promise<number>;
  aiopsPurgeFinish(numKeys: 1, run: string, token: string): Promise<number>;
}

/** The purge's scripts on this client (EVALSHA, loaded by ioredis on the first NOSCRIPT). */
function purgeScripts(redis: Redis): PurgeScripts {
  const scripts = redis as unknown as Partial<PurgeScripts>;
  if (!scripts.aiopsPurgeBegin) redis.defineCommand('aiopsPurgeBegin', { lua: BEGIN_ATTEMPT });
  if (!scripts.aiopsPurgeUnlink) redis.defineCommand('aiopsPurgeUnlink', { lua: UNLINK_FENCED });
  if (!scripts.aiopsPurgeFinish) redis.defineCommand('aiopsPurgeFinish', { lua: FINISH_ATTEMPT });
  return redis as unknown as PurgeScripts;
}

/** Whether keys matching `pattern` could start with PURGE_RUN_PREFIX: its literal start and the prefix overlap. */
export function couldMatchRunKeys(pattern: string): boolean {
  const literal = pattern.slice(0, pattern.search(/[*?[\\]|$/));
  return literal.startsWith(PURGE_RUN_PREFIX) || PURGE_RUN_PREFIX.startsWith(literal);
}

/** The attempt a later one of the same run has fenced off: it stops, having touched nothing since. */
function superseded(): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.Superseded,
    message: 'a later attempt of this purge has taken over; this one stops',
  });
}

/**
 * UNLINK in scripts of at most `size` keys, sent back to back, each fenced (UNLINK_FENCED); resolves to the run's
 * count after the last, or rejects as superseded.
 */
async function unlinkAll(scripts: PurgeScripts, run: string, token: string, keys: string[], size: number) {
  const sent: Promise<number>[] = [];
  for (let i = 0; i < keys.length; i += size) {
    const batch = keys.slice(i, i + size);
    sent.push(scripts.aiopsPurgeUnlink(batch.length + 1, run, ...batch, token));
  }
  const totals = await Promise.all(sent);
  if (totals.some((t) => t < 0)) throw superseded();
  return Math.max(...totals);
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
     * Fenced: the server retries an attempt whose heartbeats stopped, but a worker cut off from it goes on, unaware
     * (its heartbeats, and the cancellation they would bring back, cannot get through). Each attempt takes a new
     * token in the run's hash in Redis (PURGE_RUN_PREFIX) and every UNLINK batch runs in a script that checks it
     * first, so an earlier attempt removes nothing once a later one has started, and stops. The same script adds
     * each batch's count to the run's, so the result counts every key removed once, whichever attempt removed it.
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
      const info = activityInfo();
      const run = `${PURGE_RUN_PREFIX}${info.workflowExecution?.workflowId}/${info.workflowExecution?.runId}/${info.activityId}`;
      const scripts = purgeScripts(redis);
      let token: string;
      try {
        // A first attempt starts the count at 0 (a run key reused, as by a test's activity environment, counts
        // afresh); a retry keeps what the attempts before it counted, at least what its checkpoint says (an attempt
        // of a version without the count, or a hash lost with Redis's data).
        const first = info.attempt <= 1 && !resumed;
        const [fence, counted] = await scripts.aiopsPurgeBegin(
          1,
          run,
          first ? 'reset' : 'at-least',
          first ? 0 : (checkpoint?.removed ?? 0),
          PURGE_RUN_TTL_SECONDS,
        );
        token = String(fence);
        progress.removed = counted;
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `Redis: ${(err as Error).message}`,
        });
      }
      if (token !== '1') log.info('purge attempt took over the run', { token, removedSoFar: progress.removed });
      // Only a pattern that could reach the run hashes pays for leaving them out.
      const ownKeys = couldMatchRunKeys(input.pattern) ? (k: string) => k.startsWith(PURGE_RUN_PREFIX) : undefined;
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
          const doomed = ownKeys ? keys.filter((k) => !ownKeys(k)) : keys;
          const removed = doomed.length
            ? quiet(unlinkAll(scripts, run, token, doomed, input.unlinkBatch))
            : Promise.resolve(progress.removed);
          if (after !== null && unlinkFirst) scanning = scan(after);
          const before = unlinked[i];
          // The checkpoint moves past a batch only once its UNLINK and the lane's earlier ones have answered: a
          // crash before then rescans it.
          unlinked[i] = quiet(
            Promise.all([removed, before]).then(([n]) => {
              if (ended) return;
              progress.cursors[i] = after;
              progress.scanned += keys.length;
              progress.removed = Math.max(progress.removed, n);
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
      try {
        const counted = await scripts.aiopsPurgeFinish(1, run, token);
        if (counted < 0) throw superseded();
        progress.removed = counted;
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `Redis: ${(err as Error).message}`,
        });
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
