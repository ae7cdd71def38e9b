/**
 * One crisis's running record and the two helpers every stage is built from: `step` (one action, its state, its
 * audit record, and an escalation when it fails) and `stage` (a group of steps against the stage's deadline).
 * Escalations follow seed 002's "AI System Escalation Chain".
 */
import { condition, isCancellation } from '@temporalio/workflow';
import type { CrisisType } from '../../contracts/crisis';
import { WEDSYNC_ESCALATION_CHAIN } from '../../contracts/roster';
import type { AuditTrail } from '../gates/audit-trail';
import { addToTimeline } from '../../contracts/timeline';
import type { Gatekeeper } from '../gates/gatekeeper';
import type { CrisisAlert, CrisisStatus, StageName, StepState } from './messages';

const MINUTE = 60_000;
/** Immediate Actions (0-5 minutes), Follow-up Actions (5-30 minutes), both counted from the crisis's start. */
export const STAGE_DUE_MS: Record<StageName, number> = { stage1: 5 * MINUTE, stage2: 30 * MINUTE };

/** What a run takes over: one failure's crises across weddings or at one wedding, or (older runs) one crisis. */
export interface CrisisScope {
  failure?: string;
  weddingId?: string;
  crisisType?: CrisisType;
  description?: string;
  reportedBy?: string;
}

