/** modelAccuracyWatch's input and result. */
import { optionalObject, parseInput, wholeNumber } from '../../contracts/input';
import type { AcceptanceSummary } from '../../contracts/reviews';

export const accuracyWatchInputSchema = optionalObject({
  /** The window read from ai_feedback; seed 002 Issue 2 reads the last 24 hours. */
  hours: wholeNumber(1, 24 * 7).optional(),
});
export type AccuracyWatchInput = Parameters<typeof accuracyWatchInputSchema.parse>[0];

export const parseAccuracyWatchInput = (raw: unknown) =>
  parseInput(accuracyWatchInputSchema, raw, 'modelAccuracyWatch');

/** seed 002 Issue 2: "User acceptance rate dropping below 80%" is the symptom; "accuracy < 0.85" triggers retraining. */
export const INCIDENT_BELOW = 0.8;
export const RETRAIN_BELOW = 0.85;
/** The incident's alert fingerprint: a low rate found again joins the open incident. */
export const LOW_ACCURACY_FINGERPRINT = 'low-recommendation-accuracy';

export interface AccuracyWatchResult {
  acceptance: AcceptanceSummary;
  verdict: 'no-feedback' | 'ok' | 'retrain' | 'incident-and-retrain';
  incident?: { workflowId: string; outcome: 'opened' | 'joined' };
  retraining?: { launched: string; outcome: 'started' | 'already-running' };
}
