/** How fresh the checkpoint of a heartbeating activity is on the server: the workflow worker and the backup worker alike. */
import type { WorkerOptions } from '@temporalio/worker';

/**
 * The SDK sends an activity's heartbeats (and with them its checkpoint) at most every 80% of the heartbeat timeout:
 * 24 s for our 30 s. A retry after a crash resumes from the last checkpoint the server has, so a worker that died lost
 * up to 24 s of a purge's, a retention delete's or a copy's work, and an attempt that lived less than that saved no
 * progress at all (the randomised chaos run: purges killed every 20 s or so went to their ninth attempt with the
 * keys still there). Every 5 s costs one small call per running activity.
 */
export const HEARTBEAT_OPTIONS = { maxHeartbeatThrottleInterval: '5 seconds' } satisfies Partial<WorkerOptions>;
