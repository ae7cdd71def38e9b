/**
 * The quick fixes that have a workflow of their own run as a child of the incident; the others (cost
 * throttling, theological review, vector index rebuild) are done by people and only recorded.
 */
import { ParentClosePolicy, executeChild } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { purgeCache } from '../operations/cache-purge/workflow';
import { restartDeployment, rollbackDeployment } from '../operations/rollout/workflow';
import type { QuickFix } from './messages';

export interface QuickFixOutcome {
  ok: boolean;
  summary: string;
}

/** Runs the fix's workflow for the incident's service; undefined when the fix has none. A failed fix is reported, not thrown: people decide what next. */
export async function applyQuickFix(
  fix: QuickFix,
  service: string,
  workflowId: string,
): Promise<QuickFixOutcome | undefined> {
  const options = { workflowId, parentClosePolicy: ParentClosePolicy.TERMINATE };
  try {
    switch (fix) {
      case 'restart-service': {
        const r = await executeChild(restartDeployment, { ...options, args: [{ deployment: service }] });
        return {
          ok: true,
          summary: `deployment ${r.deployment} restarted; ${r.rollout.availableReplicas}/${r.rollout.replicas} replicas available`,
        };
      }
      case 'rollback-deployment': {
        const r = await executeChild(rollbackDeployment, { ...options, args: [{ deployment: service }] });
        return {
          ok: true,
          summary: `deployment ${r.deployment} rolled back from revision ${r.fromRevision} to ${r.toRevision}`,
        };
      }
      case 'clear-ai-cache': {
        const r = await executeChild(purgeCache, { ...options, args: [{}] });
        return { ok: true, summary: `AI cache cleared: ${r.removed} keys matching ${r.pattern} removed` };
      }
      default:
        return undefined;
    }
  } catch (err) {
    return { ok: false, summary: `failed: ${failureText(err)}` };
  }
}
