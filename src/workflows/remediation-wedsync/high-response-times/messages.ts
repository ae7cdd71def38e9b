/** highResponseTimesRemediation's input and result (seed 002 Issue 1); status is the remediations' `status` query. */
import { parseInput, wholeNumber, z } from '../../../contracts/input';
import type { SlowStatement } from '../../../contracts/statements';
import { remediationInputSchema, type RemediationResult } from '../../remediation/messages';

/** seed 002 Issue 1's symptom, "AI optimization requests taking >10 seconds", and its Solution 1's replica counts. */
export const RESPONSE_TIME_THRESHOLD_MS = 10_000;
export const OPTIMIZATION_ENGINE = 'ai-optimization-engine';
export const RECOMMENDATION_ENGINE = 'ai-recommendation-engine';
export const OPTIMIZATION_REPLICAS = 10;
export const RECOMMENDATION_REPLICAS = 8;
/** The seed's HPA ceiling for the AI engines (3-20 replicas): the scale-up is bounded by it. */
export const MAX_ENGINE_REPLICAS = 20;

export const highResponseTimesInputSchema = remediationInputSchema
  .pick({ requestedBy: true, reason: true, severity: true, settleSeconds: true })
  .extend({
    /** Over this average response time (ms) of the AI service, the engines are scaled up. */
    responseTimeThresholdMs: wholeNumber(100, 600_000).default(RESPONSE_TIME_THRESHOLD_MS),
    optimizationReplicas: wholeNumber(1, MAX_ENGINE_REPLICAS).default(OPTIMIZATION_REPLICAS),
    recommendationReplicas: wholeNumber(1, MAX_ENGINE_REPLICAS).default(RECOMMENDATION_REPLICAS),
    /** seed 002 Solution 2, "Clear Cache if Corrupted": someone reported it corrupted, so purge and warm it. */
    cacheCorrupted: z.boolean({ message: 'must be true or false' }).default(false),
  })
  .strict();
export type HighResponseTimesInput = z.input<typeof highResponseTimesInputSchema>;
export type ParsedHighResponseTimesInput = z.output<typeof highResponseTimesInputSchema>;
export const parseHighResponseTimesInput = (raw: unknown) =>
  parseInput(highResponseTimesInputSchema, raw, 'highResponseTimesRemediation');

export type HighResponseTimesResult = RemediationResult & {
  /** seed 002 Solution 3's slowest statements by mean time (empty when pg_stat_statements could not be read). */
  slowStatements: SlowStatement[];
};
