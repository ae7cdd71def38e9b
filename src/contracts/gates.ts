/** Shapes of the approval gate, shared by workflows and clients. Types only. */
import type { DecisionProof } from './decision-signature';
import type { Audience } from './roster';

/**
 * What a person sends to a gate, by signal `decision` or update `decide`: the decision and, since decisions are
 * signed, its proof (src/contracts/decision-signature.ts). Histories from before carry none.
 */
export interface Decision extends Partial<DecisionProof> {
  gate: string;
  decision: 'approve' | 'reject';
  /** The decider's roster id. */
  by: string;
  reason: string;
  /** For gates that need one: a link (post-mortem document, ticket). */
  link?: string;
  /** For gates that offer choices (which quick fix): the one chosen. */
  choice?: string;
}

/** What to do when every tier has been asked and nobody decided. */
export type GateDefault = 'proceed' | 'abort' | 'manual' | 'keep-waiting';

export interface GateSpec {
  name: string;
  /** Shown to the people asked. */
  prompt: string;
  /** Who may decide from the start; each escalation tier is added as it is reached. */
  deciders: Audience;
  /** How long each tier has before the next is asked; absent means wait without deadline. */
  tierTimeoutMs?: number;
  /** The first tier's time when it differs (P3: until the next business day). */
  firstTierTimeoutMs?: number;
  /** Asked in turn as deadlines pass. */
  escalation?: Audience[];
  onExhausted?: GateDefault;
  /**
   * While the gate waits without a deadline (none set, or every tier asked and the default is to keep waiting),
   * its deciders are reminded this often, so no gate waits unnoticed.
   */
  remindEveryMs?: number;
  /**
   * PagerDuty key the gate's escalations are paged under (`<pageKey>/tier-<n>`), for a gate whose tiers are not the
   * workflow's own: a crisis's tier 1 was paged when it opened, and a gate's first tier under the same key would
   * fold into that alert. Absent: the workflow's tier keys.
   */
  pageKey?: string;
  requireLink?: boolean;
  choices?: string[];
}

export interface GateOutcome {
  gate: string;
  /** approve/reject from a person, or the gate's default after the last tier. */
  decision: 'approve' | 'reject' | 'manual';
  by: string;
  reason: string;
  link?: string;
  choice?: string;
  decidedAt: string;
  tierReached: number;
  byDefault: boolean;
}

export interface GateStatus {
  gate: string;
  prompt: string;
  deciders: Audience;
  openedAt: string;
  deadline?: string;
  /** When the deciders are reminded next, for a gate waiting without a deadline. */
  nextReminder?: string;
  tierReached: number;
  tiers: number;
  choices?: string[];
  requireLink?: boolean;
}
