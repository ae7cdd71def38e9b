/** rebuildVectorIndex's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import type { IndexRebuild, VectorQueryResult, VectorStoreReport } from '../../contracts/content';
import { optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';

export const rebuildVectorIndexInputSchema = optionalObject({
  /** Who asked (roster id, or the workflow that started it); recorded in the audit trail. */
  requestedBy: z.string().min(1).max(100).default('operator'),
  reason: z.string().max(2000).optional(),
  /** Rebuild even when the store reports healthy and the test query answers. */
  force: z.boolean().default(false),
  /** How long the rebuild may take before the workflow gives up on it and pages. */
  rebuildTimeoutSeconds: wholeNumber(10, 24 * 3600).default(3600),
  /** The query that must find matches once the index is rebuilt. */
  testQuery: z.string().min(1).max(500).default('salvation by grace through faith'),
});
export type RebuildVectorIndexInput = z.input<typeof rebuildVectorIndexInputSchema>;
export const parseRebuildVectorIndexInput = (raw: unknown) =>
  parseInput(rebuildVectorIndexInputSchema, raw, 'rebuildVectorIndex');

export interface RebuildVectorIndexResult {
  /** none: healthy and answering, nothing rebuilt; rebuilt: rebuilt and verified. */
  action: 'none' | 'rebuilt';
  before: { store: VectorStoreReport; query: VectorQueryResult };
  rebuild?: IndexRebuild;
  after?: { store: VectorStoreReport; query: VectorQueryResult };
}

export interface VectorIndexStatus {
  step: 'diagnosing' | 'rebuilding' | 'verifying' | 'done' | 'escalated';
  before?: RebuildVectorIndexResult['before'];
  rebuildId?: string;
  after?: RebuildVectorIndexResult['after'];
}

export const vectorIndexStatusQuery = defineQuery<VectorIndexStatus>('status');
