/**
 * ScrollUniversity incident response, seed 000: "Severity Levels" (P0 15 minutes, page on-call + AI Team Lead
 * at once; P1 1 hour, page on-call; P2 4 hours, notify on-call via Slack; P3 next business day, ticket only),
 * "Escalation Contacts" (on-call, AI Team Lead, DevOps, Security) and the "Alert Response Checklist":
 * acknowledge; check service health and logs; identify root cause; apply quick fix; monitor for resolution;
 * document; create follow-up tasks; conduct post-mortem (P0/P1).
 *
 * Start (alert receivers use signal-with-start of signal "alert" on incident-<fingerprint>):
 *   temporal workflow start --type incidentResponse --task-queue aiops-runbooks --workflow-id incident-gw-5xx \
 *     --input '{"severity":"P1","service":"ai-gateway-service","summary":"5xx above 10%","fingerprint":"gw-5xx"}'
 */
import { ParentClosePolicy, executeChild, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { invalidInput } from '../../contracts/failures';
import { isHealthyProbe } from '../../contracts/health';
import { SCROLLUNIVERSITY_ESCALATION_CHAIN, type Audience } from '../../contracts/roster';
import { addToTimeline } from '../../contracts/timeline';
import { settle } from '../common/settle';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { monitorUntilHealthy } from '../operations/monitor/workflow';
import { loadDirectory, probes } from '../policies';
import { nextBusinessDayStart } from './business-time';
import { DIAGNOSIS_BY_COMPANY_PATCH, diagnoseService } from './diagnosis';
import { applyQuickFix, QUICK_FIX_REMEDIATION_PATCH, type RemediationContext } from './quick-fix';
import {
  alertResolvedSignal,
  alertSignal,
  firingsOf,
  incidentStatusQuery,
  incidentWorkflowId,
  parseIncidentInput,
  QUICK_FIXES,
  type QuickFix,
  type IncidentInput,
  type IncidentResult,
  type IncidentSeverity,
  type IncidentStatus,
} from './messages';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface SeverityPolicy {
  ackWithinMs?: number;
  /** Who is told when the incident opens, and how; P3 tells nobody (a ticket). */
  first?: { audience: Audience; urgency: 'page' | 'message' };
  /** Index in the escalation chain of the first tier asked after the first deadline. */
  nextTier: number;
  pagerDutySeverity: 'critical' | 'error' | 'warning' | 'info';
  /** How often a gate waiting without a deadline reminds its deciders: the severity's response time. */
  remindEveryMs: number;
}

export const SEVERITY_POLICY: Record<IncidentSeverity, SeverityPolicy> = {
  P0: {
    ackWithinMs: 15 * MINUTE,
    first: { audience: { roles: ['on-call', 'ai-team-lead'] }, urgency: 'page' },
    nextTier: 2,
    pagerDutySeverity: 'critical',
    remindEveryMs: 30 * MINUTE,
  },
  P1: {
    ackWithinMs: HOUR,
    first: { audience: { roles: ['on-call'] }, urgency: 'page' },
    nextTier: 1,
    pagerDutySeverity: 'error',
    remindEveryMs: HOUR,
  },
  P2: {
    ackWithinMs: 4 * HOUR,
    first: { audience: { roles: ['on-call'] }, urgency: 'message' },
    nextTier: 1,
    pagerDutySeverity: 'warning',
    remindEveryMs: 4 * HOUR,
  },
  P3: { nextTier: 1, pagerDutySeverity: 'info', remindEveryMs: 24 * HOUR },
};
/** After the first deadline, each further tier gets this long; P3's first is the next business day. */
const P3_TIER_MS = 24 * HOUR;
const RESPONDERS: Audience = { roles: ['on-call', 'ai-team-lead', 'devops', 'security'] };

/** The records asked for once the incident is over (document, follow-ups, post-mortem) are reminded of daily. */
const RECORDS_REMIND_MS = 24 * HOUR;
/** Incidents opened before it let their later gates wait without reminders. Asked for before the first await. */
export const GATE_REMINDERS_PATCH = 'incident-gate-reminders';
/**
 * The audit written by a regular activity: a local one holds the workflow task open while it writes, and an alert
 * re-fired (or a gate refused) hundreds of times meanwhile buffers more signals than the server lets a held task
 * gather, so it force-closes the task (FORCE_CLOSE_COMMAND) and the worker does the work again.
 */
export const AUDIT_BY_ACTIVITY_PATCH = 'incident-audit-by-activity';
/** Incidents that reached their quick fix before quick fixes ran as child workflows only recorded the choice. */
export const QUICK_FIX_CHILDREN_PATCH = 'quick-fix-child-workflows';

export async function incidentResponse(rawInput: IncidentInput): Promise<IncidentResult> {
  const reminders = patched(GATE_REMINDERS_PATCH);
  const input = parseIncidentInput(rawInput);
  const info = workflowInfo();
  if (input.fingerprint && info.workflowId !== incidentWorkflowId(input.fingerprint)) {
    // The ID is what lets a re-fired alert find this incident instead of opening another.
    throw invalidInput(
      'workflowId',
      `must be "${incidentWorkflowId(input.fingerprint)}" for fingerprint ${input.fingerprint}`,
    );
  }
  const policy = SEVERITY_POLICY[input.severity];
  const dedupKey = info.workflowId;
  const auditByActivity = patched(AUDIT_BY_ACTIVITY_PATCH);
  const audit = new AuditTrail({ byActivity: auditByActivity, mergeRepeats: auditByActivity });
  const gates = new Gatekeeper(audit, dedupKey);
  const openedMs = Date.now();
  const iso = (ms = Date.now()) => new Date(ms).toISOString();

  const state: Omit<IncidentStatus, 'gates'> = {
    severity: input.severity,
    service: input.service,
    summary: input.summary,
    step: 'acknowledge',
    openedAt: iso(openedMs),
    acknowledgeBy: '',
    alertFirings: 0,
    escalationTier: 0,
    timeline: [],
    earlierEvents: 0,
  };
  setHandler(incidentStatusQuery, () => ({ ...state, gates: gates.status() }));
  const event = (text: string) => addToTimeline(state, iso(), text);
  gates.onSignal(alertSignal, (firing) => {
    const firings = firingsOf(firing);
    state.alertFirings += firings;
    const summary = typeof firing?.summary === 'string' ? firing.summary.slice(0, 1000) : '';
    event(
      state.alertFirings === 1 ? `alert fired: ${summary}` : `alert fired again (${state.alertFirings}): ${summary}`,
    );
    // Re-fires of one summary are alike, so a flood of them is written as one record counting them.
    audit.record({
      step: 'alert',
      actor: 'alerting',
      action: 'fired',
      outcome: auditByActivity
        ? state.alertFirings === firings
          ? 'fired'
          : 'fired again'
        : String(state.alertFirings),
      reason: summary,
      ...(auditByActivity && firings > 1 && { details: { firings } }),
    });
  });
  gates.onSignal(alertResolvedSignal, (resolution) => {
    const endsAt = typeof resolution?.endsAt === 'string' && !Number.isNaN(Date.parse(resolution.endsAt));
    state.alertResolvedAt = endsAt ? new Date(Date.parse(resolution.endsAt as string)).toISOString() : iso();
    event(`alert resolved at ${state.alertResolvedAt}`);
    audit.record({ step: 'alert', actor: 'alerting', action: 'resolved', outcome: state.alertResolvedAt });
  });

  audit.record({
    step: 'incident',
    actor: 'workflow',
    action: 'opened',
    outcome: input.severity,
    reason: input.summary,
    details: { service: input.service },
  });
  const directory = await loadDirectory();
  gates.setRoster(directory.members);

  const say = async (audience: Audience, urgency: 'page' | 'message', message: string) => {
    const failed = await gates.pager.tell({ audience, urgency, message, dedupKey, severity: policy.pagerDutySeverity });
    for (const reason of failed) event(`notification failed: ${reason}`);
  };
  const tag = `[${input.severity} ${input.service}]`;
  const remind = (everyMs: number) => (reminders ? { remindEveryMs: Math.max(everyMs, policy.remindEveryMs) } : {});

  // 1. Acknowledge, within the severity's response time; escalate along the chain when nobody does.
  const firstTimeout = policy.ackWithinMs ?? nextBusinessDayStart(openedMs, directory.businessHours) - openedMs;
  state.acknowledgeBy = iso(openedMs + firstTimeout);
  let firstNotice: Promise<void> = Promise.resolve();
  if (policy.first) {
    event(`${policy.first.urgency === 'page' ? 'paged' : 'notified'} ${policy.first.audience.roles?.join(' + ')}`);
    firstNotice = say(
      policy.first.audience,
      policy.first.urgency,
      `${tag} ${input.summary} (acknowledge by ${state.acknowledgeBy}: workflow ${info.workflowId})`,
    );
    // The clock to acknowledge runs while a channel is still being retried; incidents opened before the channels
    // were apart waited for the one notification first, and replay the same way.
    if (!gates.pager.channelsApart) await firstNotice;
  } else {
    event('ticket created; no immediate notification (P3)');
    audit.record({
      step: 'incident',
      actor: 'workflow',
      action: 'ticket-created',
      outcome: 'open',
      reason: input.summary,
    });
  }
  const ack = await gates.wait({
    name: 'acknowledge',
    prompt: `${tag} ${input.summary}: acknowledge`,
    deciders: policy.first?.audience ?? { roles: ['on-call'] },
    firstTierTimeoutMs: firstTimeout,
    tierTimeoutMs: policy.ackWithinMs ?? P3_TIER_MS,
    escalation: SCROLLUNIVERSITY_ESCALATION_CHAIN.slice(policy.nextTier),
    onExhausted: 'keep-waiting',
    ...remind(policy.remindEveryMs),
  });
  state.escalationTier = ack.tierReached;
  state.acknowledgedBy = ack.by;
  event(`acknowledged by ${ack.by}${ack.tierReached ? ` after ${ack.tierReached} escalation(s)` : ''}`);
  const paged = policy.first?.urgency === 'page' || ack.tierReached > 0;
  if (paged) {
    for (const reason of await gates.pager.update('acknowledge', input.summary))
      event(`PagerDuty acknowledge failed: ${reason}`);
  }
  const responders: Audience = { ...RESPONDERS, people: [ack.by] };

  // 2. Check service health and logs.
  state.step = 'diagnose';
  // Incidents diagnosed before it read WedSync's endpoints whatever the service, and no logs or rollout history.
  if (patched(DIAGNOSIS_BY_COMPANY_PATCH)) {
    for (const line of await diagnoseService(input.service)) event(line);
  } else {
    const urls = await probes.listHealthEndpoints();
    const health = await Promise.all(urls.map((url) => settle(probes.probeHealth(url))));
    const errors = await settle(probes.fetchRecentErrors());
    const healthy = health.filter((h) => h.state === 'ok' && isHealthyProbe(h.result)).length;
    event(
      `health: ${healthy}/${urls.length} endpoints healthy; recent errors: ${errors.state === 'ok' ? errors.result.errors.map((e) => `${e.message} ×${e.count}`).join('; ') || 'none' : errors.state === 'failed' ? errors.error : 'skipped'}`,
    );
  }

  // 3. Root cause, recorded by a person.
  state.step = 'root-cause';
  const rootCause = await gates.wait({
    name: 'root-cause',
    prompt: `${tag} record the root cause`,
    deciders: responders,
    ...remind(policy.remindEveryMs),
  });
  state.rootCause = rootCause.reason;
  event(`root cause (${rootCause.by}): ${rootCause.reason}`);

  // 4. Quick fix: a person chooses one of the runbook's fixes; it is recorded for the record and the team.
  state.step = 'quick-fix';
  const fix = await gates.wait({
    name: 'quick-fix',
    prompt: `${tag} choose the quick fix applied (approve with choice), or reject if none`,
    deciders: responders,
    choices: [...QUICK_FIXES],
    ...remind(policy.remindEveryMs),
  });
  state.quickFix = fix.decision === 'approve' ? fix.choice : 'none';
  event(`quick fix: ${state.quickFix} (${fix.by}: ${fix.reason})`);
  if (patched(QUICK_FIX_CHILDREN_PATCH)) {
    let remediation: RemediationContext | undefined;
    if (patched(QUICK_FIX_REMEDIATION_PATCH)) {
      const su = await probes.scrollUniversityTargets();
      remediation = {
        severity: input.severity,
        scrollUniversityNamespace: su.deployments.includes(input.service) ? su.namespace : undefined,
      };
    }
    const outcome = await applyQuickFix(
      state.quickFix as QuickFix,
      input.service,
      `${info.workflowId}/quick-fix`,
      remediation,
    );
    if (outcome) {
      event(`quick fix ${state.quickFix}: ${outcome.summary}`);
      audit.record({
        step: 'quick-fix',
        actor: 'workflow',
        action: state.quickFix!,
        outcome: outcome.ok ? 'done' : 'failed',
      });
    }
  }

  // 5. Monitor for resolution.
  state.step = 'monitor';
  const watch = await executeChild(monitorUntilHealthy, {
    workflowId: `${info.workflowId}/monitor`,
    args: [input.monitor ?? {}],
    parentClosePolicy: ParentClosePolicy.TERMINATE,
  });
  state.resolvedByMonitoring = watch.resolved;
  event(watch.resolved ? `healthy ${watch.consecutiveHealthy} checks in a row` : 'monitoring ended without recovery');
  audit.record({
    step: 'monitor',
    actor: 'workflow',
    action: 'monitored',
    outcome: watch.resolved ? 'healthy' : 'not-recovered',
  });

  // 6-8. Document, follow-up tasks, post-mortem (P0/P1).
  state.step = 'document';
  const doc = await gates.wait({
    name: 'document',
    prompt: `${tag} document the incident`,
    deciders: responders,
    ...remind(RECORDS_REMIND_MS),
  });
  state.step = 'follow-up';
  const followUps = await gates.wait({
    name: 'follow-up',
    prompt: `${tag} list the follow-up tasks`,
    deciders: responders,
    ...remind(RECORDS_REMIND_MS),
  });
  if (input.severity === 'P0' || input.severity === 'P1') {
    state.step = 'post-mortem';
    for (;;) {
      const pm = await gates.wait({
        name: 'post-mortem',
        prompt: `${tag} attach the post-mortem (approve with link)`,
        deciders: responders,
        requireLink: true,
        ...remind(RECORDS_REMIND_MS),
      });
      if (pm.decision === 'approve') {
        state.postMortem = pm.link;
        event(`post-mortem: ${pm.link}`);
        break;
      }
    }
  }

  state.step = 'closed';
  await firstNotice;
  if (paged) {
    for (const reason of await gates.pager.update('resolve', input.summary))
      event(`PagerDuty resolve failed: ${reason}`);
  }
  if (policy.first) await say(responders, 'message', `${tag} closed: ${rootCause.reason}`);
  audit.record({
    step: 'incident',
    actor: 'workflow',
    action: 'closed',
    outcome: 'closed',
    durationMs: Date.now() - openedMs,
  });
  await gates.settled();
  await audit.flush();
  return { ...state, closedAt: iso(), documentation: doc.reason, followUps: followUps.reason };
}
