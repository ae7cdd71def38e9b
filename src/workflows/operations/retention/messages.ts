/** pruneOptimizations's input and result; the input is declared in the contracts layer, since the delete activity checks it again. */
import type { AnalyzeResult, RetentionResult } from '../../../contracts/maintenance';

export { retentionInputSchema, validateRetentionInput, type RetentionInput } from '../../../contracts/maintenance';

export interface PruneOptimizationsResult {
  retention: RetentionResult;
  /** Absent when stopBy had passed by the time the delete returned. */
  analyze?: AnalyzeResult;
}
