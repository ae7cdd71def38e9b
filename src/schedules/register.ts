/** Registers schedules idempotently: create when absent, bring the existing one in line when present. */
import { Client, ScheduleAlreadyRunning, ScheduleNotFoundError, type ScheduleOptions } from '@temporalio/client';
import type { ScheduleDefinition } from './table';

function toOptions(def: ScheduleDefinition, taskQueue: string): ScheduleOptions {
  return {
    scheduleId: def.scheduleId,
    spec: { cronExpressions: [def.cron], timezone: def.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: def.workflowType,
      workflowId: def.workflowId,
      args: def.args,
      taskQueue,
    },
    policies: { overlap: def.overlap, catchupWindow: def.catchupWindow },
    memo: { note: def.note },
  };
}

export interface RegistrationResult {
  scheduleId: string;
  outcome: 'created' | 'updated';
}

const DESCRIBE_TRIES = 10;

/**
 * An update first describes the schedule, which a server that has just restarted may not answer yet ("Failed to
 * describe schedule" while it loads the schedule's state): tried again for a few seconds before giving up.
 */
async function untilAnswered(update: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await update();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError || attempt >= DESCRIBE_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

export async function registerSchedules(
  client: Client,
  defs: ScheduleDefinition[],
  taskQueue: string,
): Promise<RegistrationResult[]> {
  const results: RegistrationResult[] = [];
  for (const def of defs) {
    const options = toOptions(def, taskQueue);
    try {
      await client.schedule.create(options);
      results.push({ scheduleId: def.scheduleId, outcome: 'created' });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      // Update keeps the schedule's paused state and history; only the definition is replaced.
      await untilAnswered(() =>
        client.schedule.getHandle(def.scheduleId).update((previous) => ({
          ...previous,
          spec: options.spec,
          action: options.action,
          policies: { ...previous.policies, ...options.policies },
        })),
      );
      results.push({ scheduleId: def.scheduleId, outcome: 'updated' });
    }
  }
  return results;
}
