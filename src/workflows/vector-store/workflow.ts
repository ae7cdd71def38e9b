/**
 * ScrollUniversity vector store, seed 000 "Issue 7: Vector Store Issues":
 *
 *   curl http://localhost:3000/api/ai-monitoring/vector-store/status     # Check vector store status
 *   curl -X POST http://localhost:3000/api/vector-store/rebuild          # Rebuild vector index
 *   curl http://localhost:3000/api/vector-store/stats                    # Check index statistics
 *
 * Diagnoses first (status, index statistics, a test query); a healthy store that answers is left alone unless
 * `force`. Otherwise it starts a rebuild, follows it to the end (the activity heartbeats the store's progress),
 * and verifies with the same test query. A rebuild that leaves the store degraded, or the query failing, pages the
 * AI team lead and on-call and fails the workflow with RemediationFailed. A rebuild is not disruptive (search keeps
 * answering from the old index while it runs), so it asks nobody first.
 *
 *   temporal workflow start --type rebuildVectorIndex --task-queue aiops-runbooks --workflow-id vector-index-1 \
 *     --input '{"requestedBy":"oncall","reason":"RAG queries failing"}'
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import type { IndexRebuild } from '../../contracts/content';
import { failureText, FailureType } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { Pager } from '../gates/pager';
import { awaitIndexRebuild, changes, probes } from '../policies';
import {
  parseRebuildVectorIndexInput,
  vectorIndexStatusQuery,
  type RebuildVectorIndexInput,
  type RebuildVectorIndexResult,
  type VectorIndexStatus,
} from './messages';

/** Who hears of the outcome: seed 000's on-call engineer and AI Team Lead. */
const AUDIENCE = { roles: ['on-call', 'ai-team-lead'] };

export async function rebuildVectorIndex(rawInput?: RebuildVectorIndexInput): Promise<RebuildVectorIndexResult> {
  const input = parseRebuildVectorIndexInput(rawInput);
  const info = workflowInfo();
  const audit = new AuditTrail();
  const pager = new Pager(`vector-index-${info.workflowId}`);
  const status: VectorIndexStatus = { step: 'diagnosing' };
  setHandler(vectorIndexStatusQuery, () => ({ ...status }));
  const look = async () => ({
    store: await probes.vectorStoreReport(),
    query: await probes.vectorTestQuery({ query: input.testQuery }),
  });

  const before = await look();
  status.before = before;
  audit.record({
    step: 'vector-index',
    actor: input.requestedBy,
    action: 'diagnose',
    outcome: before.store.healthy && before.query.ok ? 'healthy' : 'degraded',
    reason: input.reason,
    details: { ...before.store, query: before.query },
  });
  if (before.store.healthy && before.query.ok && !input.force) {
    status.step = 'done';
    await audit.flush();
    return { action: 'none', before };
  }

  status.step = 'rebuilding';
  const started = await changes.startIndexRebuild({ key: `${info.workflowId}/rebuild` });
  status.rebuildId = started.rebuildId;
  let rebuild: IndexRebuild | undefined;
  let rebuildError: string | undefined;
  try {
    rebuild = await awaitIndexRebuild(started.rebuildId, input.rebuildTimeoutSeconds);
  } catch (err) {
    // The verification below still runs: what the store says now goes into the page.
    rebuildError = failureText(err);
  }
  status.step = 'verifying';
  const after = await look();
  status.after = after;
  const fixed = rebuildError === undefined && after.store.healthy && after.query.ok;
  const summary =
    `vector store ${after.store.status} (${after.store.indexedVectors}/${after.store.totalVectors} vectors indexed), ` +
    `test query ${after.query.ok ? `found ${after.query.matches}` : `failed: ${after.query.error}`}`;
  audit.record({
    step: 'vector-index',
    actor: 'workflow',
    action: 'rebuild',
    outcome: fixed ? 'fixed' : 'not-fixed',
    reason: rebuildError ?? summary,
    details: { rebuildId: started.rebuildId },
  });
  if (!fixed) {
    status.step = 'escalated';
    const why = rebuildError ? `rebuild ${started.rebuildId} did not finish: ${rebuildError}; ${summary}` : summary;
    const message = `[vector-index] rebuild did not fix the vector store: ${why} (workflow ${info.workflowId})`;
    await pager.tell({ audience: AUDIENCE, urgency: 'page', severity: 'error', dedupKey: pager.dedupKey, message });
    await audit.flush();
    throw ApplicationFailure.create({ type: FailureType.RemediationFailed, message, nonRetryable: true });
  }
  status.step = 'done';
  await pager.tell({
    audience: AUDIENCE,
    urgency: 'message',
    severity: 'info',
    dedupKey: pager.dedupKey,
    message: `[vector-index] index rebuilt (${started.rebuildId}); ${summary} (workflow ${info.workflowId})`,
  });
  await audit.flush();
  return { action: 'rebuilt', before, rebuild, after };
}
