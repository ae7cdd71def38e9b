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
 * (VERIFICATION_BUDGET_PATCH). A valid decision sent among thousands of forged ones is taken, later. Before any check,
 * the handler takes at most SIGNALS_PER_TASK signals a task (`onSignal`, which the workflows use for every signal from
 * outside): the SDK's own cost per signal handed to a handler is what a flood of ten thousand would spend.
 *
 * A decision from a signer the held roster does not know (added since it was read, or made up) cannot be checked
 * from workflow state, and a roster read is an activity: one per such decision would let anyone who can sign with a
 * key of their own fill the history with reads. So they share reads (UNKNOWN_SIGNER_READS_PATCH): at most one a
 * minute of workflow time, made a minute after the held roster was read (or joined, if a read is under way); each
 * waiting decision, signal or update, is then checked against the roster it returned. Decisions from signers the
 * held roster knows still read it each, so a removal takes effect at once.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  patched,
  setHandler,
  sleep,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import { isPublicKeyHex, proofFieldsProblem, proofProblem } from '../../contracts/decision-signature';
import { FailureType, failureText } from '../../contracts/failures';
import type { Decision, GateOutcome, GateSpec, GateStatus } from '../../contracts/gates';
import { describeAudience, isInAudience, mergeAudiences, type Audience, type Member } from '../../contracts/roster';
import { setSignalHandlerPerTask, SIGNALS_PER_TASK, type SignalIntake } from '../common/signal-intake';
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
 * Decisions from signers the roster this workflow holds does not know wait for one shared roster read, made at most
 * once a minute (ROSTER_RECHECK_MS) of workflow time, instead of each reading it: a flood of well-formed decisions
 * signed by made-up people costs one `loadDirectory` a minute. At most MAX_AWAITING_ROSTER wait; beyond, a decision
 * is refused at once, to be sent again. Workflows started before read the roster for each such decision.
 */
export const UNKNOWN_SIGNER_READS_PATCH = 'unknown-signer-roster-reads';
export const MAX_AWAITING_ROSTER = 2_000;

/** A decision from a signer the held roster does not know, waiting for the next shared roster read. */
type AwaitingRoster =
  | { decision: Decision; via: 'signal' }
  | {
      decision: Decision;
      via: 'update';
      taken: (outcome: GateOutcome) => void;
      refused: (failure: ApplicationFailure) => void;
    };

/**
 * Signals carrying decisions whose signature is still to be verified wait once a workflow task has verified this
 * many (4-7 ms each on a loaded 2-core machine: README "A flood in one workflow task"); they are verified in the
 * tasks that follow.
 * Workflows started before verified every one in the task it came in, and replay the same way.
 */
export const VERIFICATION_BUDGET_PATCH = 'decision-verification-budget';

/**
 * Marks runs whose gatekeeper asks SIGNED_DECISIONS_PATCH and VERIFICATION_BUDGET_PATCH once, when it is made, in
 * the task that made it. Runs from before asked in the handler of the first decision that needed them, so their
 * markers sit in whatever task that signal or update came in, and their replay depends on the SDK seeing the
 * marker in that task's lookahead, beside the search-attribute upsert it writes with it. Asked where the run began,
 * the answer is known before any message arrives; runs from before still ask in the handler, and replay as they ran.
 */
