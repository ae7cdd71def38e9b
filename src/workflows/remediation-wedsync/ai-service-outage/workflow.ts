/**
 * WedSync Issue 3, AI Service Outages (seed 002):
 *
 *   kubectl get pods -n ai-services                                   # Check service status
 *   kubectl describe pod ai-optimization-engine-xxx
 *   kubectl logs -f ai-optimization-engine-xxx --tail=100             # Check logs
 *   curl https://api.openai.com/v1/models                             # Check external dependencies
 *
 *   1. Service Restart:   kubectl rollout restart deployment/ai-optimization-engine
 *                         kubectl rollout status deployment/ai-optimization-engine
 *   2. Traffic Rerouting: kubectl patch ingress ai-ingress ... ai-backup            (Failover Procedures)
 *   3. Activate Fallback Mode: curl -X POST https://api.wedsync.com/ai/fallback/enable
 *
 * Diagnosis first: the pods of the AI namespace, the failing engine's pods (phase, readiness, restarts) and their
 * last 100 log lines, the AI endpoint's health (the same check as the failover's and the fallback watch's) and the
 * external dependency (WEDSYNC_PROVIDER_STATUS_URL). A healthy endpoint changes nothing. Then the seed's solutions in
 * order, each until the AI service is back:
 *
 * 1. the engine restarted (`restartDeployment` as a child: rollout restart and rollout status), the endpoint's health
 *    read again after `settleSeconds`;
 * 2. still down: `failoverAiIngress` as a child, with its own health checks of the backup and its own gate
 *    (`decide` on `<this workflow ID>/failover`, shown in the status as failoverWorkflowId);
 * 3. the failover refused (at its gate, or on the backup's health) or the backup unhealthy after it: the rule-based
 *    fallback switched on (the `setFallbackMode` activity, as the fallback watch switches it).
 *
 * Each step is audited and told to seed 002's AI Operations team and Platform on-call. The final state (restarted,
 * failed-over, fallback-on, still-down) is the result's and the status query's; still down (the fallback could not
 * be switched on) is a complete AI outage, seed 002's Level 4 Emergency: a P0 page of the escalation chain's first
 * two tiers.
 *
 *   temporal workflow start --type aiServiceOutageRemediation --task-queue aiops-runbooks \
 *     --workflow-id ws-ai-outage-1 --input '{"requestedBy":"oncall","reason":"503 from /ai/ since 14:05"}'
 *   temporal workflow update execute --workflow-id ws-ai-outage-1/failover --name decide \
 *     --input '{"gate":"failover","decision":"approve","by":"ai-lead","reason":"backup checked"}'
 */
