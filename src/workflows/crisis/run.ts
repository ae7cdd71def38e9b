/**
 * One crisis's running record and the two helpers every stage is built from: `step` (one action, its state, its
 * audit record, and an escalation when it fails) and `stage` (a group of steps against the stage's deadline).
 * Escalations follow seed 002's "AI System Escalation Chain".
 */
import { condition, isCancellation } from '@temporalio/workflow';
import { WEDSYNC_ESCALATION_CHAIN } from '../../contracts/roster';
import type { AuditTrail } from '../gates/audit-trail';
import type { Gatekeeper } from '../gates/gatekeeper';
import type { CrisisStatus, StageName, StepState, WeddingDayCrisisInput } from './messages';

const MINUTE = 60_000;
/** Immediate Actions (0-5 minutes), Follow-up Actions (5-30 minutes), both counted from the crisis's start. */
export const STAGE_DUE_MS: Record<StageName, number> = { stage1: 5 * MINUTE, stage2: 30 * MINUTE };

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export class CrisisRun {
  readonly state: Omit<CrisisStatus, 'gates' | 'elapsedMs'>;

  constructor(
    readonly input: WeddingDayCrisisInput,
    readonly crisisKey: string,
    readonly audit: AuditTrail,
    readonly gates: Gatekeeper,
    readonly startedMs: number,
    steps: string[],
  ) {
    this.state = {
      crisisKey,
      weddingId: input.weddingId,
      crisisType: input.crisisType,
      stage: 'stage1',
      startedAt: iso(startedMs),
      stages: {
        stage1: { dueBy: iso(startedMs + STAGE_DUE_MS.stage1), missedDeadline: false },
        stage2: { dueBy: iso(startedMs + STAGE_DUE_MS.stage2), missedDeadline: false },
      },
      steps: Object.fromEntries(steps.map((s) => [s, 'pending' as StepState])),
      couplesAffected: [],
      couplesNotified: [],
      escalationTier: 0,
      timeline: [],
    };
  }

  status(): CrisisStatus {
    return { ...this.state, elapsedMs: Date.now() - this.startedMs, gates: this.gates.status() };
  }

  event(text: string): void {
    this.state.timeline.push({ at: iso(), event: text });
  }

  /** Tells a tier of the escalation chain (0 = AI Operations, the first told) why. */
  async tell(tierIndex: number, why: string): Promise<void> {
    const tier = WEDSYNC_ESCALATION_CHAIN[Math.min(tierIndex, WEDSYNC_ESCALATION_CHAIN.length - 1)];
    this.event(
      `${tierIndex === 0 ? 'alerted' : 'escalated to'} tier ${tierIndex + 1} (${tier.roles?.join(', ')}): ${why}`,
    );
    await this.gates.escalate(
      { name: 'crisis', prompt: `Wedding-day crisis ${this.crisisKey}: ${why}` },
      tier,
      tierIndex + 1,
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

  /** Waits for a stage's work; if its deadline passes first, escalates once and keeps waiting. */
  async stage(name: StageName, work: Promise<unknown>): Promise<void> {
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
