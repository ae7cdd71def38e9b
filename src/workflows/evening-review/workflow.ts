/**
 * WedSync "Evening Performance Review (6:00 PM GMT)", seed 002, Daily Maintenance:
 *   - Review daily performance metrics
 *   - Analyze recommendation acceptance rates
 *   - Check resource utilization trends
 *   - Plan capacity adjustments for next day
 *
 * The capacity part is a suggestion for a person, not an action: scaling stays a decision.
 *
 *   temporal workflow start --type eveningPerformanceReview --task-queue aiops-runbooks --input '{}'
 */
import { workflowInfo } from '@temporalio/workflow';
import { evaluateKpi, WEDSYNC_KPI_THRESHOLDS, type KpiName, type KpiResult } from '../../contracts/kpi';
import type { VolumeTrend } from '../../contracts/reviews';
import { settle } from '../common/settle';
import { probes } from '../policies';
import {
  parseEveningReviewInput,
  type CapacitySuggestion,
  type EveningReview,
  type EveningReviewInput,
} from './messages';

/** More than this growth over the baseline, or a queue past its target, asks for more replicas tomorrow. */
const GROWTH_TO_SCALE_UP = 0.2;
const DROP_TO_SCALE_DOWN = -0.4;

export function suggestCapacity(kpis: KpiResult[], volume: VolumeTrend | undefined): CapacitySuggestion {
  const level = (name: KpiName) => kpis.find((k) => k.name === name)?.level;
  if (level('queueLength') === 'alert' || level('queueLength') === 'warning') {
    return { action: 'scale-up', reason: 'the request queue is past its target of 10' };
  }
  if (level('responseTimeMs') === 'alert' || level('responseTimeMs') === 'warning') {
    return { action: 'scale-up', reason: 'response time is past its 5-second target' };
  }
  if (volume?.change !== undefined && volume.change > GROWTH_TO_SCALE_UP) {
    return {
      action: 'scale-up',
      reason: `requests are ${Math.round(volume.change * 100)}% above the ${volume.dailyRequests.length - 1}-day average`,
    };
  }
  if (volume?.change !== undefined && volume.change < DROP_TO_SCALE_DOWN) {
    return {
      action: 'scale-down',
      reason: `requests are ${Math.round(-volume.change * 100)}% below the average; the HPA minimum of 3 still applies`,
    };
  }
  return { action: 'keep', reason: 'load and latency are within their targets' };
}

export async function eveningPerformanceReview(rawInput?: EveningReviewInput): Promise<EveningReview> {
  const { trendDays } = parseEveningReviewInput(rawInput);
  const startedAt = new Date(workflowInfo().runStartTime).toISOString();

  const [metrics, acceptance, volume, usage] = await Promise.all([
    settle(probes.fetchDailyMetrics()),
    settle(probes.recommendationAcceptance({ hours: 24 })),
    settle(probes.requestVolumeTrend({ days: trendDays })),
    settle(probes.podUsage({})),
  ]);
  const m = metrics.state === 'ok' ? metrics.result : {};
  const kpis = (Object.keys(WEDSYNC_KPI_THRESHOLDS) as KpiName[]).map((name) =>
    // "Accuracy" in the seed's KPI table is recommendation acceptance: ai_feedback is its source of truth.
    evaluateKpi(
      name,
      name === 'accuracyRate' && acceptance.state === 'ok'
        ? (acceptance.result.acceptanceRate ?? m.accuracyRate)
        : m[name],
    ),
  );

  const findings: string[] = [];
  if (metrics.state === 'failed') findings.push(`daily metrics unavailable: ${metrics.error}`);
  for (const k of kpis)
    if (k.level === 'warning' || k.level === 'alert')
      findings.push(`${k.name} ${k.value} ${k.level} (target ${k.target}, alert ${k.alert})`);
  if (acceptance.state === 'ok') {
    const { acceptanceRate: now, previousAcceptanceRate: before } = acceptance.result;
    if (now !== undefined && before !== undefined && now < before - 0.05)
      findings.push(`acceptance fell from ${before} to ${now} since yesterday`);
  }
  const capacity = suggestCapacity(kpis, volume.state === 'ok' ? volume.result : undefined);
  return { startedAt, kpis, acceptance, volume, usage, capacity, findings };
}
