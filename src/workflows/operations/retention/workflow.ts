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
import { analyzeTables, deleteCompletedOptimizations } from '../../policies';
import { validateRetentionInput, type PruneOptimizationsResult, type RetentionInput } from './messages';

export async function pruneOptimizations(input?: RetentionInput): Promise<PruneOptimizationsResult> {
  const { stopAt } = validateRetentionInput(input);
  const retention = await deleteCompletedOptimizations(input ?? {});
  // Workflow time is deterministic on replay; ANALYZE is skipped rather than started past the deadline.
  if (stopAt !== undefined && Date.now() >= stopAt) return { retention };
  return { retention, analyze: await analyzeTables() };
}
