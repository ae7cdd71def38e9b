/**
 * What every remediation shares (ScrollUniversity's here, WedSync's in ../remediation-wedsync/): diagnose, act
 * (behind the gate where the act is disruptive), wait for the fix to show, verify, and page when it did not work.
 * One status query, one audit trail, one way to tell people, so each procedure's workflow holds only its own checks
 * and its own fix.
 */
import { executeChild, ParentClosePolicy, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Audience } from '../../contracts/roster';
import { ALERT_LEVELS, describeAlertLevel, type AlertLevel } from '../../contracts/wedsync-alert-levels';
import { settle } from '../common/settle';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import type { IncidentSeverity } from '../incident/messages';
import { SEVERITY_POLICY } from '../incident/workflow';
import { restartDeployment } from '../operations/rollout/workflow';
import { loadDirectory, probes } from '../policies';
import {
  parseRemediationInput,
  remediationStatusQuery,
  type ParsedRemediationInput,
  type RemediationInput,
  type RemediationResult,
  type RemediationStatus,
} from './messages';

/** seed 000's first two Escalation Contacts: the on-call engineer, then the AI Team Lead. */
const RESPONDERS: Audience = { roles: ['on-call', 'ai-team-lead'] };
const APPROVERS: Audience = { roles: ['on-call', 'ai-team-lead'] };
const MINUTE = 60_000;

/** What every remediation's parsed input has, whichever company's runbook the procedure comes from. */
export interface RemediationBasics {
  requestedBy: string;
  reason?: string;
  severity: IncidentSeverity;
  settleSeconds: number;
}

/**
 * The shared run of a remediation for any company's procedure: the company names it in what people are told, the
 * input is parsed by the procedure's own schema before this is made. ScrollUniversity's procedures use Remediation.
 */
export class RemediationRun<I extends RemediationBasics> {
  readonly audit = new AuditTrail();
  readonly gates: Gatekeeper;
  readonly actions: string[] = [];
  private readonly status: Omit<RemediationStatus, 'gates'>;
  private readonly tag: string;

  /** Answers the status query from the start; `input` is already validated, so nothing was scheduled for bad input. */
  constructor(
    readonly issue: string,
    readonly input: I,
    company: string,
  ) {
    this.gates = new Gatekeeper(this.audit, workflowInfo().workflowId);
    this.status = { issue, severity: this.input.severity, step: 'diagnose', findings: [], timeline: [] };
    this.tag = `[${this.input.severity} ${company} ${issue}]`;
    setHandler(remediationStatusQuery, () => ({ ...this.status, gates: this.gates.status() }));
    this.audit.record({
      step: issue,
      actor: this.input.requestedBy,
      action: 'request',
      outcome: 'requested',
      reason: this.input.reason,
      details: { severity: this.input.severity },
    });
  }

  get findings(): string[] {
    return this.status.findings;
  }

  step(name: string): void {
    this.status.step = name;
    this.status.timeline.push({ at: new Date().toISOString(), event: name });
  }

  finding(text: string): void {
    this.status.findings.push(text);
  }

  /** A probe whose failure is a finding, not the workflow's end: a root-cause check that cannot be made is reported. */
  async check<T>(what: string, call: Promise<T>): Promise<T | undefined> {
    const outcome = await settle(call);
    if (outcome.state === 'ok') return outcome.result;
    this.finding(`${what}: could not be checked (${outcome.state === 'failed' ? outcome.error : 'skipped'})`);
    return undefined;
  }

  acted(action: string, details?: Record<string, unknown>): void {
    this.actions.push(action);
    this.audit.record({ step: this.issue, actor: 'workflow', action, outcome: 'done', details });
  }

  /**
   * The gate before a disruptive fix: P0 and P1 need the on-call engineer or the AI Team Lead (DevOps after 15
   * minutes; nobody within the tiers means no); P2 and P3 go ahead, recorded as not needing approval, unless
   * `always` puts every severity through the gate.
   */
  async approve(
    gate: string,
    prompt: string,
    options: { always?: boolean } = {},
  ): Promise<{ approved: boolean; by: string; reason: string }> {
    if (!options.always && this.input.severity !== 'P0' && this.input.severity !== 'P1') {
      this.audit.record({ step: `gate:${gate}`, actor: 'workflow', action: 'approval', outcome: 'not-required' });
      return { approved: true, by: 'workflow', reason: `${this.input.severity}: no approval needed` };
    }
    this.step(`awaiting-approval:${gate}`);
    this.gates.setRoster((await loadDirectory()).members);
    const outcome = await this.gates.wait({
      name: gate,
      prompt: `${this.tag} ${prompt} (requested by ${this.input.requestedBy}${this.input.reason ? `: ${this.input.reason}` : ''})`,
      deciders: APPROVERS,
      tierTimeoutMs: 15 * MINUTE,
      escalation: [{ roles: ['devops'] }],
      onExhausted: 'abort',
    });
    return { approved: outcome.decision === 'approve', by: outcome.by, reason: outcome.reason };
  }

