/**
 * The one human-approval gate every workflow uses. A gate names who may decide, how long each tier has, and
 * whom to ask next; when the last tier's deadline passes it takes the gate's default. Decisions arrive as the
 * signal `decision` or the update `decide`; both go through one check and one handler. The update's validator
 * refuses a bad decision to the caller's face; a bad signal changes nothing; both refusals are written to the
 * audit log.
 *
 * A decision is signed by the key the roster holds for `by` (src/contracts/decision-signature.ts): who decided
 * comes from that key, not from the text of the payload. Checked twice: against the roster the workflow holds
 * (the validator, which can read only workflow state), then against the worker's roster as it is when the
 * decision arrives (an activity in the handler), so removing someone, or their key, from the roster takes
 * effect in every running workflow at its next decision; a key replaced on the roster is taken once the held
 * roster is a minute old (ROTATED_KEYS_PATCH).
 *
 * Verifying a signature is the one costly check (milliseconds, in pure JavaScript), and the SDK gives a workflow task
 * 5 s. So everything cheap is checked first, and signals get at most VERIFICATIONS_PER_TASK verifications a workflow
 * task: the rest wait, in the order they came, and are verified as many a task in the tasks that follow
 * (VERIFICATION_BUDGET_PATCH). A valid decision sent among thousands of forged ones is taken, later.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  patched,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { isPublicKeyHex, proofFieldsProblem, proofProblem } from '../../contracts/decision-signature';
import { FailureType, failureText } from '../../contracts/failures';
import type { Decision, GateOutcome, GateSpec, GateStatus } from '../../contracts/gates';
import { describeAudience, isInAudience, mergeAudiences, type Audience, type Member } from '../../contracts/roster';
import { countEscalation, countGateOpened, recordGateWait } from '../metrics';
import { loadDirectory } from '../policies';
import type { AuditTrail } from './audit-trail';
import { decideUpdate, decisionSignal } from './messages';
import { Pager } from './pager';

interface OpenGate {
  spec: GateSpec;
  deciders: Audience;
  openedAt: string;
  deadline?: string;
  tierReached: number;
  nextReminder?: string;
  outcome?: GateOutcome;
}

const URL_PATTERN = /^https?:\/\/\S+$/;

/**
 * Decisions must be signed, and are checked again against the roster read when they arrive. Workflows whose
 * history took unsigned decisions replay them as they were taken.
 */
export const SIGNED_DECISIONS_PATCH = 'signed-decisions';

/**
 * A decision whose signature does not verify under the key this workflow holds for its `by` may be signed with a key
 * replaced since the workflow read the roster: such a decision goes on to the handler, which checks it against the
 * roster as it is now. At most once a minute of workflow time, so forged decisions cannot fill the history with
 * roster reads. Workflows started before refused such a decision at once.
 */
export const ROTATED_KEYS_PATCH = 'rotated-keys-rechecked';
const ROSTER_RECHECK_MS = 60_000;

/**
 * Signals carrying decisions whose signature is still to be verified wait once a workflow task has verified this
 * many (4-7 ms each on a loaded 2-core machine: README "A flood in one workflow task"); they are verified in the
 * tasks that follow.
 * Workflows started before verified every one in the task it came in, and replay the same way.
 */
export const VERIFICATION_BUDGET_PATCH = 'decision-verification-budget';
export const VERIFICATIONS_PER_TASK = 100;

/** What `refusal` returns when the decision needs a signature verified and the task has none left to give. */
const NO_BUDGET = Symbol('no verification left in this workflow task');
type Screened = string | undefined | typeof NO_BUDGET;

/** Verifications a workflow task may make; a task is told apart by the history length it started at. */
class VerificationBudget {
  private task = -1;
  private used = 0;
  constructor(private readonly perTask: number) {}

  take(): boolean {
    const { historyLength } = workflowInfo();
    if (historyLength !== this.task) {
      this.task = historyLength;
      this.used = 0;
    }
    if (this.used >= this.perTask) return false;
    this.used += 1;
    return true;
  }
}
const NONE_LEFT = { take: () => false };

