/** weddingDayCrisis's input, status and result, and the workflow ID convention. Imported by clients and tests. */
import { defineQuery } from '@temporalio/workflow';
import { CRISIS_TYPES, type CrisisType } from '../../contracts/crisis';
import type { GateStatus } from '../../contracts/gates';
import { oneOf, parseInput, z } from '../../contracts/input';
import type { TimelineEvent } from '../../contracts/timeline';

export { CRISIS_TYPES, type CrisisType } from '../../contracts/crisis';

export const weddingDayCrisisInputSchema = z
  .object({
    weddingId: z
      .string({ message: 'must be 1-64 characters of A-Z a-z 0-9 _ -' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -'),
    crisisType: oneOf(CRISIS_TYPES),
    description: z
      .string({ message: 'must be a string of at most 2000 characters' })
      .max(2000, 'must be a string of at most 2000 characters')
      .optional(),
    /** Roster id or system that reported the crisis. */
    reportedBy: z
      .string({ message: 'must be a non-empty string' })
      .min(1, 'must be a non-empty string')
      .max(200, 'must be at most 200 characters')
      .optional(),
  })
  .strict();
export type WeddingDayCrisisInput = z.input<typeof weddingDayCrisisInputSchema>;

export const parseWeddingDayCrisisInput = (raw: unknown) =>
  parseInput(weddingDayCrisisInputSchema, raw, 'weddingDayCrisis');

/** One crisis per wedding and type at a time: a second start with this ID is refused by the server. */
export function crisisWorkflowId(input: Pick<WeddingDayCrisisInput, 'weddingId' | 'crisisType'>): string {
  return `wedding-crisis-${input.weddingId}-${input.crisisType}`;
}

export type StepState = 'pending' | 'running' | 'awaiting-confirmation' | 'done' | 'failed' | 'cancelled';

export interface StageStatus {
  dueBy: string;
  completedAt?: string;
  missedDeadline: boolean;
}

export type StageName = 'stage1' | 'stage2';

export interface CrisisStatus {
  crisisKey: string;
  weddingId: string;
  crisisType: CrisisType;
  stage: StageName | 'awaiting-resolution' | 'resolved';
  startedAt: string;
  elapsedMs: number;
  stages: Record<StageName, StageStatus>;
  steps: Record<string, StepState>;
  couplesAffected: number[];
  couplesNotified: number[];
  /** 0 = the chain's first tier (AI Operations) was told; higher = escalated that far. */
  escalationTier: number;
  gates: GateStatus[];
  timeline: TimelineEvent[];
}

export interface CrisisResult extends Omit<CrisisStatus, 'gates' | 'stage'> {
  resolvedBy: string;
  resolution: string;
  resolvedAt: string;
}

export const crisisStatusQuery = defineQuery<CrisisStatus>('status');
