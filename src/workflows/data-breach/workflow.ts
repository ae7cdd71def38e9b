/**
 * ScrollUniversity data breach, seed 000 "Emergency Procedures, Data Breach":
 *
 *   1. Immediate Actions: Isolate affected systems; Preserve evidence; Notify security team; Engage incident
 *      response plan
 *   3. Remediation: ... Rotate credentials; Notify affected users ...
 *
 * A P0 (seed 000 Severity Levels: "Data breach detected"): security, the on-call engineer and the AI Team Lead are
 * paged at once. The evidence is kept before anything is changed: every pod of the affected deployment, its logs
 * and its description, copied to the evidence bucket with a SHA-256 per file in a manifest. Only then is isolation
 * asked for at the gate (security or the AI Team Lead; the CTO after 15 minutes), and once approved the deployment
 * is scaled to zero and the AI ingress routed to the backup service. Isolation that is not confirmed (pods still
 * there after the timeout) pages again. Then the people's tasks, rotating credentials and notifying users, are
 * tracked until each is reported done (signal `breachTask` or update `reportBreachTask`), with reminders.
 *
 *   temporal workflow start --type dataBreachResponse --task-queue aiops-runbooks --workflow-id breach-2026-11-26 \
 *     --input '{"deployment":"scrolluniversity-backend","reportedBy":"security","summary":"exfiltration seen"}'
 *   temporal workflow update execute --workflow-id breach-2026-11-26 --name reportBreachTask \
 *     --input '{"task":"rotate-credentials","by":"security","note":"DB and API keys rotated, ticket SEC-12"}'
 */
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  BREACH_TASKS,
  breachTaskReportSchema,
  type BreachTaskReport,
  type EvidenceManifest,
} from '../../contracts/breach';
import { failureText } from '../../contracts/failures';
import { parseInput } from '../../contracts/input';
import type { Member } from '../../contracts/roster';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { changes, loadDirectory, preserveEvidence, probes, waitForRollout } from '../policies';
import {
  breachTaskSignal,
  dataBreachStatusQuery,
  parseDataBreachInput,
  reportBreachTaskUpdate,
  type DataBreachInput,
  type DataBreachResult,
  type DataBreachStatus,
  type TaskState,
} from './messages';

/** seed 000 P0: "Immediately page on-call engineer + AI Team Lead"; a breach is the Security Team's. */
const P0_AUDIENCE = { roles: ['security', 'on-call', 'ai-team-lead'] };
const MINUTE = 60_000;