/** Longest text a decision may carry in each field: a payload is anyone's, and it goes into history and the audit log. */
const MAX_ID = 100;
const MAX_TEXT = 2000;

/**
 * Any value from a payload as bounded text for the audit log; never throws, whatever was sent (a JSON object with
 * a `toString` key makes String() throw).
 */
function payloadText(value: unknown, max = MAX_ID): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export class Gatekeeper {
  private readonly open = new Map<string, OpenGate>();
  private roster: Member[] = [];
  /** Nonces of signed decisions taken or being checked, with their expiry (ms). */
  private readonly nonces = new Map<string, number>();
  /** How this workflow tells people; its escalations page each tier under a key of the tier's own. */
  readonly pager: Pager;
  /** Escalations still being told while their gate went on, and decisions verified late still being decided. */
  private readonly telling: Promise<void>[] = [];
  /** When (workflow time, ms) the roster this workflow holds was read, or a read of it began. */
  private rosterReadAt = Number.NEGATIVE_INFINITY;
  private readonly recheckRotatedKeys: boolean;
  /** Verifications left to the signals, and (apart: a validator does not run on replay) to the update validator. */
  private readonly signalBudget = new VerificationBudget(VERIFICATIONS_PER_TASK);
  private readonly validatorBudget = new VerificationBudget(VERIFICATIONS_PER_TASK);
  /** Decision signals waiting for a verification, oldest first from `waitingFrom`. */
  private waiting: Decision[] = [];
  private waitingFrom = 0;
  /** The loop verifying the waiting signals, task by task, while there are any. */
  private verifyingLater?: Promise<void>;

  constructor(
    private readonly audit: AuditTrail,
    /** PagerDuty dedup key of this workflow's alerts. */
    dedupKey: string,
  ) {
    this.pager = new Pager(dedupKey);
    this.recheckRotatedKeys = patched(ROTATED_KEYS_PATCH);
    // Not async: a decision refused (or put to wait) at once makes no promise of its own. The SDK records a stack
    // trace, source-mapped, for every promise a workflow makes; in a flood of signals that is most of their cost.
    setHandler(decisionSignal, (decision) => {
      if (!patched(SIGNED_DECISIONS_PATCH)) {
        const problem = this.problemWith(decision);
        if (problem) this.recordRefused(decision, 'decision-signal', problem);
        else this.accept(decision, 'signal');
        return;
      }
      const screened = this.screenSignal(decision);
      if (screened === undefined) return this.decideWithCurrentRoster(decision);
      if (screened === NO_BUDGET) this.verifyLater(decision);
      else this.recordRefused(decision, 'decision-signal', screened);
      return undefined;
    });
    setHandler(
      decideUpdate,
      async (decision) => {
        if (!patched(SIGNED_DECISIONS_PATCH)) return this.accept(decision, 'update');
        const problem = await this.checkWithCurrentRoster(decision);
        if (problem) {
          this.recordRefused(decision, 'decision-update', problem);
          throw ApplicationFailure.create({ type: FailureType.NotAuthorized, message: problem, nonRetryable: true });
        }
        return this.accept(decision, 'update');
      },
      {
        validator: (decision) => {
          const screened = this.refusal(decision, this.validatorBudget);
          const problem =
            screened === NO_BUDGET
              ? `signature: this workflow has more decisions to verify than it can at once; send it again in a few seconds`
              : screened;
          if (!problem) return;
          this.audit.recordRefusedUpdate(this.refusedEntry(decision, 'decision-update', problem));
          throw new Error(problem);
        },
      },
    );
  }

  /** A refused decision as the audit log records it; never throws, whatever was sent. */
  private refusedEntry(decision: unknown, action: string, reason: string) {
    const d = (typeof decision === 'object' && decision !== null ? decision : {}) as Partial<Decision>;
    return {
      step: `gate:${payloadText(d.gate)}`,
      actor: payloadText(d.by) || 'unknown',
      action,
      outcome: 'rejected',
      reason,
      details: { decision: payloadText(d.decision) },
    };
  }

  private recordRefused(decision: unknown, action: string, reason: string): void {
    this.audit.record(this.refusedEntry(decision, action, reason));
  }

  /**
   * Everything that can be checked from workflow state, cheapest first: the decision itself, its proof's form and
   * expiry, that its nonce is new, and last (the one costly check) its signature against the key the roster this
   * workflow holds has for its signer, if `budget` has a verification left (NO_BUDGET if not). A signer this
   * workflow's roster does not know yet (added, or put back, since it was read) is checked against the current
   * roster by the handler.
   */
  private refusal(d: Decision, budget: { take(): boolean }): Screened {
    const problem = this.problemWith(d, { signerMayBeNew: true }) ?? proofFieldsProblem(d, Date.now());
    if (problem) return problem;
    if (this.nonces.has(d.nonce!)) return 'nonce: this decision was already sent; sign it again to send another';
    if (!this.roster.some((m) => m.id === d.by)) return undefined;
    const key = this.signerKey(d.by);
    if (isPublicKeyHex(key) && !budget.take()) return NO_BUDGET;
    const proof = proofProblem(workflowInfo().workflowId, d, key, Date.now());
    return proof && !this.mayBeReplacedKey(proof) ? proof : undefined;
  }

  /**
   * A decision signal's refusal, or NO_BUDGET when it must wait for a later task to be verified: the task's
   * verifications are spent, or older signals wait already (they go first). Workflows started before the budget
   * verified every signal at once.
   */
  private screenSignal(d: Decision): Screened {
    const first = this.refusal(d, this.waitingFrom < this.waiting.length ? NONE_LEFT : this.signalBudget);
    if (first !== NO_BUDGET || patched(VERIFICATION_BUDGET_PATCH)) return first;
    return this.refusal(d, { take: () => true });
  }

  /**
   * Leaves the decision for a later workflow task to verify, behind those waiting already; a decision that passes
   * goes on to the roster check as a signal checked when it came does. One loop verifies the waiting signals: it
   * sleeps a millisecond, which ends the task (so the next has its own 5 s), then verifies as many as the budget
   * allows.
   */
  private verifyLater(decision: Decision): void {
    this.waiting.push(decision);
    if (!this.verifyingLater) {
      const waitingSince = Date.now();
      this.audit.record({
        step: 'gates',
        actor: 'workflow',
        action: 'verification-deferred',
        outcome: 'deferred',
        reason: `more than ${VERIFICATIONS_PER_TASK} signed decisions to verify in one workflow task: the rest are verified ${VERIFICATIONS_PER_TASK} a task, in the order they came`,
      });
      this.verifyingLater = CancellationScope.nonCancellable(async () => {
        let tasks = 0;
        let verified = 0;
        while (this.waitingFrom < this.waiting.length) {
          await sleep(1);
          tasks += 1;
          verified += this.verifyWaiting();
        }
        this.waiting = [];
        this.waitingFrom = 0;
        this.verifyingLater = undefined;
        this.audit.record({
          step: 'gates',
          actor: 'workflow',
          action: 'verification-caught-up',
          outcome: 'done',
          durationMs: Date.now() - waitingSince,
          details: { decisions: verified, tasks },
        });
      });
    }
  }

  /** Verifies the waiting signals, oldest first, while this task's budget lasts; returns how many it settled. */
  private verifyWaiting(): number {
    let settled = 0;
    while (this.waitingFrom < this.waiting.length) {
      const decision = this.waiting[this.waitingFrom];
      const screened = this.refusal(decision, this.signalBudget);
      if (screened === NO_BUDGET) break;
      this.waitingFrom += 1;
      settled += 1;
      if (screened) this.recordRefused(decision, 'decision-signal', screened);
      // The roster check starts now, as for a signal checked when it came: its nonce is kept before the next one's turn.
      else this.telling.push(this.decideWithCurrentRoster(decision));
    }
    // Those settled are let go: a flood's payloads are not kept until the last is verified.
    if (this.waitingFrom >= 1024) {
      this.waiting = this.waiting.slice(this.waitingFrom);
      this.waitingFrom = 0;
    }
    return settled;
  }

  /** A decision signal that passed every check from workflow state: takes it if it passes the current roster's. */
  private async decideWithCurrentRoster(decision: Decision): Promise<void> {
    const problem = await this.checkWithCurrentRoster(decision);
    if (problem) this.recordRefused(decision, 'decision-signal', problem);
    else this.accept(decision, 'signal');
  }

  /**
   * Reads the worker's roster as it is now and checks the decision against it, so a person (or key) removed since
   * the workflow last read it is refused. The nonce is kept first, before the read: a copy of the same decision
   * arriving meanwhile is refused by the validator. The roster read becomes the workflow's, for later checks.
   */
  private async checkWithCurrentRoster(d: Decision): Promise<string | undefined> {
    this.keepNonce(d);
    this.rosterReadAt = Date.now();
    try {
      this.roster = (await loadDirectory()).members;
    } catch (err) {
      return `the roster could not be read to check the decision: ${failureText(err)}`;
    }
    return this.problemWith(d) ?? proofProblem(workflowInfo().workflowId, d, this.signerKey(d.by), Date.now());
  }

  /** A signature the held key does not verify, and the held roster is old enough to be read again for it. */
  private mayBeReplacedKey(problem: string): boolean {
    return (
      this.recheckRotatedKeys &&
      problem.startsWith('signature: does not verify') &&
      Date.now() - this.rosterReadAt >= ROSTER_RECHECK_MS
    );
  }

  private signerKey(by: string): string | undefined {
    return this.roster.find((m) => m.id === by)?.publicKey;
  }

  /** Remembers a nonce until its decision expires; those past their expiry are dropped (their decision would be refused as expired). */
  private keepNonce(d: Decision): void {
    const now = Date.now();
    for (const [nonce, expires] of this.nonces) if (expires <= now) this.nonces.delete(nonce);
    this.nonces.set(d.nonce!, Date.parse(d.expiresAt!));
  }

  /**
   * Waits for every escalation still being told and every decision signal still to be verified; call before the
   * workflow returns, so each failure and each refusal is audited.
   */
  async settled(): Promise<void> {
    // Decisions waiting for verification first: one that passes is decided among `telling`.
    while (this.verifyingLater) await this.verifyingLater;
    await Promise.all(this.telling);
  }

  /** Set once the directory is loaded; until then no decider is known, so every decision is refused. */
  setRoster(roster: Member[]): void {
    this.roster = roster;
    this.rosterReadAt = Date.now();
  }

  status(): GateStatus[] {
    return [...this.open.values()].map((g) => ({
      gate: g.spec.name,
      prompt: g.spec.prompt,
      deciders: g.deciders,
      openedAt: g.openedAt,
      deadline: g.deadline,
      nextReminder: g.nextReminder,
      tierReached: g.tierReached,
      tiers: g.spec.escalation?.length ?? 0,
      choices: g.spec.choices,
      requireLink: g.spec.requireLink,
    }));
  }

  /**
   * Why this decision cannot be taken, or undefined when it can. With `signerMayBeNew`, a `by` this workflow's
   * roster does not have is left for the check against the current roster.
   */
  private problemWith(d: Decision, options: { signerMayBeNew?: boolean } = {}): string | undefined {
    if (typeof d !== 'object' || d === null || Array.isArray(d))
      return 'a decision must be an object {gate, decision, by, reason}';
    if (typeof d.gate !== 'string' || !d.gate || d.gate.length > MAX_ID)
      return `gate: required, at most ${MAX_ID} characters`;
    if (d.decision !== 'approve' && d.decision !== 'reject') return 'decision: must be "approve" or "reject"';
    if (typeof d.by !== 'string' || !d.by || d.by.length > MAX_ID) return 'by: required (your roster id)';
    if (typeof d.reason !== 'string' || !d.reason.trim() || d.reason.length > MAX_TEXT) {
      return `reason: required, at most ${MAX_TEXT} characters`;
    }
    if (d.link !== undefined && (typeof d.link !== 'string' || d.link.length > MAX_TEXT))
      return `link: must be a URL of at most ${MAX_TEXT} characters`;
    if (d.choice !== undefined && (typeof d.choice !== 'string' || d.choice.length > MAX_ID))
      return "choice: must be one of the gate's choices";
    const gate = this.open.get(d.gate);
    if (!gate || gate.outcome) {
      const open = [...this.open.keys()];
      return `gate "${d.gate}" is not open (open: ${open.length ? open.join(', ') : 'none'})`;
    }
    const known = this.roster.some((m) => m.id === d.by);
    if (!known && !options.signerMayBeNew) return `by: "${d.by}" is not on the roster`;
    if (known && !isInAudience(this.roster, d.by, gate.deciders)) {
      return `by: "${d.by}" may not decide at gate "${d.gate}" (allowed: ${describeAudience(gate.deciders)})`;
    }
    if (
      d.decision === 'approve' &&
      gate.spec.requireLink &&
      !(typeof d.link === 'string' && URL_PATTERN.test(d.link))
    ) {
      return `link: gate "${d.gate}" needs an http(s) link to approve`;
    }
    if (d.decision === 'approve' && gate.spec.choices && !gate.spec.choices.includes(String(d.choice))) {
      return `choice: must be one of ${gate.spec.choices.join(', ')}`;
    }
    return undefined;
  }

  private accept(d: Decision, via: 'signal' | 'update'): GateOutcome {
    const gate = this.open.get(d.gate)!;
    const outcome: GateOutcome = {
      gate: d.gate,
      decision: d.decision,
      by: d.by,
      reason: d.reason,
      link: d.link,
      choice: d.choice,
      decidedAt: new Date().toISOString(),
      tierReached: gate.tierReached,
      byDefault: false,
    };
    gate.outcome = outcome;
    recordGateWait(d.gate, d.decision, (Date.now() - Date.parse(gate.openedAt)) / 1000);
    this.audit.record({
      step: `gate:${d.gate}`,
      actor: d.by,
      action: `decision-${via}`,
      outcome: d.decision,
      reason: d.reason,
      durationMs: Date.now() - Date.parse(gate.openedAt),
      details: { link: d.link, choice: d.choice, tierReached: gate.tierReached },
    });
    return outcome;
  }

  /** Opens a gate and waits for its decision, escalating tier by tier as deadlines pass. */
  async wait(spec: GateSpec): Promise<GateOutcome> {
    if (this.open.has(spec.name)) throw new Error(`gate ${spec.name} is already open`);
    const gate: OpenGate = { spec, deciders: spec.deciders, openedAt: new Date().toISOString(), tierReached: 0 };
    countGateOpened(spec.name);
    this.open.set(spec.name, gate);
    this.audit.record({
      step: `gate:${spec.name}`,
      actor: 'workflow',
      action: 'gate-opened',
      outcome: 'open',
      details: { deciders: spec.deciders, prompt: spec.prompt },
    });
    try {
      const tiers = spec.escalation ?? [];
      for (;;) {
        const timeout =
          gate.tierReached === 0 && spec.firstTierTimeoutMs !== undefined
            ? spec.firstTierTimeoutMs
            : spec.tierTimeoutMs;
        if (timeout === undefined) return await this.untilDecided(gate);
        gate.deadline = new Date(Date.now() + timeout).toISOString();
        if (await condition(() => gate.outcome !== undefined, timeout)) return gate.outcome!;
        if (gate.tierReached < tiers.length) {
          const tier = tiers[gate.tierReached];
          gate.tierReached += 1;
          gate.deciders = mergeAudiences(gate.deciders, tier);
          const telling = this.escalate(
            spec,
            tier,
            gate.tierReached,
            spec.pageKey === undefined ? undefined : `${spec.pageKey}/tier-${gate.tierReached}`,
          );
          // The next tier's clock starts now, not once a slow channel has given up; gates opened before the
          // channels were apart waited, and replay the same way.
          if (this.pager.channelsApart) this.telling.push(telling);
          else await telling;
          continue;
        }
        const fallback = spec.onExhausted ?? 'keep-waiting';
        if (fallback === 'keep-waiting') {
          gate.deadline = undefined;
          return await this.untilDecided(gate);
        }
        gate.outcome = {
          gate: spec.name,
          decision: fallback === 'proceed' ? 'approve' : fallback === 'abort' ? 'reject' : 'manual',
          by: 'workflow',
          reason: `no decision after ${gate.tierReached} escalation tier(s); gate default "${fallback}"`,
          decidedAt: new Date().toISOString(),
          tierReached: gate.tierReached,
          byDefault: true,
        };
        recordGateWait(spec.name, gate.outcome.decision, (Date.now() - Date.parse(gate.openedAt)) / 1000);
        this.audit.record({
          step: `gate:${spec.name}`,
          actor: 'workflow',
          action: 'default-taken',
          outcome: gate.outcome.decision,
          reason: gate.outcome.reason,
        });
        return gate.outcome;
      }
    } finally {
      this.open.delete(spec.name);
    }
  }

  /** Waits for the gate's decision with no deadline, reminding its deciders on the gate's cadence if it has one. */
  private async untilDecided(gate: OpenGate): Promise<GateOutcome> {
    const every = gate.spec.remindEveryMs;
    if (every === undefined) {
      await condition(() => gate.outcome !== undefined);
      return gate.outcome!;
    }
    for (let reminder = 1; ; reminder++) {
      gate.nextReminder = new Date(Date.now() + every).toISOString();
      if (await condition(() => gate.outcome !== undefined, every)) {
        gate.nextReminder = undefined;
        return gate.outcome!;
      }
      this.telling.push(this.remind(gate, reminder));
    }
  }

  private async remind(gate: OpenGate, reminder: number): Promise<void> {
    const info = workflowInfo();
    const waited = Math.round((Date.now() - Date.parse(gate.openedAt)) / 60_000);
    this.audit.record({
      step: `gate:${gate.spec.name}`,
      actor: 'workflow',
      action: 'reminded',
      outcome: `reminder ${reminder}`,
      reason: `no decision after ${waited} minute(s); reminding ${describeAudience(gate.deciders)}`,
    });
    const failed = await this.pager.tell({
      audience: gate.deciders,
      urgency: 'message',
      dedupKey: this.pager.dedupKey,
      message: `[${info.workflowType} ${info.workflowId}] reminder ${reminder}: still waiting ${waited} minute(s) for a decision: ${gate.spec.prompt}`,
    });
    for (const reason of failed) {
      this.audit.record({
        step: `gate:${gate.spec.name}`,
        actor: 'workflow',
        action: 'notify-failed',
        outcome: 'failed',
        reason,
      });
    }
  }

  /**
   * Tells a tier and records it; used by gates and by stage deadlines alike. `dedupKey` pages under a key other
   * than the tier's, for a tier told again: PagerDuty would fold a second trigger with the same key into the first.
   */
  async escalate(
    spec: Pick<GateSpec, 'name' | 'prompt'>,
    tier: Audience,
    tierNumber: number,
    dedupKey = this.pager.tierKey(tierNumber),
  ): Promise<void> {
    const info = workflowInfo();
    countEscalation(tierNumber);
    this.audit.record({
      step: `gate:${spec.name}`,
      actor: 'workflow',
      action: 'escalated',
      outcome: `tier ${tierNumber}`,
      reason: `deadline passed; asking ${describeAudience(tier)}`,
    });
    const failed = await this.pager.tell({
      audience: tier,
      urgency: 'page',
      dedupKey,
      message: `[${info.workflowType} ${info.workflowId}] escalated to you (tier ${tierNumber}): ${spec.prompt}`,
    });
    // A failed notification must not stop the escalation chain; it is recorded for the post-mortem.
    for (const reason of failed) {
      this.audit.record({
        step: `gate:${spec.name}`,
        actor: 'workflow',
        action: 'notify-failed',
        outcome: 'failed',
        reason,
      });
    }
  }
}
