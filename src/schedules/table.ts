/**
 * Every Temporal Schedule this project runs, in one table. The start command (and `npm run schedules --
 * register`) registers them idempotently; operators list, pause, resume, trigger, backfill them and ask which
 * runs were skipped with `npm run schedules`, or use `temporal schedule ...` and the Web UI.
 *
 * Times are GMT as in the seeds; UTC is the same clock without daylight saving, so a run never moves or
 * repeats in March and October. Every entry uses overlap SKIP: a maintenance run still going when the next is
 * due means something is wrong, and a second copy on top of it would only make it worse. Skips are not
 * silent: `npm run schedules -- skipped` and the `reportSkippedRuns` activity report them.
 *
 * Catch-up windows say how late a run may still start after the server was down: long enough to cover a
 * restart or a short outage, short enough that a late run is still the one its slot meant (a daily check run
 * the next morning is not yesterday's check). Never `triggerImmediately` on create: the SDK sends it with
 * ALLOW_ALL whatever the overlap policy says.
 */
import type { ScheduleOverlapPolicy } from '@temporalio/client';

export interface ScheduleDefinition {
  scheduleId: string;
  workflowType: string;
  /** Workflow ID prefix; Temporal appends the scheduled time, so every run has its own ID. */
  workflowId: string;
  args: unknown[];
  cron: string;
  timezone: string;
  overlap: ScheduleOverlapPolicy;
  /** How far back missed runs are still started after an outage. */
  catchupWindow: string;
  note: string;
  /**
   * Skips are this schedule's purpose, not a sign of trouble: it restarts a long-running workflow that has stopped,
   * and every slot while that workflow runs is skipped. Left out of the skipped-runs report the checklists read.
   */
  skipsExpected?: boolean;
}

const scrollUniversityChecklist = (
  scheduleId: string,
  cadence: 'daily' | 'weekly' | 'monthly' | 'quarterly',
  cron: string,
  catchupWindow: string,
  when: string,
): ScheduleDefinition => ({
  scheduleId,
  workflowType: 'maintenanceChecklist',
  workflowId: scheduleId,
  args: [{ cadence }],
  cron,
  timezone: 'UTC',
  overlap: 'SKIP',
  catchupWindow,
  note: `seed 000, Maintenance Procedures: ${cadence[0].toUpperCase()}${cadence.slice(1)} Maintenance (${when}; the seed gives no time)`,
});

