/**
 * WedSync Issue 2, Low Recommendation Accuracy (seed 002): the symptom "user acceptance rate dropping below 80%"
 * and the check "if performance.accuracy < 0.85: trigger_model_retraining()", on a schedule. Reads the acceptance
 * rate of the last 24 hours from ai_feedback (the seed's diagnosis query); below 0.80 it opens an incident (or
 * joins the one open for it), below 0.85 it starts this month's retraining unless one is running.
 *
 *   temporal workflow execute --type modelAccuracyWatch --task-queue aiops-runbooks --input '{}'
 */
import { AuditTrail } from '../gates/audit-trail';
import { openOrJoinIncident } from '../incident/open';
import { startMonthlyRetraining } from '../model-retraining/workflow';
import { probes } from '../policies';
import {
  INCIDENT_BELOW,
  LOW_ACCURACY_FINGERPRINT,
  parseAccuracyWatchInput,
  RETRAIN_BELOW,
  type AccuracyWatchInput,
  type AccuracyWatchResult,
} from './messages';

export async function modelAccuracyWatch(rawInput?: AccuracyWatchInput): Promise<AccuracyWatchResult> {
  const input = parseAccuracyWatchInput(rawInput);
  const audit = new AuditTrail();
  const acceptance = await probes.recommendationAcceptance({ hours: input.hours ?? 24 });
  const rate = acceptance.acceptanceRate;
  let result: AccuracyWatchResult;
  if (rate === undefined) {
    result = { acceptance, verdict: 'no-feedback' };
  } else if (rate >= RETRAIN_BELOW) {
    result = { acceptance, verdict: 'ok' };
  } else {
    const reason = `recommendation acceptance ${rate} over the last ${acceptance.hours} h (${acceptance.accepted}/${acceptance.feedback})`;
    const incident = rate < INCIDENT_BELOW ? await openIncident(reason) : undefined;
    const retraining = await startMonthlyRetraining({
      requestedBy: 'model-accuracy-watch',
      reason: `${reason} is below ${RETRAIN_BELOW}`,
    });
    result = { acceptance, verdict: incident ? 'incident-and-retrain' : 'retrain', incident, retraining };
  }
  audit.record({
    step: 'accuracy-watch',
    actor: 'workflow',
    action: 'check',
    outcome: result.verdict,
    details: {
      acceptanceRate: rate,
      feedback: acceptance.feedback,
      incident: result.incident,
      retraining: result.retraining,
    },
  });
  await audit.flush();
  return result;
}

/** incidentResponse for the low rate, started once; a later finding is signalled to it as another firing. */
function openIncident(summary: string): Promise<NonNullable<AccuracyWatchResult['incident']>> {
  return openOrJoinIncident({
    severity: 'P2',
    service: 'ai-recommendation-engine',
    summary: `Low recommendation accuracy: ${summary}`,
    fingerprint: LOW_ACCURACY_FINGERPRINT,
  });
}
