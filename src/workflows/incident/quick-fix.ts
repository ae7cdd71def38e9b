/**
 * The quick fixes that have a workflow of their own run as a child of the incident (the theological review and
 * the vector index rebuild among them); the others (cost throttling) are done by people and only recorded.
 */
import { ParentClosePolicy, executeChild, patched } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { purgeCache } from '../operations/cache-purge/workflow';
import { restartDeployment, rollbackDeployment } from '../operations/rollout/workflow';
import { reviewTheologicalAlignment } from '../theological-review/workflow';
import { rebuildVectorIndex } from '../vector-store/workflow';
import type { QuickFix } from './messages';

/** Incidents that chose the theological review or the index rebuild before these ran as children only recorded it. */
export const CONTENT_CHILDREN_PATCH = 'quick-fix-content-children';

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
      case 'trigger-theological-review': {
        if (!patched(CONTENT_CHILDREN_PATCH)) return undefined;
        const r = await executeChild(reviewTheologicalAlignment, {
          ...options,
          args: [{ requestedBy: 'incident', reason: `quick fix of ${service}` }],
        });
        return {
          ok: true,
          summary: `${r.reviews.length} flagged items reviewed by faculty; alignment ${r.before.alignmentScore} → ${r.after?.alignmentScore ?? r.before.alignmentScore}`,
        };
      }
      case 'rebuild-vector-index': {
        if (!patched(CONTENT_CHILDREN_PATCH)) return undefined;
        const r = await executeChild(rebuildVectorIndex, {
          ...options,
          args: [{ requestedBy: 'incident', reason: `quick fix of ${service}` }],
        });
        return {
          ok: true,
          summary:
            r.action === 'none'
              ? 'vector store healthy and answering; nothing rebuilt'
              : `vector index rebuilt (${r.rebuild?.rebuildId}); ${r.after?.store.indexedVectors}/${r.after?.store.totalVectors} vectors indexed`,
        };
      }
      default:
        return undefined;
    }
  } catch (err) {
    return { ok: false, summary: `failed: ${failureText(err)}` };
  }
}