export const SCHEDULES: ScheduleDefinition[] = [
  {
    scheduleId: 'wedsync-morning-health-check',
    workflowType: 'morningHealthCheck',
    workflowId: 'wedsync-morning-health-check',
    args: [{}],
    cron: '0 9 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '1 hour',
    note: 'seed 002, Daily Maintenance: Morning Health Check (9:00 AM GMT)',
  },
  {
    scheduleId: 'wedsync-evening-performance-review',
    workflowType: 'eveningPerformanceReview',
    workflowId: 'wedsync-evening-performance-review',
    args: [{}],
    cron: '0 18 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    // Its capacity suggestion is for the next day: still useful a few hours late, not the next morning.
    catchupWindow: '3 hours',
    note: 'seed 002, Daily Maintenance: Evening Performance Review (6:00 PM GMT)',
  },
  {
    scheduleId: 'wedsync-sunday-maintenance',
    workflowType: 'sundayMaintenanceWindow',
    workflowId: 'wedsync-sunday-maintenance',
    args: [{}],
    cron: '0 2 * * 0',
    timezone: 'UTC',
    overlap: 'SKIP',
    // The workflow's deadline is 04:00 counted from its scheduled start; a run starting after 03:00 would
    // have too little of the window left to be worth it, so the next Sunday picks the work up instead.
    catchupWindow: '1 hour',
    note: 'seed 002, Weekly Maintenance: Sunday Maintenance Window (2:00-4:00 AM GMT)',
  },
  {
    scheduleId: 'wedsync-database-backup',
    workflowType: 'databaseBackup',
    workflowId: 'wedsync-database-backup',
    args: [{}],
    // Before the Sunday window (02:00) and the drill (05:00), at the quietest hour the seeds name.
    cron: '0 1 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    // A late backup is still worth having the same day; the next slot is 24 h away.
    catchupWindow: '12 hours',
    note: 'seed 002, Disaster Recovery: Backup Procedures, Database Backups (daily; the seed gives no time)',
  },
  {
    scheduleId: 'wedsync-model-backup',
    workflowType: 'modelBackup',
    workflowId: 'wedsync-model-backup',
    args: [{}],
    cron: '30 1 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '12 hours',
    note: 'seed 002, Disaster Recovery: Backup Procedures, AI Model Backups (daily; the seed gives no time)',
  },
  {
    scheduleId: 'wedsync-backup-verification',
    workflowType: 'verifyBackup',
    workflowId: 'wedsync-backup-verification',
    args: [{}],
    // Four hours after the backup: time for a large dump to finish, so the drill restores today's.
    cron: '0 5 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '12 hours',
    note: 'seed 002, Disaster Recovery: Database Recovery, proven daily by a restore drill (seed 000 daily "verify backup completion")',
  },
  {
    scheduleId: 'wedsync-disaster-recovery-drill',
    workflowType: 'disasterRecoveryDrill',
    workflowId: 'wedsync-disaster-recovery-drill',
    args: [{}],
    // The 1st at 06:00: after the night's backups and restore drill (05:00), before the monthly checklist (08:00)
    // that reads this drill's record.
    cron: '0 6 1 * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    // A drill a day late still proves the month; the checklist allows 35 days between passed drills.
    catchupWindow: '1 day',
    note: 'seed 000, Maintenance Procedures: Monthly Maintenance, "Conduct disaster recovery drill" (1st of the month 06:00 GMT; the seed gives no time)',
  },
  {
    scheduleId: 'wedsync-backup-retention',
    workflowType: 'pruneBackups',
    workflowId: 'wedsync-backup-retention',
    args: [{}],
    // After the drill, so the backup it just proved counts as the newer verified one.
    cron: '0 7 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '1 day',
    note: 'seed 002, Disaster Recovery: Backup Procedures, retention (BACKUP_KEEP_DAILY/WEEKLY/MONTHLY)',
  },
  {
    scheduleId: 'wedsync-model-backup-retention',
    workflowType: 'pruneModelBackups',
    workflowId: 'wedsync-model-backup-retention',
    args: [{}],
    cron: '15 7 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '1 day',
    note: 'seed 002, Disaster Recovery: Backup Procedures, retention of the AI model backups (BACKUP_KEEP_*)',
  },
  {
    scheduleId: 'wedsync-crisis-manager-watch',
    workflowType: 'crisisManagerWatch',
    workflowId: 'wedsync-crisis-manager-watch',
    args: [{}],
    // Keeps one watch running rather than running one every five minutes: SKIP leaves a running watch (continued as
    // new or not) alone and starts one when none runs, so a watch that failed or was terminated is back within
    // five minutes.
    cron: '*/5 * * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    // A missed slot is as good as the next one, five minutes later.
    catchupWindow: '5 minutes',
    note: 'seed 002, Issue 4: Wedding Day Crisis Management Failure (keeps the crisis-manager watch running)',
    skipsExpected: true,
  },
  {
    scheduleId: 'wedsync-ai-fallback-watch',
    workflowType: 'aiFallbackWatch',
    workflowId: 'wedsync-ai-fallback-watch',
    args: [{}],
    // Keeps the one circuit-breaker watch running, as the crisis-manager watch's schedule does.
    cron: '*/5 * * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    catchupWindow: '5 minutes',
    note: 'seed 002, Failover Procedures: Automatic Failover (keeps the circuit-breaker watch running)',
    skipsExpected: true,
  },
  scrollUniversityChecklist('scrolluniversity-daily-checklist', 'daily', '0 8 * * *', '4 hours', 'daily 08:00 GMT'),
  scrollUniversityChecklist('scrolluniversity-weekly-checklist', 'weekly', '0 8 * * 1', '1 day', 'Mondays 08:00 GMT'),
  scrollUniversityChecklist(
    'scrolluniversity-monthly-checklist',
    'monthly',
    '0 8 1 * *',
    '3 days',
    '1st of the month 08:00 GMT',
  ),
  scrollUniversityChecklist(
    'scrolluniversity-quarterly-checklist',
    'quarterly',
    '0 8 1 1,4,7,10 *',
    '7 days',
    '1 January, April, July, October 08:00 GMT',
  ),
  {
    scheduleId: 'wedsync-model-retraining',
    workflowType: 'modelRetraining',
    // The slot's run starts the month's run, model-retraining-YYYY-MM, and ends: one run per month whoever starts it.
    workflowId: 'model-retraining',
    args: [{}],
    // "First Saturday": Temporal ANDs day-of-month and day-of-week (classic cron ORs them), so days 1-7 that are a
    // Saturday is exactly the month's first Saturday (the server lists 2026-12-05, 2027-01-02, 2027-02-06, ...).
    cron: '0 0 1-7 * 6',
    timezone: 'UTC',
    overlap: 'SKIP',
    // Training can start a day late; the A/B test runs for days anyway.
    catchupWindow: '1 day',
    note: 'seed 002, Monthly Maintenance: Model Retraining (First Saturday of each month, 00:00 GMT)',
  },
  {
    scheduleId: 'wedsync-model-accuracy-watch',
    workflowType: 'modelAccuracyWatch',
    workflowId: 'wedsync-model-accuracy-watch',
    args: [{}],
    cron: '30 */6 * * *',
    timezone: 'UTC',
    overlap: 'SKIP',
    // The next slot, six hours on, reads the same 24 hours.
    catchupWindow: '1 hour',
    note: 'seed 002, Issue 2: Low Recommendation Accuracy (the last 24 hours, every 6 hours)',
  },
];

export const scheduleIds = (): string[] => SCHEDULES.map((s) => s.scheduleId);

/** The schedules whose skipped runs mean something went wrong (see `skipsExpected`). */
export const reportedScheduleIds = (): string[] => SCHEDULES.filter((s) => !s.skipsExpected).map((s) => s.scheduleId);
