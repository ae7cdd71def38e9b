/** weddingDayCrisis's input, status and result, and the workflow ID convention. Imported by clients and tests. */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../gates/types';

export const CRISIS_TYPES = ['vendor_cancellation', 'venue', 'weather', 'ai_failure', 'transport', 'other'] as const;
export type CrisisType = (typeof CRISIS_TYPES)[number];

export interface WeddingDayCrisisInput {
  weddingId: string;
  crisisType: CrisisType;
  description?: string;
  /** Roster id or system that reported the crisis. */
  reportedBy?: string;
}

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

export interface TimelineEvent {
  at: string;
  event: string;
}

export interface CrisisStatus {
  crisisKey: string;
  weddingId: string;
  crisisType: CrisisType;
  stage: 'stage1' | 'stage2' | 'awaiting-resolution' | 'resolved';
  startedAt: string;
  elapsedMs: number;
  stages: { stage1: StageStatus; stage2: StageStatus };
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
