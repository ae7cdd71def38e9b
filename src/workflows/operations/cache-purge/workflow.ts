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
import { pagedOnFailure } from '../../common/paged-on-failure';
import { purgeCacheKeys } from '../../policies';
import { validatePurgeInput, type PurgeCacheInput, type PurgeCacheResult } from './messages';

/** Who hears of a purge that failed on its own (a schedule's or an operator's): the platform on-call. */
const PURGE_AUDIENCE = { roles: ['platform-oncall'] };

export async function purgeCache(input?: PurgeCacheInput): Promise<PurgeCacheResult> {
  return pagedOnFailure('cache-purge', PURGE_AUDIENCE, () => purgeCacheKeys(validatePurgeInput(input)));
}
