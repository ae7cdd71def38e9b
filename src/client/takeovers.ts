/**
 * Which platform-wide crisis takeover is running, if any. A new failure of the crisis manager, seen by the watch or
 * by an alert with a fingerprint of its own, joins that run (its alert signal makes it sweep again) instead of
 * opening a second protocol that would alert and page everyone again for the same outage.
 */
import type { Client } from '@temporalio/client';
import { TAKEOVER_ID_PREFIX, WEDDING_SCOPE_INFIX } from '../contracts/crisis';

/** At most this many are returned: there is normally one, and the answer goes into a workflow's history. */
const MOST = 10;

/**
 * The workflow IDs of the platform-wide takeovers running on `taskQueue` (the queue the protocol's worker serves:
 * another deployment's are not this one's), oldest first. A caller joins its own failure's run if it is among them,
 * else the oldest.
 */
export async function runningTakeovers(client: Client, taskQueue: string): Promise<string[]> {
  if (!/^[A-Za-z0-9._:/-]{1,200}$/.test(taskQueue)) throw new Error(`task queue "${taskQueue}" cannot be searched for`);
  const runs = client.workflow.list({
    query: `WorkflowType = 'weddingDayCrisis' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
  });
  const found: { workflowId: string; startTime: Date }[] = [];
  for await (const run of runs) {
    const id = run.workflowId;
    // A takeover limited to one wedding does not cover a platform failure; runs of the older shape do not either.
    if (id.startsWith(TAKEOVER_ID_PREFIX) && !id.includes(WEDDING_SCOPE_INFIX)) found.push(run);
  }
  found.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return found.slice(0, MOST).map((r) => r.workflowId);
}
