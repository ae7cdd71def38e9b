/**
 * Which runbook an alert starts: one row per alert rule of monitoring/rules/ (a test holds the two equal), matched
 * by alert name and, where a row says so, by labels. An alert no row matches is logged and left alone.
 */
import type { IncidentSeverity } from '../workflows/incident/messages';
import type { WebhookAlert } from './webhook';

export type AlertRunbook =
  /** incidentResponse, keyed by the alert's fingerprint (seed 000 Alert Response Checklist). */
  | { kind: 'incident'; severity: IncidentSeverity; service: string }
  /** weddingDayCrisis, keyed by the alert's fingerprint as the failure (seed 002 Issue 4). */
  | { kind: 'crisis' };

export interface AlertRoute {
  alertname: string;
  /** Labels the alert must carry with these values. */
  labels?: Record<string, string>;
  runbook: AlertRunbook;
}

export const ALERT_ROUTES: AlertRoute[] = [
  // seed 000 SLOs: 99.9 % uptime, under 3 s average response, under 1 % errors, over 90 % accuracy.
  {
    alertname: 'ScrollUniversityAvailabilityBelowSLO',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-gateway-service' },
  },
  {
    alertname: 'ScrollUniversityResponseTimeAboveSLO',
    runbook: { kind: 'incident', severity: 'P2', service: 'ai-gateway-service' },
  },
  {
    alertname: 'ScrollUniversityErrorRateAboveSLO',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-gateway-service' },
  },
  {
    alertname: 'ScrollUniversityAccuracyBelowSLO',
    runbook: { kind: 'incident', severity: 'P2', service: 'ai-gateway-service' },
  },
  // seed 000 Issue 1 and Emergency Procedures: spending against the monthly budget.
  {
    alertname: 'ScrollUniversityBudgetExceeded',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-gateway-service' },
  },
  // seed 002 Alert Levels 2 (warning): past the 5 s and 85 % targets.
  {
    alertname: 'WedSyncResponseTimeAboveTarget',
    runbook: { kind: 'incident', severity: 'P3', service: 'ai-optimization-engine' },
  },
  {
    alertname: 'WedSyncAccuracyBelowTarget',
    runbook: { kind: 'incident', severity: 'P3', service: 'ai-recommendation-engine' },
  },
  // seed 002 Critical Metrics: response over 10 s, acceptance under 80 %, availability under 99.5 %, errors over 1 %.
  {
    alertname: 'WedSyncResponseTimeCritical',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-optimization-engine' },
  },
  {
    alertname: 'WedSyncAccuracyLow',
    runbook: { kind: 'incident', severity: 'P2', service: 'ai-recommendation-engine' },
  },
  {
    alertname: 'WedSyncAvailabilityLow',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-optimization-engine' },
  },
  {
    alertname: 'WedSyncErrorRateHigh',
    runbook: { kind: 'incident', severity: 'P1', service: 'ai-optimization-engine' },
  },
  // seed 002 Issue 4: the crisis manager down, or slower than its 10-second response.
  { alertname: 'WedSyncCrisisManagerDown', runbook: { kind: 'crisis' } },
];

/** The first row that matches the alert, if any. */
export function routeAlert(alert: WebhookAlert, routes: AlertRoute[] = ALERT_ROUTES): AlertRoute | undefined {
  return routes.find(
    (r) =>
      r.alertname === alert.labels.alertname &&
      Object.entries(r.labels ?? {}).every(([name, value]) => alert.labels[name] === value),
  );
}
