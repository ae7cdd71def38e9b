/** modelRetraining's input, status query and result, and the monthly workflow ID that keeps it to one run at a time. */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';
import { isoTime, optionalObject, parseInput, z } from '../../contracts/input';
import type { DataQualityReport, ModelDecision, ModelMetrics, TrainingDataManifest } from '../../contracts/retraining';
import type { SequentialLook } from '../../contracts/sequential-test';

export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export const retrainingInputSchema = optionalObject({
  /** The training period; absent: the 30 days before the run started. */
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** Who asked (an operator, the accuracy watch); the schedule leaves it out. */
  requestedBy: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'must be a roster id or a workflow name')
    .optional(),
  reason: z.string().max(2000, 'must be at most 2000 characters').optional(),
}).refine((v) => !v.from || !v.to || Date.parse(v.from) < Date.parse(v.to), {
  message: 'must be after from',
  path: ['to'],
});
export type RetrainingInput = z.input<typeof retrainingInputSchema>;

export const parseRetrainingInput = (raw: unknown) => parseInput(retrainingInputSchema, raw, 'modelRetraining');

/** One run per month: a second start for the month is refused by the server while the first is running. */
export const retrainingWorkflowId = (month: string) => `model-retraining-${month}`;
/** The month (UTC) of a time, as YYYY-MM. */
export const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

export const RETRAINING_STAGES = [
  'planning',
  'extract',
  'data-quality',
  'train',
  'evaluate',
  'staging',
  'ab-test',
  'promotion-gate',
  'promote',
  'roll-back',
  'done',
] as const;
export type RetrainingStage = (typeof RETRAINING_STAGES)[number];

export interface AbStatus {
  productionVersion: string;
  candidateVersion: string;
  weight: number;
  /** Feedback is counted from here (the database's clock when the candidate took traffic). */
  since: string;
  looks: number;
  /** The newest look: counts, rates, the statistic and its boundary, and what it says. */
  last?: SequentialLook;
  errorRate?: number;
  nextLookAt?: string;
  endsAt: string;
  /** What the next look would decide if the counts stayed as they are. */
  nextDecision: string;
}

export interface RetrainingStatus {
  stage: RetrainingStage;
  month: string;
  version: string;
  artifactsUri: string;
  manifest?: TrainingDataManifest;
  quality?: DataQualityReport;
  metrics?: ModelMetrics;
  productionMetrics?: ModelMetrics;
  ab?: AbStatus;
  decision?: ModelDecision;
  reason?: string;
  gates: GateStatus[];
}

export type RetrainingResult =
  | (Omit<RetrainingStatus, 'gates' | 'decision'> & { decision: ModelDecision; decidedBy: string; finishedAt: string })
  | { launched: string; outcome: 'started' | 'already-running' };

export const retrainingStatusQuery = defineQuery<RetrainingStatus>('status');
