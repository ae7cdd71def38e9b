/**
 * Every Temporal Schedule this project runs, in one table. The start command registers them idempotently;
 * operators pause, trigger and backfill them by ID with `temporal schedule ...` or the Web UI.
 * Times are GMT as in the seeds; UTC is the same clock without daylight saving.
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
}

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
];
