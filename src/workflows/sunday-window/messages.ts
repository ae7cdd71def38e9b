/** sundayMaintenanceWindow's input, status query and result. */
import { defineQuery } from '@temporalio/workflow';
import { isoTime, oneOf, optionalObject, parseInput, z } from '../../contracts/input';

export const WINDOW_STEPS = ['model-update', 'database', 'cache'] as const;
export type WindowStep = (typeof WINDOW_STEPS)[number];

export const sundayWindowInputSchema = optionalObject({
  /** When the window closes; two hours after the scheduled start (02:00 → 04:00 GMT) when absent. */
  windowEnd: isoTime.optional(),
  /** Steps not to run this time. */
  skip: z.array(oneOf(WINDOW_STEPS)).max(WINDOW_STEPS.length).optional(),
});
export type SundayWindowInput = z.input<typeof sundayWindowInputSchema>;

export const parseSundayWindowInput = (raw: unknown) =>
  parseInput(sundayWindowInputSchema, raw, 'sundayMaintenanceWindow');

export interface StepReport {
  step: WindowStep;
  status: 'done' | 'skipped' | 'deferred' | 'incomplete' | 'rolled-back' | 'failed';
  detail: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface SundayWindowResult {
  windowStart: string;
  windowEnd: string;
  steps: StepReport[];
  /** Steps left, in whole or part, for the next window. */
  remaining: WindowStep[];
  finishedAt: string;
}

export const sundayWindowStatusQuery = defineQuery<{ windowEnd: string; step?: WindowStep; steps: StepReport[] }>(
  'status',
);
