/**
 * Complete service outage, seed 000 "Emergency Procedures, Complete Service Outage" (a P0: "Immediately page on-call
 * engineer + AI Team Lead"):
 *
 *   1. Immediate Actions: kubectl get pods -A; kubectl rollout history deployment/...; kubectl rollout undo ...
 *   2. Communication: post status update, notify users, update stakeholders
 *   3. Recovery: gradually restore services, monitor closely
 *
 * Pages the on-call engineer and the AI team lead and posts a first status update; lists the pods of the namespaces
 * given; reads each configured deployment's rollout history and fixes, once, the revision before the current one.
 * Deployments whose current revision is younger than `recentHours` are rolled back one at a time (rollbackDeployment
 * as a child, given that revision), each followed by monitoring (monitorUntilHealthy) until the health endpoints are
 * healthy N times in a row; a step that does not bring health back stops the restore there and pages. With nothing
 * to roll back it monitors once. A last status update says whether the service is back.
 *
 *   temporal workflow start --type completeOutageResponse --task-queue aiops-runbooks --workflow-id outage-1 \
 *     --input '{"summary":"all AI services down","reportedBy":"oncall"}'
 */
import { executeChild, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import { failureText } from '../../contracts/failures';
import { settle } from '../common/settle';
import { AuditTrail } from '../gates/audit-trail';
import { Pager } from '../gates/pager';
import { monitorUntilHealthy } from '../operations/monitor/workflow';
import { rollbackDeployment } from '../operations/rollout/workflow';
import { changes, probes } from '../policies';
import {
  outageStatusQuery,
  parseCompleteOutageInput,
  type CompleteOutageInput,
  type CompleteOutageResult,
  type CompleteOutageStatus,
  type DeploymentHistory,
  type RestoreStep,
} from './messages';

/** Seed 000 P0 escalation: the on-call engineer and the AI team lead, paged at once. */
const RESPONDERS = { roles: ['on-call', 'ai-team-lead'] };
/** Status updates: the responders and the stakeholders (seed 000 "Update stakeholders"). */
const STAKEHOLDERS = { roles: ['on-call', 'ai-team-lead', 'executive'] };

export async function completeOutageResponse(rawInput?: CompleteOutageInput): Promise<CompleteOutageResult> {
  const input = parseCompleteOutageInput(rawInput);
  const info = workflowInfo();
  const audit = new AuditTrail();
  const pager = new Pager(`outage-${info.workflowId}`);
  const status: CompleteOutageStatus = { step: 'paging', pods: [], history: [], restore: [] };
  setHandler(outageStatusQuery, () => status);
  const update = (message: string, urgency: 'page' | 'message', audience = STAKEHOLDERS) =>
    pager.tell({
      audience,
      urgency,
      severity: urgency === 'page' ? 'critical' : 'info',
      dedupKey: pager.dedupKey,
      message: `[outage] ${message} (workflow ${info.workflowId})`,
    });

  await update(`P0 complete service outage: ${input.summary} (reported by ${input.reportedBy})`, 'page', RESPONDERS);
  await update(`status: investigating "${input.summary}"; next update when services are restored`, 'message');

  // kubectl get pods -A, over the namespaces given.
  status.step = 'pods';
  for (const namespace of input.namespaces ?? [undefined]) {
    const listed = await settle(probes.listPods({ namespace }));
    if (listed.state === 'ok' && listed.result.configured) {
      const { pods } = listed.result;
      status.pods.push({
        namespace: listed.result.namespace,
        pods: pods.length,
        notReady: pods.filter((p) => !p.ready).map((p) => p.name),
      });
    } else {
      const problem =
        listed.state === 'failed'
          ? listed.error
          : listed.state === 'ok' && !listed.result.configured
            ? listed.result.reason
            : 'skipped';
      status.pods.push({ namespace: namespace ?? 'configured', pods: 0, notReady: [], problem });
    }
  }

  // kubectl rollout history: the revision to return to is fixed here, once, and passed to every attempt of the undo.
  status.step = 'history';
  const plan = await changes.maintenancePlan();
  for (const deployment of plan.deployments) {
    const history = await settle(probes.rolloutHistory({ deployment }));
    if (history.state !== 'ok') {
      status.history.push({
        deployment,
        recent: false,
        problem: history.state === 'failed' ? history.error : history.reason,
      });
      continue;
    }
    const current = history.result.find((r) => r.current);
    const previous = current && history.result.filter((r) => r.revision < current.revision).pop();
    const since = current?.createdAt;
    const recent = since !== undefined && Date.now() - Date.parse(since) < input.recentHours * 3_600_000;
    status.history.push({
      deployment,
      current: current?.revision,
      currentSince: since,
      previous: previous?.revision,
      recent: recent && previous !== undefined,
    });
  }
  audit.record({
    step: 'outage',
    actor: input.reportedBy,
    action: 'assess',
    outcome: 'assessed',
    reason: input.summary,
    details: { pods: status.pods, history: status.history },
  });

  // Gradual restore: one rollback at a time, each watched until healthy before the next.
  status.step = 'restoring';
  const monitor = async (step: RestoreStep, key: string) => {
    status.step = 'monitoring';
    const watched = await executeChild(monitorUntilHealthy, {
      workflowId: `${info.workflowId}/monitor-${key}`,
      args: [input.monitor],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    step.monitoring = {
      resolved: watched.resolved,
      consecutiveHealthy: watched.consecutiveHealthy,
      rounds: watched.rounds.length,
    };
    return watched.resolved;
  };
  const candidates = input.rollback
    ? status.history.filter((h): h is DeploymentHistory & { previous: number } => h.recent)
    : [];
  let restored = true;
  for (const h of candidates) {
    status.step = 'restoring';
    const step: RestoreStep = { deployment: h.deployment };
    status.restore.push(step);
    try {
      const undo = await executeChild(rollbackDeployment, {
        workflowId: `${info.workflowId}/rollback-${h.deployment}`,
        args: [{ deployment: h.deployment, toRevision: h.previous, timeoutSeconds: input.rolloutTimeoutSeconds }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
      step.rolledBack = { from: undo.fromRevision ?? h.current!, to: undo.toRevision ?? h.previous };
    } catch (err) {
      step.problem = `rollback failed: ${failureText(err)}`;
      restored = false;
      break;
    }
    audit.record({
      step: 'outage',
      actor: 'workflow',
      action: 'rollout undo',
      outcome: 'rolled-back',
      details: { deployment: h.deployment, ...step.rolledBack },
    });
    if (!(await monitor(step, h.deployment))) {
      step.problem = 'not healthy after the rollback';
      restored = false;
      break;
    }
  }
  if (candidates.length === 0) {
    const step: RestoreStep = {};
    status.restore.push(step);
    restored = await monitor(step, 'no-rollback');
    if (!restored) step.problem = 'not healthy, and nothing recent to roll back';
  }

  status.step = 'done';
  const done = status.restore
    .filter((s) => s.rolledBack)
    .map((s) => `${s.deployment} ${s.rolledBack!.from}→${s.rolledBack!.to}`);
  if (restored) {
    await update(
      `status: restored${done.length ? ` after rolling back ${done.join(', ')}` : ''}; monitoring continues`,
      'message',
    );
  } else {
    const stuck = status.restore.find((s) => s.problem);
    await update(
      `NOT restored: ${stuck?.deployment ?? 'the service'} ${stuck?.problem ?? ''}${done.length ? `; rolled back so far: ${done.join(', ')}` : ''}`,
      'page',
    );
  }
  audit.record({
    step: 'outage',
    actor: 'workflow',
    action: 'restore',
    outcome: restored ? 'restored' : 'not-restored',
  });
  await audit.flush();
  return { pods: status.pods, history: status.history, restore: status.restore, restored };
}
