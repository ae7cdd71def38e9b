import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { Redis } from 'ioredis';
import {
  eveningPerformanceReview,
  maintenanceChecklist,
  morningHealthCheck,
  sundayMaintenanceWindow,
} from '../../src/workflows';
import { decisionSignal } from '../../src/workflows/gates/messages';
import { checklistStatusQuery, type ChecklistResult } from '../../src/workflows/checklists/messages';
import type { SundayWindowResult } from '../../src/workflows/sunday-window/messages';
import { loadOptimizations, maintenanceSettings, REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, uniqueId } from '../helpers/temporal';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('a simulated week of maintenance on the time-skipping server', () => {
  const suite = runbookSuite('aiops_test_week', (r, databaseUrl) =>
    maintenanceSettings(r, { databaseUrl, redisDb: REDIS_DB.week }),
  );

  suite.test(
    'runs every daily check, the weekly checklist and the Sunday window, the window inside its two hours',
    async () => {
      const { env, taskQueue } = suite;
      const redis = new Redis(redisUrlFor(REDIS_DB.week));
      try {
        await redis.flushdb();
        await redis.mset('ai:rec:1', 'x', 'ai:rec:2', 'x', 'session:9', 'keep');
        await loadOptimizations(suite.deps.pool, 2_000);

        const start = new Date(await env.currentTimeMs());
        const monday = Date.UTC(
          start.getUTCFullYear(),
          start.getUTCMonth(),
          start.getUTCDate() + ((8 - start.getUTCDay()) % 7 || 7),
        );
        const at = async (ms: number) => {
          const now = await env.currentTimeMs();
          if (ms > now) await env.sleep(ms - now);
        };
        // A plain client waits for results without skipping time: the clock moves only at `at`, so the weekly
        // checklist's 3-day deadline cannot overtake the days in between.
        const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
        const run = <A extends unknown[], T>(workflow: (...args: A) => Promise<T>, args: A, id: string): Promise<T> =>
          plain.workflow.execute(workflow, { taskQueue, workflowId: uniqueId(id), args });

        const daily: ChecklistResult[] = [];
        const mornings: { status: string }[] = [];
        const evenings: { capacity: { action: string; reason: string } }[] = [];
        let sunday: SundayWindowResult | undefined;
        let weekly: WorkflowHandleWithFirstExecutionRunId<typeof maintenanceChecklist> | undefined;

        for (let day = 0; day < 7; day++) {
          const midnight = monday + day * DAY;
          if (day === 6) {
            await at(midnight + 2 * HOUR);
            sunday = await run(sundayMaintenanceWindow, [{}], 'sunday');
          }
          await at(midnight + 8 * HOUR);
          if (day === 0) {
            weekly = await env.client.workflow.start(maintenanceChecklist, {
              taskQueue,
              workflowId: uniqueId('weekly'),
              args: [{ cadence: 'weekly' }],
            });
            await queryUntil(weekly, checklistStatusQuery, (s) =>
              s.gates.some((g) => g.gate === 'analyze-cost-trends'),
            );
            await weekly.signal(decisionSignal, {
              gate: 'analyze-cost-trends',
              decision: 'approve',
              by: 'ai-lead',
              reason: 'spend flat week on week',
            });
          }
          daily.push(await run(maintenanceChecklist, [{ cadence: 'daily' }], 'daily'));
          await at(midnight + 9 * HOUR);
          mornings.push(await run(morningHealthCheck, [{}], 'morning'));
          await at(midnight + 18 * HOUR);
          evenings.push(await run(eveningPerformanceReview, [{}], 'evening'));
        }

        assert.equal(daily.length, 7);
        for (const d of daily) {
          assert.deepEqual(
            d.items.map((i) => i.id),
            [
              'review-overnight-alerts',
              'report-skipped-runs',
              'check-cost-anomalies',
              'verify-backup',
              'review-error-rates',
            ],
          );
          // The dev server's own schedules may or may not have skipped a run; the report must be one, not a failure.
          const skipped = d.items.find((i) => i.id === 'report-skipped-runs')!;
          assert.ok(['ok', 'attention'].includes(skipped.status), JSON.stringify(skipped));
          assert.match(
            skipped.detail,
            /^no scheduled run skipped in 24 h \(\d+ schedules\)$|: \d+ skipped \(overlap\), \d+ missed/,
          );
          assert.equal(d.items.find((i) => i.id === 'check-cost-anomalies')?.status, 'ok');
          assert.equal(d.items.find((i) => i.id === 'review-error-rates')?.status, 'ok');
        }
        assert.deepEqual(
          mornings.map((m) => m.status),
          Array(7).fill('healthy'),
        );
        assert.equal(evenings.length, 7);
        // The fixture has ten optimisations a day and one in the latest 24 hours: a drop the review points out.
        for (const e of evenings) {
          assert.equal(e.capacity.action, 'scale-down');
          assert.match(e.capacity.reason, /^requests are 90% below the average/);
        }

        // The weekly checklist: automatic items checked at once, people's tasks done or missed by their 3-day deadline.
        const week = await weekly!.result();
        const status = Object.fromEntries(week.items.map((i) => [i.id, i.status]));
        assert.equal(status['analyze-cost-trends'], 'done');
        assert.equal(status['review-theological-alignment'], 'missed');
        assert.equal(status['update-documentation'], 'missed');
        assert.equal(status['review-ai-metrics'], 'ok');
        const closedAfter = Date.parse(week.finishedAt) - (monday + 8 * HOUR);
        assert.ok(
          closedAfter >= 3 * DAY && closedAfter < 3 * DAY + 60_000,
          `the missed tasks closed at their 3-day deadline, not ${closedAfter} ms`,
        );

        assert.ok(sunday);
        const sundayStart = monday + 6 * DAY + 2 * HOUR;
        // Started by hand rather than by the schedule, the window counts from the run's start: 04:00 give or take the start-up.
        assert.ok(Math.abs(Date.parse(sunday.windowEnd) - (sundayStart + 2 * HOUR)) < 5_000, sunday.windowEnd);
        assert.ok(Date.parse(sunday.finishedAt) <= Date.parse(sunday.windowEnd));
        assert.deepEqual(
          sunday.steps.map((s) => [s.step, s.status]),
          [
            ['model-update', 'skipped'],
            ['database', 'done'],
            ['cache', 'done'],
          ],
        );
        assert.deepEqual(sunday.remaining, []);
        assert.deepEqual((await redis.keys('*')).sort(), ['session:9']);
      } finally {
        redis.disconnect();
      }
    },
  );
});
