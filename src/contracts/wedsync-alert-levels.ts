/**
 * WedSync's alert levels, seed 002 "Alert Levels", and what each asks of people:
 *   Level 1 Information: 5-10 % below normal; log for analysis, no immediate response.
 *   Level 2 Warning: 10-25 % degradation; investigation within 4 hours.
 *   Level 3 Critical: over 25 % (error rate over 2 %, response time over 15 s); immediate investigation.
 *   Level 4 Emergency: a system failure or wedding-day impact; immediate escalation to the on-call team.
 * "Normal" is each KPI's target (kpi.ts). Pure code: used inside workflows.
 */
import { WEDSYNC_KPI_THRESHOLDS, type KpiName } from './kpi';

export type AlertLevel = 1 | 2 | 3 | 4;

export interface AlertLevelPolicy {
  name: 'information' | 'warning' | 'critical' | 'emergency';
  /** log: the audit log only; message: Slack, to be looked at within `respondWithinHours`; page: now. */
  urgency: 'log' | 'message' | 'page';
  respondWithinHours?: number;
}

export const ALERT_LEVELS: Record<AlertLevel, AlertLevelPolicy> = {
  1: { name: 'information', urgency: 'log' },
  2: { name: 'warning', urgency: 'message', respondWithinHours: 4 },
  3: { name: 'critical', urgency: 'page' },
  4: { name: 'emergency', urgency: 'page' },
};

/** The seed's Level 3 examples, critical whatever the percentage says. */
const CRITICAL_OVER: Partial<Record<KpiName, number>> = { errorRate: 0.02, responseTimeMs: 15_000 };

/** How far a KPI is worse than its target, as a share of the target (0 when it meets it). */
export function degradation(kpi: KpiName, value: number): number {
  const { target, higherIsBetter } = WEDSYNC_KPI_THRESHOLDS[kpi];
  const worse = higherIsBetter ? target - value : value - target;
  return Math.max(0, worse / target);
}

/**
 * The level of one reading, or undefined when it is within 5 % of normal (no alert). `emergency` marks a system
 * failure or a wedding-day impact, which is Level 4 whatever the figures.
 */
export function alertLevelFor(kpi: KpiName, value: number, emergency = false): AlertLevel | undefined {
  if (emergency) return 4;
  const critical = CRITICAL_OVER[kpi];
  if (critical !== undefined && value > critical) return 3;
  const d = degradation(kpi, value);
  if (d > 0.25) return 3;
  if (d > 0.1) return 2;
  if (d >= 0.05) return 1;
  return undefined;
}

export function describeAlertLevel(level: AlertLevel): string {
  const policy = ALERT_LEVELS[level];
  const when = policy.respondWithinHours ? `, investigate within ${policy.respondWithinHours} hours` : '';
  return `Level ${level} ${policy.name}${when}`;
}