const ALERT_TEXT = 200;
const alertText = (value: unknown) =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, ALERT_TEXT) : undefined;

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export class CrisisRun {
  readonly state: Omit<CrisisStatus, 'gates' | 'elapsedMs'>;

  /** How often each tier has been told, so a tier told again is paged under a key of its own. */
  private readonly told = new Map<number, number>();
  /** Page a tier told again under a key of its own (platform-scope runs; older runs used the tier's key). */
  keyPerRepeat = false;

  constructor(
    readonly input: CrisisScope,
    readonly crisisKey: string,
    readonly audit: AuditTrail,
    readonly gates: Gatekeeper,
    readonly startedMs: number,
    steps: string[],
  ) {
    this.state = {
      crisisKey,
      failure: input.failure,
      weddingId: input.weddingId,
      stage: 'stage1',
      startedAt: iso(startedMs),
      stages: {
        stage1: { dueBy: iso(startedMs + STAGE_DUE_MS.stage1), missedDeadline: false },
        stage2: { dueBy: iso(startedMs + STAGE_DUE_MS.stage2), missedDeadline: false },
      },
      steps: Object.fromEntries(steps.map((s) => [s, 'pending' as StepState])),
      couples: { found: 0, notified: 0, alreadyTold: 0, failed: 0, remaining: 0 },
      alerts: 0,
      escalationTier: 0,
      timeline: [],
      earlierEvents: 0,
    };
  }

  status(): CrisisStatus {
    return { ...this.state, elapsedMs: Date.now() - this.startedMs, gates: this.gates.status() };
  }

  /** Recomputes what is left to tell from the counts. */
  countCouples(): void {
    const c = this.state.couples;
    c.remaining = Math.max(0, c.found - c.notified - c.alreadyTold - c.failed);
  }

  event(text: string): void {
    addToTimeline(this.state, iso(), text);
  }

  /** The last active crisis id the notice passes reached: a later sweep's new crises come after it. */
  toldThrough = 0;
  /** Firing alerts received so far; each may call for another sweep. */
  firingAlerts = 0;
  /** Failed couple notices are sent again while the crisis is open (takeover.ts, NOTICES_UNTIL_TOLD_PATCH). */
  noticesUntilTold = false;
  /** Those later passes, while they run. */
  laterPasses?: Promise<void>;

  /** An alert about this failure joined the run (signal-with-start); anything else in the payload is ignored. */
  alertReceived(alert: CrisisAlert): void {
    const a = (typeof alert === 'object' && alert !== null ? alert : {}) as Record<string, unknown>;
    const fingerprint = alertText(a.fingerprint) ?? 'unknown';
    const status = a.status === 'resolved' ? 'resolved' : 'firing';
    this.state.alerts += 1;
    if (status === 'firing') this.firingAlerts += 1;
    this.event(`alert ${fingerprint} ${status}${alertText(a.summary) ? `: ${alertText(a.summary)}` : ''}`);
    this.audit.record({
      step: 'crisis',
      actor: 'alert',
      action: 'alert-received',
      outcome: status,
      reason: alertText(a.summary),
      details: { fingerprint, startsAt: alertText(a.startsAt) },
    });
  }

  /** Tells a tier of the escalation chain (0 = AI Operations, the first told) why. */
  async tell(tierIndex: number, why: string): Promise<void> {
    const tier = WEDSYNC_ESCALATION_CHAIN[Math.min(tierIndex, WEDSYNC_ESCALATION_CHAIN.length - 1)];
    const times = (this.told.get(tierIndex) ?? 0) + 1;
    this.told.set(tierIndex, times);
    this.event(
      `${tierIndex === 0 ? 'alerted' : 'escalated to'} tier ${tierIndex + 1} (${tier.roles?.join(', ')})${times > 1 ? ` again (${times})` : ''}: ${why}`,
    );
    const tierNumber = tierIndex + 1;
    const key = this.gates.pager.tierKey(tierNumber);
    await this.gates.escalate(
      { name: 'crisis', prompt: `Wedding-day crisis ${this.crisisKey}: ${why}` },
      tier,
      tierNumber,
      times > 1 && this.keyPerRepeat ? `${key}/${times}` : key,
    );
  }

  /** Tells the next tier of the chain; the last tier is told again when the chain is used up. */
  async escalate(why: string): Promise<void> {
    this.state.escalationTier = Math.min(this.state.escalationTier + 1, WEDSYNC_ESCALATION_CHAIN.length - 1);
    await this.tell(this.state.escalationTier, why);
  }

  /** Runs one step, recording its state and duration; a failure escalates and lets the other steps go on. */
  async step(name: string, work: () => Promise<void>, began = Date.now()): Promise<void> {
    const { state, audit } = this;
    state.steps[name] = 'running';
    try {
      await work();
      state.steps[name] = 'done';
      this.event(`${name} done`);
      audit.record({ step: name, actor: 'workflow', action: 'step', outcome: 'done', durationMs: Date.now() - began });
    } catch (err) {
      if (isCancellation(err)) {
        state.steps[name] = 'cancelled';
        throw err;
      }
      state.steps[name] = 'failed';
      const message = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      this.event(`${name} failed: ${message}`);
      audit.record({
        step: name,
        actor: 'workflow',
        action: 'step',
        outcome: 'failed',
        reason: message,
        durationMs: Date.now() - began,
      });
      await this.escalate(`${name} failed: ${message}`);
    }
  }

  /**
   * Waits for a stage's work; if its deadline passes first, escalates and keeps waiting, escalating again every
   * `escalateAgainMs` while the stage stays late (runs from before platform scope escalated once).
   */
  async stage(name: StageName, work: Promise<unknown>, escalateAgainMs?: number): Promise<void> {
    const { state, audit } = this;
    let finished = false;
    work.then(
      () => (finished = true),
      () => (finished = true),
    );
    const remaining = this.startedMs + STAGE_DUE_MS[name] - Date.now();
    if (remaining <= 0 || !(await condition(() => finished, remaining))) {
      state.stages[name].missedDeadline = true;
      audit.record({
        step: name,
        actor: 'workflow',
        action: 'deadline',
        outcome: 'missed',
        reason: `due by ${state.stages[name].dueBy}`,
      });
      await this.escalate(`${name} missed its deadline (${state.stages[name].dueBy})`);
      if (escalateAgainMs !== undefined) {
        for (let late = 2; !(await condition(() => finished, escalateAgainMs)); late++) {
          const minutes = Math.round((Date.now() - this.startedMs - STAGE_DUE_MS[name]) / MINUTE);
          await this.escalate(`${name} still not complete, ${minutes} minute(s) past its deadline`);
        }
      }
    }
    await work;
    state.stages[name].completedAt = iso();
    this.event(`${name} complete${state.stages[name].missedDeadline ? ' (late)' : ''}`);
    audit.record({
      step: name,
      actor: 'workflow',
      action: 'stage',
      outcome: state.stages[name].missedDeadline ? 'complete-late' : 'complete',
      durationMs: Date.now() - this.startedMs,
    });
  }
}
