/** recoverAiService's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import { backupIdSchema } from '../../contracts/backups';
import { optionalObject, parseInput, wholeNumber, z } from '../../contracts/input';
import { recoveryTargetSchema } from '../../contracts/recovery';

export const RECOVERY_STEPS = ['snapshot', 'restore-models', 'apply-config', 'restart-engines', 'validate'] as const;
export type RecoveryStep = (typeof RECOVERY_STEPS)[number];

export const recoverAiServiceInputSchema = optionalObject({
  /** The model backup to recover from; absent: the newest complete one (the last known good). */
  backupId: backupIdSchema.optional(),
  /** Who asked (roster id, or the workflow that started it); recorded in the audit trail. */
  requestedBy: z.string().min(1).max(100).default('operator'),
  reason: z.string().max(2000).optional(),
  /** How long each engine's new pods may take to become available. */
  rolloutTimeoutSeconds: wholeNumber(10, 3600).default(600),
  /**
   * A disaster recovery drill's scratch namespace and model folder, acted on instead of production; absent, the
   * recovery acts on production. With a target the recovery validates the models it placed against the backup's
   * manifest (nothing serves from a scratch folder) and tells no one itself: the drill reports.
   */
  target: recoveryTargetSchema.optional(),
});
export type RecoverAiServiceInput = z.input<typeof recoverAiServiceInputSchema>;
export const parseRecoverAiServiceInput = (raw: unknown) =>
  parseInput(recoverAiServiceInputSchema, raw, 'recoverAiService');

/** How long a step took: what the DR drill reports as the recovery time. */
export interface StepTiming {
  step: RecoveryStep;
  startedAt: string;
  durationMs: number;
  detail?: string;
}

/** Exactly where a failed recovery left the system: the failure's details and the status query carry it. */
export interface RecoveryState {
  failedStep?: RecoveryStep;
  reason?: string;
  /** Steps that completed, in order. */
  completed: RecoveryStep[];
  /** Compensations that ran, in the order they ran. */
  undone: string[];
  /** Compensations that failed: what is not as it was. */
  notUndone: { step: string; error: string }[];
  /** as-before: every change undone; changed: some change stays (see notUndone). */
  outcome: 'recovered' | 'as-before' | 'changed';
}

export interface RecoverAiServiceResult {
  recoveryId: string;
  backupId: string;
  /** Where the serving models were kept before the recovery (backup bucket). */
  snapshotPrefix: string;
  models: number;
  /** The accuracy the service reported at validation; absent for a drill, whose models serve nothing. */
  accuracy?: number;
  steps: StepTiming[];
  totalMs: number;
}

export interface RecoveryStatus extends RecoveryState {
  step?: RecoveryStep | 'compensating';
  backupId?: string;
  steps: StepTiming[];
}

export const recoveryStatusQuery = defineQuery<RecoveryStatus>('status');