export async function dataBreachResponse(rawInput: DataBreachInput): Promise<DataBreachResult> {
  const input = parseDataBreachInput(rawInput);
  const info = workflowInfo();
  const caseId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(info.workflowId) ? info.workflowId : `breach-${info.runId}`;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, `breach-${caseId}`);
  let roster: Member[] = [];
  const tasks: TaskState[] = BREACH_TASKS.map((task) => ({ task, done: false }));
  const status: DataBreachStatus = { step: 'notifying', caseId, tasks, gates: [] };
  setHandler(dataBreachStatusQuery, () => ({ ...status, tasks: tasks.map((t) => ({ ...t })), gates: gates.status() }));

  /** Why a task report cannot be taken, or undefined; the same check for the signal and the update. */
  const problemWith = (raw: unknown): string | undefined => {
    try {
      const report = parseInput(breachTaskReportSchema, raw, 'breachTask');
      if (!roster.some((m) => m.id === report.by)) return `by: "${report.by}" is not on the roster`;
      return undefined;
    } catch (err) {
      return failureText(err);
    }
  };
  const take = (report: BreachTaskReport): TaskState => {
    const state = tasks.find((t) => t.task === report.task)!;
    if (!state.done)
      Object.assign(state, { done: true, by: report.by, note: report.note, at: new Date().toISOString() });
    audit.record({
      step: `task:${report.task}`,
      actor: report.by,
      action: 'task-reported',
      outcome: 'done',
      reason: report.note,
    });
    return { ...state };
  };
  gates.onSignal(breachTaskSignal, (raw) => {
    const problem = problemWith(raw);
    if (problem) {
      // A bad signal changes nothing and never fails the workflow; it is kept for the post-mortem.
      audit.record({ step: 'task', actor: 'unknown', action: 'task-signal', outcome: 'rejected', reason: problem });
      return;
    }
    take(raw);
  });
  setHandler(reportBreachTaskUpdate, (raw) => take(raw), {
    validator: (raw) => {
      const problem = problemWith(raw);
      if (problem) throw new Error(problem);
    },
  });

  const tell = (message: string, urgency: 'page' | 'message') =>
    gates.pager.tell({
      audience: P0_AUDIENCE,
      urgency,
      severity: urgency === 'page' ? 'critical' : 'info',
      dedupKey: gates.pager.dedupKey,
      message: `[data-breach P0 ${caseId}] ${message}`,
    });

  audit.record({
    step: 'data-breach',
    actor: input.reportedBy,
    action: 'report',
    outcome: 'P0',
    reason: input.summary,
    details: { deployment: input.deployment },
  });
  roster = (await loadDirectory()).members;
  gates.setRoster(roster);
  await tell(`data breach reported by ${input.reportedBy} on ${input.deployment}: ${input.summary}`, 'page');

  // Evidence first: nothing is changed until the pods' logs and descriptions are in the bucket.
  status.step = 'preserving-evidence';
  const evidence: EvidenceManifest = await preserveEvidence({ caseId, deployment: input.deployment });
  status.evidence = evidence;
  audit.record({
    step: 'evidence',
    actor: 'workflow',
    action: 'preserve',
    outcome: 'kept',
    details: {
      bucket: evidence.bucket,
      manifest: evidence.manifestKey,
      manifestSha256: evidence.manifestSha256,
      files: evidence.files.length,
      logErrors: evidence.logErrors.length,
    },
  });

  status.step = 'awaiting-isolation';
  const targets = await probes.failoverTargets();
  const decision = await gates.wait({
    name: 'isolate',
    prompt:
      `Isolate ${input.deployment}: scale it to zero and route ingress ${targets.ingress} to ${targets.backup}. ` +
      `Evidence kept: ${evidence.files.length} files of ${evidence.pods.length} pods in s3://${evidence.bucket}/${evidence.manifestKey}. ` +
      `Reported by ${input.reportedBy}: ${input.summary}`,
    deciders: { roles: ['security', 'ai-team-lead'] },
    tierTimeoutMs: 15 * MINUTE,
    escalation: [{ roles: ['cto'] }],
    onExhausted: 'keep-waiting',
    remindEveryMs: 15 * MINUTE,
  });
  await gates.settled();

  if (decision.decision === 'approve') {
    status.step = 'isolating';
    // Both writes are idempotent (scale writes nothing at zero, the ingress patch nothing when already switched).
    const scaled = await changes.scaleDeployment({ deployment: input.deployment, replicas: 0 });
    const routed = await changes.patchIngressBackend({ service: targets.backup, port: targets.port });
    let confirmed = true;
    let detail: string | undefined;
    try {
      await waitForRollout(input.deployment, input.isolateTimeoutSeconds);
    } catch (err) {
      confirmed = false;
      detail = failureText(err);
    }
    status.isolation = {
      approvedBy: decision.by,
      previousReplicas: scaled.previousReplicas,
      ingress: routed.ingress,
      ingressFrom: routed.previous,
      ingressTo: routed.current,
      confirmed,
      detail,
    };
    audit.record({
      step: 'isolate',
      actor: decision.by,
      action: 'scale-to-zero-and-route-away',
      outcome: confirmed ? 'isolated' : 'not-confirmed',
      reason: detail,
      details: { previousReplicas: scaled.previousReplicas, ingress: routed.ingress, to: routed.current },
    });
    await tell(
      confirmed
        ? `${input.deployment} isolated (was ${scaled.previousReplicas} replicas); ingress ${routed.ingress} now to ${routed.current.service}`
        : `${input.deployment} scaled to zero but its pods are NOT confirmed gone: ${detail}. Isolate it by hand.`,
      confirmed ? 'message' : 'page',
    );
  } else {
    status.isolationRefused = `${decision.by}: ${decision.reason}`;
    await tell(
      `isolation of ${input.deployment} refused by ${decision.by}: ${decision.reason}; evidence kept`,
      'message',
    );
  }

  status.step = 'tracking-tasks';
  const open = () => tasks.filter((t) => !t.done).map((t) => t.task);
  for (let reminder = 1; open().length > 0; reminder++) {
    if (await condition(() => open().length === 0, input.remindEveryHours * 60 * MINUTE)) break;
    await tell(`reminder ${reminder}: still open: ${open().join(', ')} (report with reportBreachTask)`, 'message');
  }
  status.step = 'done';
  await tell(`every remediation task reported done: ${tasks.map((t) => `${t.task} by ${t.by}`).join('; ')}`, 'message');
  await audit.flush();
  return { caseId, evidence, isolation: status.isolation, isolationRefused: status.isolationRefused, tasks };
}
