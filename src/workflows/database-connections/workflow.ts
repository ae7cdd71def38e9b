/**
 * ScrollUniversity database connections, seed 000 "Issue 6: Database Connection Issues":
 *
 *   psql $DATABASE_URL -c "SELECT count(*) FROM pg_stat_activity;"        # Check database connections
 *   curl http://localhost:3000/api/monitoring/database/pool               # Check connection pool
 *   kubectl rollout restart deployment/scrolluniversity-backend           # Restart application to reset connections
 *   Root Cause Analysis: 2. Review long-running queries
 *
 * Reads pg_stat_activity against max_connections (exhausted at DATABASE_CONNECTION_ALERT_RATIO) and the queries
 * running longer than the limit. Long-running queries are cancelled (`pg_cancel_backend`) only once the on-call
 * engineer or DevOps approve at the gate `cancel-queries`; connections still at the limit after that lead to the
 * gate `restart-backend`, and an approved restart runs restartDeployment as a child. The figures are read again
 * at the end: still exhausted, or long-running queries left, pages on-call and fails with RemediationFailed.
 *
 *   temporal workflow start --type resolveDatabaseConnections --task-queue aiops-runbooks --workflow-id db-conn-1 \
 *     --input '{"requestedBy":"oncall","reason":"connection pool exhausted"}'
 */
import { executeChild, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ConnectionReport } from '../../contracts/connections';
import { gatedRemediation } from '../gates/gated-remediation';
import { restartDeployment } from '../operations/rollout/workflow';
import { changes, loadDirectory, probes } from '../policies';
import {
  databaseConnectionsStatusQuery,
  parseResolveDatabaseConnectionsInput,
  type DatabaseConnectionsStatus,
  type ResolveDatabaseConnectionsInput,
  type ResolveDatabaseConnectionsResult,
} from './messages';

const MINUTE = 60_000;
/** seed 000's on-call engineer first, the AI Team Lead when nobody answers. */
const DECIDERS = { roles: ['on-call', 'devops'] };
const ESCALATION = [{ roles: ['ai-team-lead'] }];

const describe = (r: ConnectionReport) =>
  `${r.connections}/${r.maxConnections} connections (${Math.round(r.usage * 100)} %, limit ${Math.round(r.alertRatio * 100)} %), ` +
  `${r.longRunning.length} running over ${r.longQuerySeconds} s`;

export async function resolveDatabaseConnections(
  rawInput?: ResolveDatabaseConnectionsInput,
): Promise<ResolveDatabaseConnectionsResult> {
  const input = parseResolveDatabaseConnectionsInput(rawInput);
  const info = workflowInfo();
  const { audit, gates, conclude } = gatedRemediation('db-connections', 'db-connections', DECIDERS);
  const status: DatabaseConnectionsStatus = { step: 'checking', gates: [] };
  setHandler(databaseConnectionsStatusQuery, () => ({ ...status, gates: gates.status() }));
  const read = () => probes.databaseConnections({ longQuerySeconds: input.longQuerySeconds });

  const before = await read();
  status.before = before;
  audit.record({
    step: 'db-connections',
    actor: input.requestedBy,
    action: 'check',
    outcome: before.exhausted ? 'exhausted' : 'within-limit',
    reason: input.reason,
    details: { summary: describe(before) },
  });
  if (!before.exhausted && before.longRunning.length === 0) {
    status.step = 'done';
    await audit.flush();
    return { before, cancelled: [], restarted: false, after: before, ok: true };
  }
  gates.setRoster((await loadDirectory()).members);

  const cancelled: number[] = [];
  if (before.longRunning.length > 0) {
    status.step = 'awaiting-cancel';
    const list = before.longRunning
      .map((q) => `pid ${q.pid} (${q.user ?? '?'}/${q.application ?? '?'}, ${q.seconds} s): ${q.preview}`)
      .join('; ');
    const decision = await gates.wait({
      name: 'cancel-queries',
      prompt: `Cancel ${before.longRunning.length} long-running queries with pg_cancel_backend? ${describe(before)}. ${list}`,
      deciders: DECIDERS,
      tierTimeoutMs: 15 * MINUTE,
      escalation: ESCALATION,
      onExhausted: 'abort',
    });
    if (decision.decision === 'approve') {
      status.step = 'cancelling';
      for (const q of before.longRunning) {
        const r = await changes.cancelLongQuery({ pid: q.pid, queryStart: q.queryStart });
        if (r.cancelled) cancelled.push(q.pid);
        audit.record({
          step: 'cancel-query',
          actor: decision.by,
          action: 'pg_cancel_backend',
          outcome: r.cancelled ? 'cancelled' : 'already-ended',
          details: { pid: q.pid, seconds: q.seconds },
        });
      }
    }
  }

  let restarted = false;
  let now = await read();
  if (now.exhausted) {
    status.step = 'awaiting-restart';
    const decision = await gates.wait({
      name: 'restart-backend',
      prompt: `Restart deployment ${input.deployment} to reset its connections? ${describe(now)}`,
      deciders: DECIDERS,
      tierTimeoutMs: 15 * MINUTE,
      escalation: ESCALATION,
      onExhausted: 'abort',
    });
    if (decision.decision === 'approve') {
      status.step = 'restarting';
      await executeChild(restartDeployment, {
        workflowId: `${info.workflowId}/restart`,
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        args: [{ deployment: input.deployment, timeoutSeconds: input.rolloutTimeoutSeconds }],
      });
      restarted = true;
      audit.record({ step: 'restart', actor: decision.by, action: 'rollout-restart', outcome: 'restarted' });
      now = await read();
    }
  }
  await gates.settled();

  status.after = now;
  const ok = !now.exhausted && now.longRunning.length === 0;
  const summary = `before: ${describe(before)}; after: ${describe(now)}; cancelled ${cancelled.length}, restarted ${restarted}`;
  await conclude(status, {
    step: 'db-connections',
    fixed: ok,
    summary,
    failure: `database connections not back within the limit: ${summary}`,
    hint: 'check pool configuration and connection leaks',
  });
  return { before, cancelled, restarted, after: now, ok };
}
