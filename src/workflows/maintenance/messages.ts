/**
 * Inputs of the maintenance steps and their validation, shared by the activities (which check again: they can be
 * called directly) and the workflows (which refuse bad input before scheduling anything). No Node APIs here.
 */
import { invalidInput } from '../../common/failures';

export interface PurgeCacheInput {
  /** SCAN MATCH glob; `ai:*` when absent. */
  pattern?: string;
  /**
   * SCAN COUNT hint: about how many keys each call looks at. 1000 when absent: larger means fewer round trips, but
   * a batch's keys then leave Redis's CPU cache before its UNLINK looks them up again (5000 took 10-15 % longer).
   */
  scanCount?: number;
  /** Keys per UNLINK command; 1000 when absent. */
  unlinkBatch?: number;
  /** A pattern without a literal prefix (`*`, `?x`, `[a-z]*`) can match every key: refused unless set. */
  allowUnprefixed?: boolean;
}

export interface RetentionInput {
  /** Completed optimisations created before now() minus this many days are deleted; 90 when absent. */
  olderThanDays?: number;
  /** ISO time: no batch starts that could still be running then; the result says what remains. */
  stopBy?: string;
  /** Aimed-at duration of one batch's transaction; the batch's key range adapts to it. 25 ms when absent: a quarter of the 100 ms any transaction may take, so a batch slowed by load stays under it. */
  targetBatchMs?: number;
}

function wholeNumber(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function fieldsOf(raw: unknown, known: string[], what: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidInput('input', 'must be a JSON object');
  const extra = Object.keys(raw).filter((k) => !known.includes(k));
  if (extra.length) throw invalidInput(extra[0], `is not a field of ${what} input`);
  return raw as Record<string, unknown>;
}

const PURGE_DEFAULTS = { pattern: 'ai:*', scanCount: 1000, unlinkBatch: 1000 };
const RETENTION_DEFAULTS = { olderThanDays: 90, targetBatchMs: 25 };

export function validatePurgeInput(raw: unknown): Required<PurgeCacheInput> {
  const { pattern, scanCount, unlinkBatch, allowUnprefixed } = fieldsOf(
    raw,
    ['pattern', 'scanCount', 'unlinkBatch', 'allowUnprefixed'],
    'purgeCache',
  );
  if (allowUnprefixed !== undefined && typeof allowUnprefixed !== 'boolean') {
    throw invalidInput('allowUnprefixed', 'must be true or false');
  }
  const glob = pattern ?? PURGE_DEFAULTS.pattern;
  if (typeof glob !== 'string' || glob.length === 0 || glob.length > 200 || /[\s\x00-\x1f\x7f]/.test(glob)) {
    throw invalidInput('pattern', 'must be 1-200 printable characters without spaces');
  }
  if (/^[*?[]/.test(glob) && allowUnprefixed !== true) {
    throw invalidInput('pattern', `"${glob}" has no literal prefix and could remove every key; set allowUnprefixed to mean it`);
  }
  return {
    pattern: glob,
    scanCount: wholeNumber(scanCount, 'scanCount', 10, 100_000, PURGE_DEFAULTS.scanCount),
    unlinkBatch: wholeNumber(unlinkBatch, 'unlinkBatch', 1, 10_000, PURGE_DEFAULTS.unlinkBatch),
    allowUnprefixed: allowUnprefixed === true,
  };
}

export interface ValidRetentionInput {
  olderThanDays: number;
  /** stopBy in epoch milliseconds. */
  stopAt?: number;
  targetBatchMs: number;
}

export function validateRetentionInput(raw: unknown): ValidRetentionInput {
  const { olderThanDays, stopBy, targetBatchMs } = fieldsOf(
    raw,
    ['olderThanDays', 'stopBy', 'targetBatchMs'],
    'pruneOptimizations',
  );
  let stopAt: number | undefined;
  if (stopBy !== undefined) {
    stopAt = typeof stopBy === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(stopBy) ? Date.parse(stopBy) : NaN;
    if (Number.isNaN(stopAt)) throw invalidInput('stopBy', 'must be an ISO 8601 date-time, e.g. 2026-03-01T04:00:00Z');
  }
  return {
    // A day at least: 0 would delete every completed optimisation, including today's.
    olderThanDays: wholeNumber(olderThanDays, 'olderThanDays', 1, 3650, RETENTION_DEFAULTS.olderThanDays),
    stopAt,
    targetBatchMs: wholeNumber(targetBatchMs, 'targetBatchMs', 5, 100, RETENTION_DEFAULTS.targetBatchMs),
  };
}
