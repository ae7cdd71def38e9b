/**
 * A workflow for schedule tests: it holds for as long as it is told, so a test decides whether the next slot
 * finds a run still going (and is skipped under SKIP) or not.
 */
import { sleep } from '@temporalio/workflow';

export async function scheduleProbe(input: { holdMs?: number } = {}): Promise<string> {
  if (input.holdMs) await sleep(input.holdMs);
  return 'done';
}
