/**
 * The maintenance operations' inputs, checkpoints and results: the cache purge (seed 002 "Cache optimization") and
 * the retention delete (seed 002 "Database maintenance"). The workflows refuse bad input before scheduling
 * anything; the activities check again with the same schema, since they can be called directly.
 */
import { z } from 'zod';
import { isoTime, optionalObject, parseInput, wholeNumber } from './input';

export const purgeCacheInputSchema = optionalObject({
  /** SCAN MATCH glob. */
  pattern: z
    .string({ message: 'must be 1-200 printable characters without spaces' })
    .min(1, 'must be 1-200 printable characters without spaces')
    .max(200, 'must be 1-200 printable characters without spaces')
    .regex(/^[^\s\x00-\x1f\x7f]+$/, 'must be 1-200 printable characters without spaces')
    .default('ai:*'),
  /** SCAN COUNT hint: about how many keys each call looks at (README "Benchmark" for how 1000 was chosen). */
  scanCount: wholeNumber(10, 100_000).default(1000),
  /** Keys per UNLINK command. */
  unlinkBatch: wholeNumber(1, 10_000).default(1000),
  /** A pattern without a literal prefix (`*`, `?x`, `[a-z]*`) can match every key: refused unless set. */
  allowUnprefixed: z.boolean({ message: 'must be true or false' }).default(false),
}).superRefine((input, ctx) => {
  if (/^[*?[]/.test(input.pattern) && !input.allowUnprefixed) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['pattern'],
      message: `"${input.pattern}" has no literal prefix and could remove every key; set allowUnprefixed to mean it`,
    });
  }
});
export type PurgeCacheInput = z.input<typeof purgeCacheInputSchema>;
export type ValidPurgeInput = z.output<typeof purgeCacheInputSchema>;

export const validatePurgeInput = (raw: unknown): ValidPurgeInput =>
  parseInput(purgeCacheInputSchema, raw, 'purgeCache');

export const retentionInputSchema = optionalObject({
  /** Completed optimisations created before now() minus this many days are deleted. A day at least: 0 would delete today's too. */
  olderThanDays: wholeNumber(1, 3650).default(90),
  /** No batch starts that could still be running then; the result says what remains. */
  stopBy: isoTime.optional(),
  /**
   * Aimed-at duration of one batch's transaction; the batch's key range adapts to it. A quarter of the 100 ms any
   * transaction may take, so a batch slowed by load stays under it.
   */
  targetBatchMs: wholeNumber(5, 100).default(25),
}).transform((input) => ({ ...input, stopAt: input.stopBy === undefined ? undefined : Date.parse(input.stopBy) }));
export type RetentionInput = z.input<typeof retentionInputSchema>;
export type ValidRetentionInput = z.output<typeof retentionInputSchema>;

export const validateRetentionInput = (raw: unknown): ValidRetentionInput =>
  parseInput(retentionInputSchema, raw, 'pruneOptimizations');

/**
 * The heartbeat checkpoint. The SCAN is split into lanes by the low bits of the cursor (see `purgeLanes`): lane i
 * goes on from `cursors[i]`, or is through when that is null. Every key a lane's SCAN returned before its cursor
 * has been unlinked.
 */
export interface PurgeProgress {
  cursors: (string | null)[];
  scanned: number;
  removed: number;
  batches: number;
}

export interface PurgeCacheResult extends PurgeProgress {
  pattern: string;
  /** True when this attempt continued a checkpoint left by an earlier one (a crashed worker). */
  resumed: boolean;
  /** The lanes' cursors this attempt started from, after a resume. */
  resumedFrom?: (string | null)[];
  /** SCAN calls made by this attempt alone; below `batches` after a resume. */
  batchesThisAttempt: number;
  durationMs: number;
}

/** The heartbeat checkpoint. Keys are strings: bigserial ids may exceed what a JSON number holds exactly. */
export interface RetentionProgress {
  /** Every id below this one has been processed. */
  lastKey: string;
  /**
   * One past the highest id when the run began (rows added later are too new to be eligible), lowered to one past
   * the newest row older than the cutoff once that is known.
   */
  endKey: string;
  /** endKey has been lowered to the newest old row: a resumed attempt need not ask again. */
  endKeyBounded?: boolean;
  /** Fixed at the first attempt, so a resumed run deletes by the same rule. */
  cutoff: string;
  deleted: number;
  batches: number;
  /** The key-range width the adaptive sizing had reached. */
  rangeWidth: number;
}

export interface RetentionResult extends RetentionProgress {
  /** False when stopBy came first: ids from lastKey up to endKey remain to be processed. */
  complete: boolean;
  resumed: boolean;
  resumedFromKey?: string;
  batchesThisAttempt: number;
  longestBatchMs: number;
  durationMs: number;
}

export interface AnalyzeResult {
  tables: string[];
  durationMs: number;
}

export interface AnalyzeResult {
  tables: string[];
  durationMs: number;
}
