/**
 * How far a heartbeating activity has come, read from the details it last heartbeated (what describe() shows as a
 * pending activity's heartbeat details). Each long activity checkpoints in its own shape; the ones recognised here
 * give a fraction, any other shows its counters only.
 */
import type { PurgeProgress, RetentionProgress } from '../contracts/maintenance';

export interface ActivityProgress {
  /** 0..1 when the details say how far along; absent when they only count. */
  fraction?: number;
  /** Short counters for people, e.g. "removed 12000". */
  counts: string;
}

const TWO_64 = 1n << 64n;

/** The bits of a 64-bit number in reverse order. */
function reverse64(value: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 64; i++) {
    out = (out << 1n) | ((value >> BigInt(i)) & 1n);
  }
  return out;
}

/**
 * Redis SCAN walks the hash table in reverse-binary cursor order, so the cursor's bits reversed, over 2^64, is the
 * share of the table already visited. The purge's lanes each own the cursors with one value of the low bits (the
 * top bits once reversed): a lane's share is what remains after dropping those.
 */
export function scanFraction(cursors: (string | null)[]): number {
  const lanes = BigInt(cursors.length);
  const shares = cursors.map((cursor) => {
    if (cursor === null) return 1;
    if (!/^\d+$/.test(cursor)) return 0;
    const walked = (reverse64(BigInt(cursor) % TWO_64) * lanes) % TWO_64;
    return Number((walked * 10_000n) / TWO_64) / 10_000;
  });
  return shares.reduce((a, b) => a + b, 0) / Math.max(1, shares.length);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function readProgress(details: unknown): ActivityProgress | undefined {
  if (!isObject(details)) return undefined;
  if (Array.isArray(details.cursors) && isNumber(details.removed)) {
    const purge = details as unknown as PurgeProgress;
    return { fraction: scanFraction(purge.cursors), counts: `scanned ${purge.scanned}, removed ${purge.removed}` };
  }
  if (typeof details.lastKey === 'string' && typeof details.endKey === 'string' && isNumber(details.deleted)) {
    const retention = details as unknown as RetentionProgress;
    const end = Number(retention.endKey);
    const fraction = end > 0 ? Math.min(1, Number(retention.lastKey) / end) : undefined;
    return { fraction, counts: `deleted ${retention.deleted} in ${retention.batches} batches` };
  }
  if (isNumber(details.bytes) && isNumber(details.of) && details.of > 0) {
    return { fraction: Math.min(1, details.bytes / details.of), counts: `${details.bytes} of ${details.of} bytes` };
  }
  const counters = Object.entries(details).filter(([, v]) => isNumber(v));
  if (counters.length === 0) return undefined;
  return { counts: counters.map(([k, v]) => `${k} ${v}`).join(', ') };
}
