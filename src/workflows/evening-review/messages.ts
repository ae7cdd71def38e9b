/** eveningPerformanceReview's input and result. */
import { optionalObject, parseInput, wholeNumber, type z } from '../../contracts/input';
import type { KpiResult } from '../../contracts/kpi';
import type { Check, PodUsageReport } from '../../contracts/probes';
import type { AcceptanceSummary, VolumeTrend } from '../../contracts/reviews';

export const eveningReviewInputSchema = optionalObject({
  /** How many days of history the trend compares today with. */
  trendDays: wholeNumber(1, 90).default(7),
});
export type EveningReviewInput = z.input<typeof eveningReviewInputSchema>;

export const parseEveningReviewInput = (raw: unknown) =>
  parseInput(eveningReviewInputSchema, raw, 'eveningPerformanceReview');

export interface CapacitySuggestion {
  action: 'scale-up' | 'scale-down' | 'keep';
  reason: string;
}

export interface EveningReview {
  startedAt: string;
  kpis: KpiResult[];
  acceptance: Check<AcceptanceSummary>;
  volume: Check<VolumeTrend>;
  usage: Check<PodUsageReport>;
  capacity: CapacitySuggestion;
  findings: string[];
}
