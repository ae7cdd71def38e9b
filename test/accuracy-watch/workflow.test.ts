import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { Pool } from 'pg';
import { modelAccuracyWatch } from '../../src/workflows';
import { incidentWorkflowId } from '../../src/workflows/incident/messages';
import { monthOf, retrainingWorkflowId } from '../../src/workflows/model-retraining/messages';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, uniqueId } from '../helpers/temporal';

describe('the accuracy watch (seed 002 Issue 2)', () => {
  let pool: Pool;
  const suite = runbookSuite('aiops_test_accuracy_watch', (_r, databaseUrl) => {
    pool = new Pool({ connectionString: databaseUrl });
    return {};
  });
  after(async () => pool?.end());

  /** The last 24 hours' feedback: `accepted` of 100 rows, and older rows that must not count. */
  async function acceptance(accepted: number): Promise<void> {
    await pool.query('DELETE FROM ai_feedback');
    await pool.query(
      `INSERT INTO ai_feedback (recommendation_id, rating, outcome, created_at)
       SELECT g, 4, CASE WHEN g <= $1 THEN 'accepted' ELSE 'rejected' END, now() - interval '1 hour'
         FROM generate_series(1, 100) g
       UNION ALL
       SELECT 1000 + g, 1, 'rejected', now() - interval '30 hours' FROM generate_series(1, 300) g`,
      [accepted],
    );
  }

  /**
   * Runs the watch to its end without awaiting its result: awaiting would let the time-skipping server jump over
   * the started retraining's gate deadlines, and the point is to see that retraining still running.
   */
  async function watch() {
    const h = await suite.env.client.workflow.start(modelAccuracyWatch, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('accuracy-watch'),
      args: [{}],
    });
    const deadline = Date.now() + 30_000;
    while ((await h.describe()).status.name === 'RUNNING') {
      assert.ok(Date.now() < deadline, 'the watch did not finish within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return h.result();
  }

  const running = async (h: WorkflowHandle) => (await h.describe()).status.name === 'RUNNING';

  suite.test('does nothing while acceptance is at 0.85 or above', async () => {
    await acceptance(90);
    const result = await watch();
    assert.equal(result.verdict, 'ok');
    assert.equal(result.acceptance.acceptanceRate, 0.9);
    assert.equal(result.acceptance.feedback, 100);
    assert.equal(result.retraining, undefined);
  });

  suite.test("below 0.85 starts the month's retraining once: a second finding while it runs is refused", async () => {
    await acceptance(83);
    const first = await watch();
    assert.equal(first.verdict, 'retrain');
    const month = monthOf(await suite.env.currentTimeMs());
    assert.deepEqual(first.retraining, { launched: retrainingWorkflowId(month), outcome: 'started' });
    assert.equal(first.incident, undefined);
    const retraining = suite.env.client.workflow.getHandle(retrainingWorkflowId(month));
    assert.ok(await running(retraining));
    const second = await watch();
    assert.deepEqual(second.retraining, { launched: retrainingWorkflowId(month), outcome: 'already-running' });
    await retraining.terminate('test over');
  });

  suite.test('below 0.80 also opens the incident, and a later finding joins it', async () => {
    await acceptance(70);
    const first = await watch();
    assert.equal(first.verdict, 'incident-and-retrain');
    const incidentId = incidentWorkflowId('low-recommendation-accuracy');
    assert.deepEqual(first.incident, { workflowId: incidentId, outcome: 'opened' });
    assert.equal(first.retraining?.outcome, 'started');
    const second = await watch();
    assert.deepEqual(second.incident, { workflowId: incidentId, outcome: 'joined' });
    const incident = suite.env.client.workflow.getHandle(incidentId);
    assert.ok(await running(incident));
    const { events } = await incident.fetchHistory();
    const alerts = events!.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'alert');
    assert.equal(alerts.length, 1);
  });

  suite.test('refuses a window it cannot read, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(modelAccuracyWatch, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('accuracy-watch'),
        args: [{ hours: 0 }],
      }),
      /^hours: must be a whole number from 1 to 168$/,
    );
  });
});