export const GATE_PATCHES_AT_START_PATCH = 'gate-patches-at-start';
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
  private readonly shareUnknownSignerReads: boolean;
  /** The two patches' answers when asked at the start (GATE_PATCHES_AT_START_PATCH); undefined: ask when needed. */
  private readonly signedDecisions?: boolean;
  private readonly verificationBudget?: boolean;
  /** A roster read under way (with its failure, if it fails), while reads are shared. */
  private reading?: Promise<string | undefined>;
  /** Decisions from signers the held roster does not know, in the order they came, waiting for the shared read. */
  private awaitingRoster: AwaitingRoster[] = [];
  /** The loop serving them, one roster read at a time, while any wait. */
  private servingUnknownSigners?: Promise<void>;
  /** The workflow's signal handlers, each taking at most SIGNALS_PER_TASK signals a workflow task. */
  private readonly intakes: SignalIntake[] = [];

  constructor(
    private readonly audit: AuditTrail,
    /** PagerDuty dedup key of this workflow's alerts. */
    dedupKey: string,
  ) {
    this.pager = new Pager(dedupKey);
    this.recheckRotatedKeys = patched(ROTATED_KEYS_PATCH);
    this.shareUnknownSignerReads = patched(UNKNOWN_SIGNER_READS_PATCH);
    if (patched(GATE_PATCHES_AT_START_PATCH)) {
      this.signedDecisions = patched(SIGNED_DECISIONS_PATCH);
      this.verificationBudget = patched(VERIFICATION_BUDGET_PATCH);
    }
    // Not async: a decision refused (or put to wait) at once makes no promise of its own. The SDK records a stack
    // trace, source-mapped, for every promise a workflow makes; in a flood of signals that is most of their cost.
    this.onSignal(decisionSignal, (decision) => {
      if (!this.signed()) {
        const problem = this.problemWith(decision);
        if (problem) this.recordRefused(decision, 'decision-signal', problem);
        else this.accept(decision, 'signal');
        return;
      }
      const screened = this.screenSignal(decision);
      if (screened === undefined) return this.decideSignal(decision);
      if (screened === NO_BUDGET) this.verifyLater(decision);
      else this.recordRefused(decision, 'decision-signal', screened);
      return undefined;
    });
    setHandler(
      decideUpdate,
      async (decision) => {
        if (!this.signed()) return this.accept(decision, 'update');
        if (this.waitsForSharedRead(decision)) {
          // Answered when the shared read has been made: its caller waits up to a minute.
          return new Promise<GateOutcome>((taken, refused) =>
            this.awaitRoster({ decision, via: 'update', taken, refused }),
          );
        }
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

  /**
   * Sets the handler of a signal from outside, taking at most SIGNALS_PER_TASK of them a workflow task (the rest wait,
   * in order, for the tasks after); each flood is written to the audit log, and `settled` waits until every signal
   * kept is handled. Call where the workflow starts.
   */
  onSignal<Args extends unknown[]>(
    signal: SignalDefinition<Args>,
    handler: (...args: Args) => void | Promise<void>,
  ): void {
    this.intakes.push(
      setSignalHandlerPerTask(signal, handler, {
        deferred: () =>
          this.audit.record({
            step: 'signals',
            actor: 'workflow',
            action: 'signals-deferred',
            outcome: 'deferred',
            reason: `more than ${SIGNALS_PER_TASK} "${signal.name}" signals in one workflow task: the rest are handled ${SIGNALS_PER_TASK} a task, in the order they came`,
          }),
        caughtUp: ({ signals, tasks, durationMs }) =>
          this.audit.record({
            step: 'signals',
            actor: 'workflow',
            action: 'signals-caught-up',
            outcome: 'done',
            durationMs,
            details: { signal: signal.name, signals, tasks },
          }),
      }),
    );
  }

  private signed(): boolean {
    return this.signedDecisions ?? patched(SIGNED_DECISIONS_PATCH);
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
    if (!this.roster.some((m) => m.id === d.by)) return this.awaitingRosterFull(d);
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
    if (first !== NO_BUDGET || (this.verificationBudget ?? patched(VERIFICATION_BUDGET_PATCH))) return first;
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
      else {
        const deciding = this.decideSignal(decision);
        if (deciding) this.telling.push(deciding);
      }
    }
    // Those settled are let go: a flood's payloads are not kept until the last is verified.
    if (this.waitingFrom >= 1024) {
      this.waiting = this.waiting.slice(this.waitingFrom);
      this.waitingFrom = 0;
    }
    return settled;
  }

  /**
   * A decision signal that passed every check from workflow state: from a signer the held roster does not know, it
   * waits for the shared roster read (no promise of its own); otherwise it is checked against the roster read now.
   */
  private decideSignal(decision: Decision): Promise<void> | undefined {
    if (!this.waitsForSharedRead(decision)) return this.decideWithCurrentRoster(decision);
    this.awaitRoster({ decision, via: 'signal' });
    return undefined;
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
      this.roster = (await this.readRoster()).members;
    } catch (err) {
      return `the roster could not be read to check the decision: ${failureText(err)}`;
    }
    return this.problemWith(d) ?? proofProblem(workflowInfo().workflowId, d, this.signerKey(d.by), Date.now());
  }

  /**
   * Schedules a roster read; while reads are shared, remembers it as under way, so that decisions from unknown
   * signers can be served by it rather than by a read of their own. The caller awaits the activity's own promise.
   */
  private readRoster(): ReturnType<typeof loadDirectory> {
    const read = loadDirectory();
    if (this.shareUnknownSignerReads) {
      const reading: Promise<string | undefined> = read.then(
        (directory) => {
          this.roster = directory.members;
          if (this.reading === reading) this.reading = undefined;
          return undefined;
        },
        (err: unknown) => {
          if (this.reading === reading) this.reading = undefined;
          return failureText(err);
        },
      );
      this.reading = reading;
    }
    return read;
  }

  /** Whether this decision, which passed every check from workflow state, waits for the shared roster read. */
  private waitsForSharedRead(d: Decision): boolean {
    return this.shareUnknownSignerReads && !this.roster.some((m) => m.id === d.by);
  }

  /** The refusal of a decision from a signer the held roster does not know when too many wait already. */
  private awaitingRosterFull(d: Decision): string | undefined {
    if (!this.shareUnknownSignerReads || this.awaitingRoster.length < MAX_AWAITING_ROSTER) return undefined;
    return `by: "${d.by}" is not on the roster this workflow holds, and ${MAX_AWAITING_ROSTER} decisions already wait for its next read; send it again in a minute`;
  }

  /**
   * Puts a decision from a signer the held roster does not know to wait for the shared roster read. Its nonce is
   * kept now, as for a decision read for at once: a copy sent while it waits is refused as a repeat. Refused at
   * once (nonce not kept, so it may be sent again) when MAX_AWAITING_ROSTER wait already.
   */
  private awaitRoster(waiting: AwaitingRoster): void {
    const full = this.awaitingRosterFull(waiting.decision);
    if (full) return this.settleAwaiting(waiting, full);
    this.keepNonce(waiting.decision);
    this.awaitingRoster.push(waiting);
    this.servingUnknownSigners ??= CancellationScope.nonCancellable(() => this.serveUnknownSigners());
  }

  private gateIsOpen(name: string): boolean {
    const gate = this.open.get(name);
    return gate !== undefined && !gate.outcome;
  }

  /**
   * While decisions from unknown signers wait: one roster read serves all that came before it returned. A read
   * under way is joined; otherwise one timer waits until a minute after the held roster was read (ended early by a
   * read that starts meanwhile, or once no waiting decision's gate is open: the workflow moves on, or ends, without
   * waiting for them), then one read is made, unless no waiting decision's gate is still open. Each is then checked
   * against the roster read, with at most the signals' verification budget a workflow task.
   */
  private async serveUnknownSigners(): Promise<void> {
    const anyGateOpen = () => this.awaitingRoster.some((w) => this.gateIsOpen(w.decision.gate));
    while (this.awaitingRoster.length > 0) {
      let failure: string | undefined;
      if (!this.reading) {
        const wait = this.rosterReadAt + ROSTER_RECHECK_MS - Date.now();
        if (wait > 0) await condition(() => this.reading !== undefined || !anyGateOpen(), wait);
      }
      if (this.reading) failure = await this.reading;
      else if (anyGateOpen()) {
        this.rosterReadAt = Date.now();
        // Its failure is taken through `reading`, which handles the activity's rejection.
        void this.readRoster();
        failure = await this.reading;
      }
      // Every decision that came before the read returned is served by it; later ones wait for the next.
      const served = this.awaitingRoster;
      this.awaitingRoster = [];
      for (let i = 0; i < served.length;) {
        const d = served[i].decision;
        const verifies = failure === undefined && !this.problemWith(d) && isPublicKeyHex(this.signerKey(d.by));
        if (verifies && !this.signalBudget.take()) {
          await sleep(1);
          continue;
        }
        i += 1;
        const problem =
          failure === undefined
            ? (this.problemWith(d) ?? proofProblem(workflowInfo().workflowId, d, this.signerKey(d.by), Date.now()))
            : (this.problemWith(d, { signerMayBeNew: true }) ??
              `the roster could not be read to check the decision: ${failure}`);
        this.settleAwaiting(served[i - 1], problem);
      }
    }
    this.servingUnknownSigners = undefined;
  }

  /** Takes or refuses a decision that waited for the roster; an update's caller gets the outcome or the refusal. */
  private settleAwaiting(waiting: AwaitingRoster, problem: string | undefined): void {
    const action = `decision-${waiting.via}`;
    if (problem) this.recordRefused(waiting.decision, action, problem);
    if (waiting.via === 'signal') {
      if (!problem) this.accept(waiting.decision, 'signal');
    } else if (problem) {
      waiting.refused(
        ApplicationFailure.create({ type: FailureType.NotAuthorized, message: problem, nonRetryable: true }),
      );
    } else {
      waiting.taken(this.accept(waiting.decision, 'update'));
    }
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
   * Waits for every signal kept for a later task, every escalation still being told and every decision signal still
   * to be verified; call before the workflow returns, so each failure and each refusal is audited.
   */
  async settled(): Promise<void> {
    for (const intake of this.intakes) await intake.settled();
    // Decisions waiting for verification first: one that passes is decided among `telling`, or waits for the
    // shared roster read (which, once no gate is open, refuses those waiting without a read).
    while (this.verifyingLater) await this.verifyingLater;
    while (this.servingUnknownSigners) await this.servingUnknownSigners;
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