import {
  ApplicationFailure,
  executeChild,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { failureText, FailureType, innermostCause } from '../../../contracts/failures';
import type { Severity } from '../../../contracts/notifications';
import type { Check } from '../../../contracts/probes';
import { WEDSYNC_ESCALATION_CHAIN } from '../../../contracts/roster';
import { describeAlertLevel } from '../../../contracts/wedsync-alert-levels';
import { checkService, type ServiceHealth } from '../../common/service-health';
import { settle } from '../../common/settle';
import { failoverAiIngress } from '../../failover/workflow';
import { AuditTrail } from '../../gates/audit-trail';
import { Pager } from '../../gates/pager';
import { restartDeployment } from '../../operations/rollout/workflow';
import { changes, probes } from '../../policies';
import {
  aiServiceOutageStatusQuery,
  parseAiServiceOutageInput,
  type AiServiceOutageInput,
  type AiServiceOutageResult,
  type AiServiceOutageStatus,
  type OutageState,
  type OutageStep,
} from './messages';

/** seed 002 AI System Escalation Chain: Primary AI Operations, Secondary Platform Engineering on-call. */
const RESPONDERS = { roles: WEDSYNC_ESCALATION_CHAIN.slice(0, 2).flatMap((a) => a.roles ?? []) };
const AUDIT_STEP = 'ai-service-outage';
/** Pods whose logs are read: enough to see the error, not the whole fleet. */
const PODS_READ = 3;
const why = (c: Exclude<Check<unknown>, { state: 'ok' }>) => (c.state === 'failed' ? c.error : c.reason);

export async function aiServiceOutageRemediation(rawInput: AiServiceOutageInput): Promise<AiServiceOutageResult> {
  const input = parseAiServiceOutageInput(rawInput);
  const { deployment } = input;
  const info = workflowInfo();
  const audit = new AuditTrail();
  const pager = new Pager(`ai-outage-${info.workflowId}`);
  const status: AiServiceOutageStatus = { deployment, step: 'diagnose', findings: [], steps: [], timeline: [] };
  setHandler(aiServiceOutageStatusQuery, () => ({ ...status }));
  const step = (name: string) => {
    status.step = name;
    status.timeline.push({ at: new Date().toISOString(), event: name });
  };
  const finding = (text: string) => status.findings.push(text);
  const tell = async (message: string, urgency: 'page' | 'message', severity: Severity) => {
    const failed = await pager.tell({
      audience: RESPONDERS,
      urgency,
      severity,
      dedupKey: pager.dedupKey,
      message: `[WedSync AI outage] ${message} (workflow ${info.workflowId})`,
    });
    for (const reason of failed)
      status.timeline.push({ at: new Date().toISOString(), event: `notification failed: ${reason}` });
  };
  const tried = (s: OutageStep, actor = 'workflow') => {
    status.steps.push(s);
    audit.record({ step: `${AUDIT_STEP}:${s.step}`, actor, action: s.step, outcome: s.outcome, reason: s.detail });
  };
  const finish = async (state: OutageState, before: ServiceHealth, after?: ServiceHealth) => {
    status.state = state;
    step(state);
    audit.record({
      step: AUDIT_STEP,
      actor: 'workflow',
      action: 'finished',
      outcome: state,
      details: { steps: status.steps.map((s) => `${s.step}: ${s.outcome}`) },
    });
    await audit.flush();
    return { state, deployment, findings: status.findings, steps: status.steps, before, ...(after && { after }) };
  };
  audit.record({
    step: AUDIT_STEP,
    actor: input.requestedBy,
    action: 'request',
    outcome: 'requested',
    reason: input.reason,
    details: { deployment },
  });

  // Diagnosis: what a person would look at before touching anything; a check that fails is a finding.
  const namespacePods = await settle(probes.listPods({}));
  if (namespacePods.state !== 'ok') finding(`pods: could not be listed (${why(namespacePods)})`);
  else if (!namespacePods.result.configured) finding(`pods: ${namespacePods.result.reason}`);
  else {
    const { namespace, pods } = namespacePods.result;
    const notReady = pods.filter((p) => !p.ready);
    finding(
      `pods in ${namespace}: ${pods.length}, ${notReady.length} not ready${notReady.length ? ` (${notReady.map((p) => p.name).join(', ')})` : ''}`,
    );
  }
  const enginePods = await settle(probes.listPods({ labelSelector: `app=${deployment}` }));
  if (enginePods.state === 'ok' && enginePods.result.configured) {
    if (!enginePods.result.pods.length) finding(`${deployment}: no pods`);
    for (const pod of enginePods.result.pods.slice(0, PODS_READ)) {
      finding(`pod ${pod.name}: ${pod.phase}, ${pod.ready ? 'ready' : 'not ready'}, ${pod.restarts} restarts`);
      const logs = await settle(probes.podLogs({ pod: pod.name, tailLines: 100 }));
      if (logs.state !== 'ok') {
        finding(`logs of ${pod.name}: could not be read (${why(logs)})`);
        continue;
      }
      const errors = logs.result.lines.filter((l) => /error|exception|fatal|panic/i.test(l));
      finding(
        `logs of ${pod.name}: ${errors.length} error lines of ${logs.result.lines.length}${errors.length ? `, last: ${errors.at(-1)}` : ''}`,
      );
    }
  }
  const before = await checkService('primary');
  finding(`AI endpoint ${before.healthy ? 'healthy' : 'NOT healthy'}: ${before.detail}`);
  const provider = await settle(probes.probeProviderStatus());
  if (provider.state !== 'ok') finding(`external dependency: could not be checked (${why(provider)})`);
  else if (!provider.result.configured) finding('external dependency: WEDSYNC_PROVIDER_STATUS_URL is not set');
  else {
    const p = provider.result;
    finding(
      p.reachable
        ? `external dependency ${p.url} answering${p.httpStatus !== undefined ? ` (HTTP ${p.httpStatus}, ${p.latencyMs} ms${p.models !== undefined ? `, ${p.models} models` : ''})` : ''}`
        : `external dependency ${p.url} NOT answering: ${p.detail ?? `HTTP ${p.httpStatus}`}`,
    );
  }
  if (before.healthy) return finish('not-needed', before);
  await tell(
    `AI endpoint down (${before.detail}); restarting ${deployment}. Diagnosis: ${status.findings.join('; ')}`,
    'message',
    'error',
  );

  // 1. Service Restart.
  step('restart');
  let rollout: string;
  let rolledOut = true;
  try {
    const r = await executeChild(restartDeployment, {
      workflowId: `${info.workflowId}/restart`,
      args: [{ deployment, timeoutSeconds: input.rolloutTimeoutSeconds }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    rollout = `${deployment} restarted at ${r.restartedAt}, ${r.rollout.availableReplicas}/${r.rollout.replicas} available`;
  } catch (err) {
    rolledOut = false;
    rollout = `restart of ${deployment} did not complete: ${failureText(err)}`;
  }
  // The endpoint decides, not the rollout: a restart whose rollout status timed out may still have brought it back.
  step('verify-restart');
  if (input.settleSeconds > 0) await sleep(input.settleSeconds * 1000);
  let after = await checkService('primary');
  tried({
    step: 'restart',
    outcome: after.healthy ? 'done' : rolledOut ? 'unhealthy-after' : 'failed',
    detail: `${rollout}; AI endpoint ${after.healthy ? 'healthy' : 'still down'}: ${after.detail}`,
  });
  if (after.healthy) {
    await tell(`${deployment} restarted; the AI endpoint is healthy again (${after.detail})`, 'message', 'info');
    return finish('restarted', before, after);
  }

  // 2. Traffic Rerouting: the failover workflow, with its own checks and gate.
  step('failover');
  const failoverId = `${info.workflowId}/failover`;
  await tell(
    `${status.steps.at(-1)!.detail}. Failing the AI ingress over to the backup: decide at gate "failover" of ${failoverId}`,
    'message',
    'error',
  );
  try {
    const child = await startChild(failoverAiIngress, {
      workflowId: failoverId,
      args: [
        {
          requestedBy: input.requestedBy,
          reason: `AI service outage: ${deployment} still down after a restart (${info.workflowId})${input.reason ? `: ${input.reason}` : ''}`,
        },
      ],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    // Shown once it runs, so whoever reads it from the status finds the gate there.
    status.failoverWorkflowId = child.workflowId;
    const switched = await child.result();
    after = switched.after;
    tried(
      {
        step: 'failover',
        outcome: switched.after.healthy ? 'done' : 'unhealthy',
        detail: `ingress ${switched.ingress} on ${switched.to.service}:${switched.to.port} (approved by ${switched.approvedBy}); backup ${switched.after.healthy ? 'healthy' : 'NOT healthy'} after the switch: ${switched.after.detail}`,
      },
      switched.approvedBy,
    );
    if (switched.after.healthy) {
      await tell(`failed over: ${status.steps.at(-1)!.detail}`, 'message', 'warning');
      return finish('failed-over', before, after);
    }
  } catch (err) {
    const cause = innermostCause(err);
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    tried({
      step: 'failover',
      outcome:
        type === FailureType.NotAuthorized ? 'refused' : type === FailureType.TargetUnhealthy ? 'unhealthy' : 'failed',
      detail: failureText(err),
    });
  }
  status.failoverWorkflowId = undefined;

  // 3. Activate Fallback Mode: the rule-based fallback serves while the AI service stays down.
  step('fallback');
  const fallback = await settle(
    // Safe to retry: enabling twice leaves it enabled, and the Idempotency-Key is this workflow's fallback step.
    changes.setFallbackMode({
      enabled: true,
      key: `${info.workflowId}/fallback`,
      reason: `AI service outage: restart and failover did not bring ${deployment} back`,
    }),
  );
  if (fallback.state === 'ok') {
    tried({ step: 'fallback', outcome: 'on', detail: 'rule-based fallback mode switched on' });
    await tell(
      `rule-based fallback switched on; the AI service is still down: ${status.steps.map((s) => `${s.step} ${s.outcome}: ${s.detail}`).join('; ')}`,
      'message',
      'error',
    );
    return finish('fallback-on', before, after);
  }
  tried({ step: 'fallback', outcome: 'failed', detail: `fallback mode not switched on: ${why(fallback)}` });

  // Nothing worked: a complete AI outage, Level 4 Emergency.
  step('escalated');
  audit.record({ step: AUDIT_STEP, actor: 'workflow', action: 'escalate', outcome: 'paged', reason: 'still down' });
  await tell(
    `P0, ${describeAlertLevel(4)}: AI service still down after restart, failover and fallback: ${status.steps.map((s) => `${s.step} ${s.outcome}: ${s.detail}`).join('; ')}`,
    'page',
    'critical',
  );
  return finish('still-down', before, after);
}
