/**
 * WedSync KPI thresholds, from seed 002 "Critical Metrics to Monitor":
 *   Response Time: <5 seconds for optimization (Alert: >10 seconds)
 *   Accuracy Rate: >85% recommendation acceptance (Alert: <80%)
 *   System Availability: >99.9% uptime (Alert: <99.5%)
 *   Error Rate: <0.5% (Alert: >1%)
 *   Queue Length: <10 pending requests (Alert: >50)
 * Pure code: used inside workflows.
 */

export type KpiName = 'responseTimeMs' | 'accuracyRate' | 'availability' | 'errorRate' | 'queueLength';
export type KpiLevel = 'ok' | 'warning' | 'alert' | 'unknown';

interface Threshold {
  target: number;
  alert: number;
  /** Whether larger values are better (accuracy, availability) or worse (latency, errors, queue). */
  higherIsBetter: boolean;
  unit: string;
}

export const WEDSYNC_KPI_THRESHOLDS: Record<KpiName, Threshold> = {
  responseTimeMs: { target: 5000, alert: 10000, higherIsBetter: false, unit: 'ms' },
  accuracyRate: { target: 0.85, alert: 0.8, higherIsBetter: true, unit: 'ratio' },
  availability: { target: 0.999, alert: 0.995, higherIsBetter: true, unit: 'ratio' },
  errorRate: { target: 0.005, alert: 0.01, higherIsBetter: false, unit: 'ratio' },
  queueLength: { target: 10, alert: 50, higherIsBetter: false, unit: 'requests' },
};

export interface KpiResult {
  name: KpiName;
  value?: number;
  level: KpiLevel;
  target: number;
  alert: number;
  unit: string;
}

/** ok inside the target; warning between target and alert threshold; alert past it. */
export function evaluateKpi(name: KpiName, value: number | undefined): KpiResult {
  const t = WEDSYNC_KPI_THRESHOLDS[name];
  const base = { name, value, target: t.target, alert: t.alert, unit: t.unit };
  if (value === undefined) return { ...base, level: 'unknown' };
  const meetsTarget = t.higherIsBetter ? value > t.target : value < t.target;
  const pastAlert = t.higherIsBetter ? value < t.alert : value > t.alert;
  return { ...base, level: pastAlert ? 'alert' : meetsTarget ? 'ok' : 'warning' };
}
