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
import { purgeCacheKeys } from '../../policies';
import { validatePurgeInput, type PurgeCacheInput, type PurgeCacheResult } from './messages';

export async function purgeCache(input?: PurgeCacheInput): Promise<PurgeCacheResult> {
  return purgeCacheKeys(validatePurgeInput(input));
}
