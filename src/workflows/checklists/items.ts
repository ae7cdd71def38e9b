/**
 * seed 000 "Maintenance Procedures", item by item: what a machine checks (an activity) and what a person does (a
 * task for a role). Roles come from its Key Contacts.
 */
import { DRILL_MAX_AGE_DAYS } from '../../contracts/drills';
import { evaluateKpi } from '../../contracts/kpi';
import { probes } from '../policies';
import type { Cadence } from './messages';

export type Check = () => Promise<{ ok: boolean; detail: string }>;
export interface ItemSpec {
  id: string;
  title: string;
  check?: Check;
  role?: string;
  /**
   * An item that was a person's task and is now checked: the patch under which the check replaces the task, so
   * checklists started before it still wait for the person, as their histories say.
   */
  checkedSincePatch?: string;
}

/** The monthly "Conduct disaster recovery drill" reads the drills' records instead of asking devops. */
export const DR_DRILL_CHECKED_PATCH = 'checklist-dr-drill-checked';

const HOUR = 3_600_000;
/** A person's task is due within the cadence's own period, so one run's tasks end before the next run. */
export const TASK_DEADLINE: Record<Cadence, number> = {
  daily: 8 * HOUR,
  weekly: 3 * 24 * HOUR,
  monthly: 7 * 24 * HOUR,
  quarterly: 14 * 24 * HOUR,
};

/** seed 000's SLOs: error rate < 1 %; cache hit rate above the 70 % its Issue 4 calls low. */
const ERROR_RATE_SLO = 0.01;
const CACHE_HIT_RATE_FLOOR = 0.7;

const CHECKS: Record<string, Check> = {
  async overnightAlerts() {
    const { incidents } = await probes.incidentsOpened({ hours: 15 });
    return {
      ok: incidents.length === 0,
      detail: incidents.length
        ? `${incidents.length} incident(s) opened overnight: ${incidents.map((i) => i.workflowId).join(', ')}`
        : 'no incidents overnight',
    };
  },
  async skippedScheduleRuns() {
    // Temporal raises nothing when a schedule skips a run (overlap, or a catch-up window missed in an outage).
    const report = await probes.reportSkippedRuns({ hours: 24 });
    const skipped = report.filter((r) => r.skippedOverlap + r.missedCatchup > 0);
    return {
      ok: skipped.length === 0,
      detail: skipped.length
        ? skipped
            .map(
              (r) =>
                `${r.scheduleId}: ${r.skippedOverlap} skipped (overlap), ${r.missedCatchup} missed (catch-up window)`,
            )
            .join('; ')
        : `no scheduled run skipped in 24 h (${report.filter((r) => r.registered).length} schedules)`,
    };
  },
  async costAnomalies() {
    const c = await probes.fetchCostStatus();
    return {
      ok: !c.anomaly,
      detail: `spent ${c.spent} of ${c.budget} (${Math.round(c.ratio * 100)}%)${c.anomaly ? ': above the alert ratio' : ''}`,
    };
  },
  async backupCompleted() {
    const b = await probes.latestBackup();
    // The activity reads the restore drills' records: a backup counts once it has been restored (src/workflows/backup).
    if (b.ageHours === undefined) return { ok: false, detail: `no backup in ${b.bucket} has passed a restore drill` };
    return { ok: b.ageHours <= 26, detail: `newest verified backup ${b.key} is ${b.ageHours} h old` };
  },
  async drillPassed() {
    // The drills' own records (src/workflows/dr-drill): a month counts once a drill of it recovered within the RTO.
    const d = await probes.latestDrill();
    const last = d.last
      ? `; last drill ${d.last.drillId} ${d.last.passed ? 'passed' : `failed${d.last.failedStep ? ` at ${d.last.failedStep}` : ''}`}`
      : '';
    if (!d.lastPassed) return { ok: false, detail: `no disaster recovery drill in ${d.bucket} has passed${last}` };
    return {
      ok: d.lastPassed.ageDays <= DRILL_MAX_AGE_DAYS,
      detail:
        `last passed drill ${d.lastPassed.drillId} is ${d.lastPassed.ageDays} days old (at most ${DRILL_MAX_AGE_DAYS}): ` +
        `recovered in ${(d.lastPassed.recoveryMs / 60_000).toFixed(1)} min, RTO ${d.lastPassed.rtoMinutes} min${last}`,
    };
  },
  async errorRates() {
    const [m, recent] = await Promise.all([probes.fetchDailyMetrics(), probes.fetchRecentErrors()]);
    const loud = recent.errors.filter((e) => e.count > 10);
    const ok = (m.errorRate ?? 0) < ERROR_RATE_SLO && loud.length === 0;
    return {
      ok,
      detail: `error rate ${m.errorRate ?? 'unknown'} (SLO < ${ERROR_RATE_SLO}); errors over 10 occurrences: ${loud.map((e) => `${e.message} ×${e.count}`).join('; ') || 'none'}`,
    };
  },
  async serviceMetrics() {
    const m = await probes.fetchDailyMetrics();
    const kpis = (['responseTimeMs', 'accuracyRate', 'availability', 'errorRate', 'queueLength'] as const).map((k) =>
      evaluateKpi(k, m[k]),
    );
    const off = kpis.filter((k) => k.level === 'warning' || k.level === 'alert');
    return {
      ok: off.length === 0,
      detail: off.length ? off.map((k) => `${k.name} ${k.value} ${k.level}`).join('; ') : 'every KPI within target',
    };
  },
  async cachePerformance() {
    const probe = await probes.probeCache();
    const hitRate = Number((probe.detail as { hitRate?: number }).hitRate ?? 0);
    return {
      ok: hitRate >= CACHE_HIT_RATE_FLOOR,
      detail: `cache hit rate ${hitRate} (low below ${CACHE_HIT_RATE_FLOOR})`,
    };
  },
  async userFeedback() {
    const a = await probes.recommendationAcceptance({ hours: 30 * 24 });
    return {
      ok: a.acceptanceRate === undefined || a.acceptanceRate >= 0.85,
      detail: `${a.feedback} feedback entries in 30 days; acceptance ${a.acceptanceRate ?? 'n/a'}, rating ${a.averageRating ?? 'n/a'}`,
    };
  },
};

