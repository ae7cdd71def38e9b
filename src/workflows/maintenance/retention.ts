/**
 * WedSync Sunday maintenance, seed 002, "Database maintenance":
 *
 *   DELETE FROM wedding_optimizations WHERE created_at < NOW() - INTERVAL '90 days' AND status = 'completed';
 *   ANALYZE wedding_optimizations, ai_recommendations, ai_feedback;
 *
 * The delete runs as short transactions over primary-key ranges, heartbeating the last key and resuming from it;
 * with stopBy it stops at a range boundary before that time and says what remains.
 *
 * Start:
 *   temporal workflow start --type pruneOptimizations --task-queue aiops-runbooks \
 *     --input '{"olderThanDays":90,"stopBy":"2026-03-01T04:00:00Z"}'
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { AnalyzeResult, RetentionResult } from '../../activities/postgres';
import { FailureType } from '../../common/failures';
import { validateRetentionInput, type RetentionInput } from './messages';

export interface PruneOptimizationsResult {
  retention: RetentionResult;
  /** Absent when stopBy had passed by the time the delete returned. */
  analyze?: AnalyzeResult;
}

const retry = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [FailureType.InvalidInput],
};

const { deleteCompletedOptimizations } = proxyActivities<Activities>({
  // The Sunday window is two hours; stopBy normally ends the activity well before this.
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '30 seconds',
  // Each retry resumes from the last heartbeated key with the same cutoff.
  retry,
});

const { analyzeTables } = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', retry });

export async function pruneOptimizations(input?: RetentionInput): Promise<PruneOptimizationsResult> {
  const { stopAt } = validateRetentionInput(input);
  const retention = await deleteCompletedOptimizations(input ?? {});
  // Workflow time is deterministic on replay; ANALYZE is skipped rather than started past the deadline.
  if (stopAt !== undefined && Date.now() >= stopAt) return { retention };
  return { retention, analyze: await analyzeTables() };
}
