/**
 * WedSync manual failover, seed 002 "Failover Procedures, Manual Failover":
 *
 *   # Switch to backup AI infrastructure
 *   kubectl patch ingress ai-ingress -p '{"spec": {"rules": [{"host": "api.wedsync.com", "http": {"paths": [{
 *     "path": "/ai/", "backend": {"serviceName": "ai-backup-services", "servicePort": 80}}]}}]}}'
 *
 * failoverAiIngress points the AI ingress at the backup service, failbackAiIngress at the primary again. Each
 * checks the target's health first (an unhealthy target is refused before anyone is asked), waits for a person
 * at the gate, checks the target again (it may have changed while people decided), switches, and checks it once
 * more after the switch. People hear of each outcome; a target unhealthy after the switch pages, and the switch
 * stays: the service it left was the one failing, so going back is a person's call (the other workflow).
 *
 *   temporal workflow start --type failoverAiIngress --task-queue aiops-runbooks --workflow-id ai-failover-1 \
 *     --input '{"requestedBy":"oncall","reason":"primary AI service down since 14:05"}'
 *   temporal workflow update execute --workflow-id ai-failover-1 --name decide \
 *     --input '{"gate":"failover","decision":"approve","by":"ai-lead","reason":"backup checked"}'
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../contracts/failures';
import { checkService } from '../common/service-health';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { changes, loadDirectory, probes } from '../policies';
import {
  ingressSwitchStatusQuery,
  parseIngressSwitchInput,
  type IngressSwitchInput,
  type IngressSwitchResult,
  type IngressSwitchStatus,
  type SwitchDirection,
  type TargetHealth,
} from './messages';

/** Who is told of a switch: seed 002's AI operations and platform on-call. */
const FAILOVER_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };
const MINUTE = 60_000;

export async function failoverAiIngress(input: IngressSwitchInput): Promise<IngressSwitchResult> {
  return switchAiIngress('failover', parseIngressSwitchInput(input, 'failoverAiIngress'));
}

export async function failbackAiIngress(input: IngressSwitchInput): Promise<IngressSwitchResult> {
  return switchAiIngress('failback', parseIngressSwitchInput(input, 'failbackAiIngress'));
}

async function switchAiIngress(
  direction: SwitchDirection,
  request: { requestedBy: string; reason: string },
): Promise<IngressSwitchResult> {
  const info = workflowInfo();
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, info.workflowId);
  const status: IngressSwitchStatus = { direction, step: 'checking-target', gates: [] };
  setHandler(ingressSwitchStatusQuery, () => ({ ...status, gates: gates.status() }));
  const tell = (message: string, urgency: 'page' | 'message') =>
    gates.pager.tell({
      audience: FAILOVER_AUDIENCE,
      urgency,
      severity: urgency === 'page' ? 'critical' : 'info',
      dedupKey: gates.pager.dedupKey,
      message: `[ai-${direction}] ${message} (workflow ${info.workflowId})`,
    });

  const targets = await probes.failoverTargets();
  const target = direction === 'failover' ? 'backup' : 'primary';
  const service = direction === 'failover' ? targets.backup : targets.primary;
  status.service = service;
  audit.record({
    step: direction,
    actor: request.requestedBy,
    action: 'request',
    outcome: 'requested',
    reason: request.reason,
    details: { ingress: targets.ingress, service },
  });

  const refuseUnhealthy = async (health: TargetHealth, when: string) => {
    status.step = 'refused';
    const message = `${direction} of ${targets.ingress} to ${service} refused: the ${target} service is not healthy ${when} (${health.detail})`;
    audit.record({ step: direction, actor: 'workflow', action: 'health-check', outcome: 'refused', reason: message });
    await tell(message, 'message');
    await audit.flush();
    throw ApplicationFailure.create({ type: FailureType.TargetUnhealthy, message, nonRetryable: true });
  };

  const before = await checkService(target);
  status.before = before;
  if (!before.healthy) await refuseUnhealthy(before, 'before the switch was asked for');

  gates.setRoster((await loadDirectory()).members);
  status.step = 'awaiting-approval';
  const outcome = await gates.wait({
    name: direction,
    prompt:
      `${direction === 'failover' ? 'Fail over' : 'Fail back'}: point ingress ${targets.ingress} at ${service}:` +
      `${targets.port} (the ${target} service, healthy at ${before.at}: ${before.detail}). Requested by ` +
      `${request.requestedBy}: ${request.reason}`,
    deciders: { roles: ['ai-team-lead', 'platform-oncall'] },
    tierTimeoutMs: 15 * MINUTE,
    escalation: [{ roles: ['cto'] }],
    onExhausted: 'abort',
  });
  await gates.settled();
  if (outcome.decision !== 'approve') {
    status.step = 'refused';
    const message = `${direction} of ${targets.ingress} to ${service} not approved by ${outcome.by}: ${outcome.reason}`;
    await tell(message, 'message');
    await audit.flush();
    throw ApplicationFailure.create({ type: FailureType.NotAuthorized, message, nonRetryable: true });
  }

  // Time has passed at the gate: the target is checked again right before traffic goes to it.
  const justBefore = await checkService(target);
  status.before = justBefore;
  if (!justBefore.healthy) await refuseUnhealthy(justBefore, 'after the approval');

  status.step = 'switching';
  // Safe to retry: the activity writes nothing when the ingress already points at the service, and writes with the
  // resourceVersion it read, so a concurrent edit is refused rather than overwritten.
  const switched = await changes.patchIngressBackend({ service, port: targets.port });
  audit.record({
    step: direction,
    actor: outcome.by,
    action: 'patch-ingress',
    outcome: switched.changed ? 'switched' : 'already-there',
    details: { ingress: switched.ingress, from: switched.previous, to: switched.current },
  });

  status.step = 'checking-after';
  const after = await checkService(target);
  status.after = after;
  status.step = 'done';
  const summary = `ingress ${switched.ingress} now sends /ai/ to ${service}:${targets.port} (was ${switched.previous.service}:${switched.previous.port}); approved by ${outcome.by}`;
  if (after.healthy) await tell(`${summary}; ${service} healthy after the switch`, 'message');
  else
    await tell(
      `${summary}; ${service} NOT healthy after the switch (${after.detail}): check it, or switch back with ${direction === 'failover' ? 'failbackAiIngress' : 'failoverAiIngress'}`,
      'page',
    );
  audit.record({
    step: direction,
    actor: 'workflow',
    action: 'health-check-after',
    outcome: after.healthy ? 'healthy' : 'unhealthy',
    reason: after.detail,
  });
  await audit.flush();
  return {
    direction,
    ingress: switched.ingress,
    from: switched.previous,
    to: switched.current,
    changed: switched.changed,
    approvedBy: outcome.by,
    before: justBefore,
    after,
  };
}