/** seed 000 "Maintenance Procedures", item by item; roles from its Key Contacts. */
export const CHECKLISTS: Record<Cadence, ItemSpec[]> = {
  daily: [
    { id: 'review-overnight-alerts', title: 'Review overnight alerts', check: CHECKS.overnightAlerts },
    { id: 'report-skipped-runs', title: 'Report scheduled runs that were skipped', check: CHECKS.skippedScheduleRuns },
    { id: 'check-cost-anomalies', title: 'Check cost dashboard for anomalies', check: CHECKS.costAnomalies },
    { id: 'verify-backup', title: 'Verify backup completion', check: CHECKS.backupCompleted },
    { id: 'review-error-rates', title: 'Review error rates in Sentry', check: CHECKS.errorRates },
  ],
  weekly: [
    { id: 'review-ai-metrics', title: 'Review AI service metrics', check: CHECKS.serviceMetrics },
    { id: 'analyze-cost-trends', title: 'Analyze cost trends', role: 'ai-team-lead' },
    { id: 'check-cache-performance', title: 'Check cache performance', check: CHECKS.cachePerformance },
    { id: 'review-theological-alignment', title: 'Review theological alignment scores', role: 'ai-team-lead' },
    { id: 'update-documentation', title: 'Update documentation as needed', role: 'on-call' },
  ],
  monthly: [
    { id: 'optimize-prompts', title: 'Review and optimize AI prompts', role: 'ai-team-lead' },
    { id: 'analyze-user-feedback', title: 'Analyze user feedback', check: CHECKS.userFeedback },
    { id: 'update-cost-budgets', title: 'Update cost budgets', role: 'ai-team-lead' },
    { id: 'update-runbook', title: 'Review and update runbook', role: 'on-call' },
    {
      id: 'disaster-recovery-drill',
      title: 'Conduct disaster recovery drill',
      role: 'devops',
      check: CHECKS.drillPassed,
      checkedSincePatch: DR_DRILL_CHECKED_PATCH,
    },
    { id: 'review-access-controls', title: 'Review access controls', role: 'security' },
  ],
  quarterly: [
    { id: 'major-version-updates', title: 'Major version updates', role: 'devops' },
    { id: 'security-audit', title: 'Security audit', role: 'security' },
    { id: 'performance-review', title: 'Performance optimization review', role: 'ai-team-lead' },
    { id: 'capacity-planning', title: 'Capacity planning', role: 'devops' },
    { id: 'team-training', title: 'Team training updates', role: 'ai-team-lead' },
  ],
};
