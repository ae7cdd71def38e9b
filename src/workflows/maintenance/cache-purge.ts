/**
 * WedSync Sunday maintenance, seed 002, "Cache optimization":
 *
 *   redis-cli --scan --pattern "ai:*" | xargs -L 1000 redis-cli DEL
 *
 * as one resumable activity (SCAN + UNLINK, pipelined, heartbeating its cursors). Also the quick fix "clear the
 * AI cache" that other runbooks start as a child workflow.
 *
 * Start:
 *   temporal workflow start --type purgeCache --task-queue aiops-runbooks --input '{"pattern":"ai:*"}'
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PurgeCacheResult } from '../../activities/redis';
import { FailureType } from '../../common/failures';
import { validatePurgeInput, type PurgeCacheInput } from './messages';

/** The purge activity, as both this workflow and the Sunday window run it. */
export const { purgeCacheKeys } = proxyActivities<Activities>({
  // A million keys take seconds; the ceiling is for a cache far larger than today's, not for a stuck call,
  // which the heartbeat timeout catches.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    // Each retry resumes from the last heartbeated cursors, so retrying costs little.
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.InvalidInput],
  },
});

export async function purgeCache(input?: PurgeCacheInput): Promise<PurgeCacheResult> {
  return purgeCacheKeys(validatePurgeInput(input));
}
