/**
 * The workflows of the crisis benchmark's worker: every workflow the production worker runs, and beside them a
 * reference of the SDK's own stress-test shape (one workflow, one activity, nothing else). The burst is read against
 * it: what starting a hundred workflows at once costs on this machine whatever they do. Only the benchmark bundles
 * this module, so the reference never reaches the production worker's workflow list (src/workflows/index.ts).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';

export * from '../../src/workflows';

// The audit write as a regular activity, as the crisis protocol makes it (recordAuditByActivity): the reference's one
// activity is then the same call as the one whose record marks a crisis through stage 1. No retries are set beyond
// the SDK's: a failed write shows as a run that never completes, which the benchmark reports.
const { recordAudit } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds' });

/**
 * One activity: the audit record a crisis run writes when stage 1 completes, under the reference's own ID, so both
 * sides of the burst are timed to the same kind of record landing in PostgreSQL.
 */
export async function benchOneActivity(): Promise<void> {
  const info = workflowInfo();
  await recordAudit([
    {
      eventKey: `${info.workflowId}/${info.runId}/1`,
      occurredAt: new Date().toISOString(),
      workflowId: info.workflowId,
      workflowType: info.workflowType,
      runId: info.runId,
      step: 'stage1',
      actor: 'workflow',
      action: 'stage',
      outcome: 'complete',
    },
  ]);
}