  /** Gives the fix time to show in the figures before they are read again. */
  async settle(): Promise<void> {
    this.step('verify');
    if (this.input.settleSeconds > 0) await sleep(this.input.settleSeconds * 1000);
  }

  /** Slack to the responders; a channel that fails is a timeline entry, never the workflow's failure. */
  async tell(message: string): Promise<void> {
    await this.notify(message, 'message');
  }

  /** The fix did not work: page the on-call engineer and the AI Team Lead. */
  async escalate(message: string): Promise<void> {
    this.step('escalated');
    this.audit.record({ step: this.issue, actor: 'workflow', action: 'escalate', outcome: 'paged', reason: message });
    await this.notify(message, 'page');
  }

  /**
   * The fix did not work, told as WedSync's alert level asks (seed 002 Alert Levels): Level 1 is logged for
   * analysis only, Level 2 is a message to be investigated within 4 hours, Levels 3 and 4 page.
   */
  async escalateAtLevel(level: AlertLevel, message: string): Promise<void> {
    const policy = ALERT_LEVELS[level];
    const text = `${describeAlertLevel(level)}: ${message}`;
    this.step('escalated');
    const outcome = policy.urgency === 'page' ? 'paged' : policy.urgency === 'message' ? 'messaged' : 'logged';
    this.audit.record({
      step: this.issue,
      actor: 'workflow',
      action: 'escalate',
      outcome,
      reason: text,
      details: { alertLevel: level },
    });
    if (policy.urgency !== 'log') await this.notify(text, policy.urgency);
  }

  private async notify(message: string, urgency: 'page' | 'message'): Promise<void> {
    const failed = await this.gates.pager.tell({
      audience: RESPONDERS,
      urgency,
      severity: SEVERITY_POLICY[this.input.severity].pagerDutySeverity,
      dedupKey: this.gates.pager.dedupKey,
      message: `${this.tag} ${message} (workflow ${workflowInfo().workflowId})`,
    });
    for (const reason of failed)
      this.status.timeline.push({ at: new Date().toISOString(), event: `notification failed: ${reason}` });
  }

  /** Writes the outcome to the audit trail and returns the result, with whatever the procedure adds to it. */
  async finish<E extends object = object>(
    result: Omit<RemediationResult, 'issue' | 'actions' | 'findings'> & E,
  ): Promise<RemediationResult & E> {
    this.step(result.outcome);
    this.audit.record({
      step: this.issue,
      actor: 'workflow',
      action: 'finished',
      outcome: result.outcome,
      details: { before: result.before, after: result.after },
    });
    await this.gates.settled();
    await this.audit.flush();
    return { issue: this.issue, actions: this.actions, findings: this.findings, ...result };
  }
}

/** ScrollUniversity's remediations (seed 000): their one input schema, and the restart some of them use. */
export class Remediation extends RemediationRun<ParsedRemediationInput> {
  /** Validates the input (before anything is scheduled) and answers the status query from the start. */
  constructor(issue: string, raw: RemediationInput | undefined, workflowType: string) {
    super(issue, parseRemediationInput(raw, workflowType), 'ScrollUniversity');
  }

  /** `kubectl rollout restart deployment/<name> -n <namespace>` and its rollout status, as the operations child. */
  async restart(deployment: string, namespace: string, label: string): Promise<void> {
    const r = await executeChild(restartDeployment, {
      workflowId: `${workflowInfo().workflowId}/${label}`,
      args: [{ deployment, namespace, timeoutSeconds: this.input.rolloutTimeoutSeconds }],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
    });
    this.acted(`restarted ${namespace}/${deployment}`, { restartedAt: r.restartedAt, rollout: r.rollout });
  }
}

/** The ScrollUniversity namespace and objects, read once per run from the worker's configuration. */
export const scrollUniversityTargets = () => probes.scrollUniversityTargets();
