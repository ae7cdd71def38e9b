/**
 * The quick fixes that have a workflow of their own run as a child of the incident: one implementation per fix.
 * Cost throttling and the emergency throttle are ScrollUniversity's remediation workflows (incidents opened before
 * patch `quick-fix-remediation-children` only recorded them); the theological review and the vector index rebuild
 * are children since patch `quick-fix-content-children`, the cache rebuild (cacheMissesRemediation) since patch
 * `quick-fix-rebuild-cache-child`.
 */
import { ParentClosePolicy, executeChild, patched } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { purgeCache } from '../operations/cache-purge/workflow';
import { restartDeployment, rollbackDeployment } from '../operations/rollout/workflow';
import { reviewTheologicalAlignment } from '../theological-review/workflow';
import { rebuildVectorIndex } from '../vector-store/workflow';
import { budgetExceededResponse } from '../remediation/budget-exceeded/workflow';
import { cacheMissesRemediation } from '../remediation/cache-misses/workflow';
import { highAiCostsRemediation } from '../remediation/high-costs/workflow';
import type { RemediationResult } from '../remediation/messages';
import type { IncidentSeverity, QuickFix } from './messages';

/** Incidents that reached their quick fix before it recorded cost throttling and the emergency throttle only. */
export const QUICK_FIX_REMEDIATION_PATCH = 'quick-fix-remediation-children';

/** How the incident's quick fix reaches the remediation workflows: set only under QUICK_FIX_REMEDIATION_PATCH. */
export interface RemediationContext {
  severity: IncidentSeverity;
  /** ScrollUniversity's namespace, when the incident's service is one of its deployments. */
  scrollUniversityNamespace?: string;
}

const remediationSummary = (what: string, r: RemediationResult) =>
  `${what}: ${r.outcome}; ${[...r.actions, ...r.findings].join('; ')}`;

/** Incidents that chose the theological review or the index rebuild before these ran as children only recorded it. */
export const CONTENT_CHILDREN_PATCH = 'quick-fix-content-children';

/** Incidents that chose rebuild-cache before it ran cacheMissesRemediation as a child only recorded it. */
export const REBUILD_CACHE_CHILD_PATCH = 'quick-fix-rebuild-cache-child';

export interface QuickFixOutcome {
  ok: boolean;
  summary: string;
}

/** Runs the fix's workflow for the incident's service; undefined when the fix has none. A failed fix is reported, not thrown: people decide what next. */
export async function applyQuickFix(
  fix: QuickFix,
  service: string,
  workflowId: string,
  remediation?: RemediationContext,
): Promise<QuickFixOutcome | undefined> {
  const options = { workflowId, parentClosePolicy: ParentClosePolicy.TERMINATE };
  const namespace = remediation?.scrollUniversityNamespace;
  const where = namespace !== undefined ? { namespace } : {};
  const asked = { requestedBy: 'incidentResponse', reason: `quick fix ${fix} of ${workflowId}` };
  try {
    switch (fix) {
      case 'enable-cost-throttling': {
        if (!remediation) return undefined;
        const r = await executeChild(highAiCostsRemediation, {
          ...options,
          args: [{ ...asked, severity: remediation.severity }],
        });
        return { ok: r.outcome !== 'escalated', summary: remediationSummary('cost throttling', r) };
      }
      case 'emergency-throttle': {
        if (!remediation) return undefined;
        // The incident is the one the procedure would open: no second one.
        const r = await executeChild(budgetExceededResponse, {
          ...options,
          args: [{ ...asked, severity: remediation.severity, openIncident: false }],
        });
        return { ok: r.outcome !== 'escalated', summary: remediationSummary('emergency throttle', r) };
      }
      case 'rebuild-cache': {
        if (!remediation || !patched(REBUILD_CACHE_CHILD_PATCH)) return undefined;
        const r = await executeChild(cacheMissesRemediation, {
          ...options,
          args: [{ ...asked, severity: remediation.severity }],
        });
        return { ok: r.outcome !== 'escalated', summary: remediationSummary('cache rebuild', r) };
      }
      case 'restart-service': {
        const r = await executeChild(restartDeployment, { ...options, args: [{ deployment: service, ...where }] });
        return {
          ok: true,
          summary: `deployment ${r.deployment} restarted; ${r.rollout.availableReplicas}/${r.rollout.replicas} replicas available`,
        };
      }
      case 'rollback-deployment': {
        const r = await executeChild(rollbackDeployment, { ...options, args: [{ deployment: service, ...where }] });
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
