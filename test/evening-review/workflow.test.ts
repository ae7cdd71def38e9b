import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateKpi } from '../../src/contracts/kpi';
import { eveningPerformanceReview } from '../../src/workflows';
import { suggestCapacity } from '../../src/workflows/evening-review/workflow';
import { DAILY_METRICS, maintenanceSettings, REDIS_DB } from '../helpers/maintenance';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, uniqueId } from '../helpers/temporal';

describe('the evening capacity suggestion', () => {
  const calm = [evaluateKpi('queueLength', 3), evaluateKpi('responseTimeMs', 800)];

  it('asks for more replicas when the queue is past its target, before anything else', () => {
    const s = suggestCapacity([evaluateKpi('queueLength', 20), evaluateKpi('responseTimeMs', 800)], {
      dailyRequests: [10, 5],
      today: 5,
      baseline: 10,
      change: -0.5,
    });
    assert.deepEqual(s, { action: 'scale-up', reason: 'the request queue is past its target of 10' });
  });

  it('follows the request volume against the average of the days before', () => {
    assert.equal(
      suggestCapacity(calm, { dailyRequests: [100, 100, 130], today: 130, baseline: 100, change: 0.3 }).action,
      'scale-up',
    );
    assert.equal(
      suggestCapacity(calm, { dailyRequests: [100, 100, 50], today: 50, baseline: 100, change: -0.5 }).action,
      'scale-down',
    );
    assert.equal(
      suggestCapacity(calm, { dailyRequests: [100, 100, 90], today: 90, baseline: 100, change: -0.1 }).action,
      'keep',
    );
    assert.equal(suggestCapacity(calm, undefined).action, 'keep');
  });
});

describe('eveningPerformanceReview against its own database', () => {
  const suite = runbookSuite('aiops_test_evening', (r, databaseUrl) =>
    maintenanceSettings(r, { databaseUrl, redisDb: REDIS_DB.week }),
  );

  suite.test(
    "judges accuracy by the day's recommendation acceptance and points out a fall since yesterday",
    async () => {
      const { pool } = suite.deps;
      await pool.query('DELETE FROM ai_feedback');
      // Yesterday 9 of 10 accepted; today 6 of 10: 0.6 is past the 0.8 alert line, and 30 points down.
      await pool.query(
        `INSERT INTO ai_feedback (recommendation_id, rating, outcome, created_at)
       SELECT g, 4, CASE WHEN g <= $1 THEN 'accepted' ELSE 'rejected' END, now() - interval '30 hours' FROM generate_series(1, 10) g
       UNION ALL
       SELECT g, 3, CASE WHEN g <= $2 THEN 'accepted' ELSE 'rejected' END, now() - interval '2 hours' FROM generate_series(1, 10) g`,
        [9, 6],
      );
      const review = await suite.env.client.workflow.execute(eveningPerformanceReview, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('evening'),
        args: [{}],
      });
      assert.equal(review.acceptance.state, 'ok');
      const accuracy = review.kpis.find((k) => k.name === 'accuracyRate')!;
      assert.deepEqual([accuracy.value, accuracy.level], [0.6, 'alert']);
      assert.ok(
        review.findings.includes('acceptance fell from 0.9 to 0.6 since yesterday'),
        JSON.stringify(review.findings),
      );
      const latency = review.kpis.find((k) => k.name === 'responseTimeMs')!;
      assert.deepEqual([latency.value, latency.level], [DAILY_METRICS.response_time_ms, 'ok']);
    },
  );

  suite.test('refuses a trend longer than 90 days, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(eveningPerformanceReview, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('evening'),
        args: [{ trendDays: 365 }],
      }),
      /^trendDays: must be a whole number from 1 to 90$/,
    );
  });
});
