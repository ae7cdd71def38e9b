import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createActivities } from '../../src/activities';
import type { DrillReport } from '../../src/contracts/drills';
import { maintenanceChecklist } from '../../src/workflows';
import { checklistStatusQuery } from '../../src/workflows/checklists/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { maintenanceSettings, REDIS_DB } from '../helpers/maintenance';
import { slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';
import { emptyPrefix, ensureBucket } from '../backup/helpers';
import { waitUntil } from '../helpers/wait';

const DAY = 24 * 3_600_000;
/** The backup bucket the drills' records are in: this file's own. */
const BACKUPS = 'aiops-test-checklists-backups';

/** A drill's record as disasterRecoveryDrill writes it, finished `daysAgo` days ago. */
function drillRecord(drillId: string, daysAgo: number, passed: boolean): DrillReport {
  const finishedAt = new Date(Date.now() - daysAgo * DAY).toISOString();
  return {
    drillId,
    workflowId: `dr-drill-${drillId}`,
    namespace: 'ai-services-dr-drill',
    models: { bucket: BACKUPS, prefix: `drills/${drillId}/models/` },
    startedAt: finishedAt,
    finishedAt,
    steps: [],
    recoveryMs: 12 * 60_000,
    rtoMinutes: 60,
    withinRto: true,
    passed,
    ...(!passed && { failedStep: 'recover-ai-service/restart-engines', reason: 'NotAuthorized: patch refused' }),
    leftovers: [],
  };
}

describe('the ScrollUniversity maintenance checklists', () => {
  // The checklists only read Redis (INFO), so the week's DB index serves as well as any.
  const suite = runbookSuite('aiops_test_checklists', (r, databaseUrl) =>
    maintenanceSettings(r, { databaseUrl, redisDb: REDIS_DB.week }, { S3_BUCKET_BACKUPS: BACKUPS }),
  );
  before(async () => {
    await ensureBucket(suite.deps.s3, BACKUPS);
    await emptyPrefix(suite.deps.s3, BACKUPS, 'drills/');
  });

  suite.test(
    'the monthly checklist: tasks assigned by role, done, not done, or missed at the 7-day deadline',
    async () => {
      const { env, taskQueue, receiver } = suite;
      const before = receiver.requests.length;
      const handle = await env.client.workflow.start(maintenanceChecklist, {
        taskQueue,
        workflowId: uniqueId('monthly'),
        args: [{ cadence: 'monthly' }],
      });
      // The DR drill is checked from the drills' records now, not asked of devops.
      const open = await queryUntil(handle, checklistStatusQuery, (s) => s.gates.length === 4);
      assert.deepEqual(open.gates.map((g) => g.gate).sort(), [
        'optimize-prompts',
        'review-access-controls',
        'update-cost-budgets',
        'update-runbook',
      ]);
      // Each role is told its own tasks once, with the gate names to answer (the tasks open meanwhile).
      const told = await waitUntil(
        'the team lead told',
        () => slackTexts(receiver, before),
        (texts) => texts.some((t) => t.startsWith('@ai-lead [monthly maintenance] yours by')),
      );
      assert.equal(told.filter((t) => t.startsWith('@ai-lead [monthly maintenance] yours by')).length, 1);
      assert.match(
        told.find((t) => t.startsWith('@ai-lead'))!,
        /Review and optimize AI prompts \(gate optimize-prompts\); Update cost budgets \(gate update-cost-budgets\)/,
      );

      await assert.rejects(
        handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'review-access-controls', decision: 'approve', by: 'devops', reason: 'looked' }],
        }),
        (err: Error) =>
          err instanceof WorkflowUpdateFailedError &&
          /may not decide at gate "review-access-controls" \(allowed: role security\)/.test(String(err.cause?.message)),
      );
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'optimize-prompts', decision: 'approve', by: 'ai-lead', reason: 'shorter system prompt' }],
      });
      await handle.signal(decisionSignal, {
        gate: 'update-runbook',
        decision: 'reject',
        by: 'oncall',
        reason: 'no time this month',
      });
      await queryUntil(handle, checklistStatusQuery, (s) => s.items.some((i) => i.id === 'update-runbook'));

      const startedAt = await env.currentTimeMs();
      await env.sleep(7 * DAY + 60_000);
      const result = await handle.result();
      const byId = Object.fromEntries(result.items.map((i) => [i.id, i]));
      assert.equal(byId['optimize-prompts'].status, 'done');
      assert.equal(byId['optimize-prompts'].by, 'ai-lead');
      assert.equal(byId['update-runbook'].status, 'not-done');
      assert.equal(byId['update-runbook'].detail, 'no time this month');
      for (const id of ['update-cost-budgets', 'review-access-controls']) assert.equal(byId[id].status, 'missed', id);
      assert.equal(byId['disaster-recovery-drill'].kind, 'automatic');
      assert.equal(byId['disaster-recovery-drill'].status, 'attention');
      assert.match(byId['disaster-recovery-drill'].detail, /no disaster recovery drill in .* has passed/);
      assert.equal(byId['analyze-user-feedback'].kind, 'automatic');
      assert.deepEqual(
        result.open.sort(),
        [
          'disaster-recovery-drill',
          'review-access-controls',
          'update-cost-budgets',
          'update-runbook',
          ...(byId['analyze-user-feedback'].status === 'ok' ? [] : ['analyze-user-feedback']),
        ].sort(),
      );
      const closedAfter = Date.parse(result.finishedAt) - startedAt;
      assert.ok(
        closedAfter >= 7 * DAY - 60_000 && closedAfter <= 7 * DAY + 60_000,
        `closed ${closedAfter} ms after the tasks were handed out`,
      );
    },
  );

  suite.test(
    'the monthly DR drill item needs attention when the last passed drill is over 35 days old, and is ok within',
    async () => {
      const { env, taskQueue } = suite;
      const activities = createActivities(suite.deps);
      await emptyPrefix(suite.deps.s3, BACKUPS, 'drills/');
      // Ids begin with the start time, as the drill's do: the failed drill is the newer one.
      await activities.recordDrill(drillRecord('20261001t060000z-old', 40, true));
      await activities.recordDrill(drillRecord('20261101t060000z-failed', 10, false));
      const drillItem = async () => {
        const handle = await env.client.workflow.start(maintenanceChecklist, {
          taskQueue,
          workflowId: uniqueId('monthly-drill'),
          args: [{ cadence: 'monthly' }],
        });
        const status = await queryUntil(handle, checklistStatusQuery, (s) =>
          s.items.some((i) => i.id === 'disaster-recovery-drill'),
        );
        await handle.terminate('the drill item is all this test reads');
        await replayOwnHistory(handle);
        return status.items.find((i) => i.id === 'disaster-recovery-drill')!;
      };

      const stale = await drillItem();
      assert.equal(stale.kind, 'automatic');
      assert.equal(stale.status, 'attention');
      assert.match(stale.detail, /last passed drill 20261001t060000z-old is 40(\.\d+)? days old \(at most 35\)/);
      assert.match(stale.detail, /last drill 20261101t060000z-failed failed at recover-ai-service\/restart-engines/);

      await activities.recordDrill(drillRecord('20261120t060000z-fresh', 3, true));
      const fresh = await drillItem();
      assert.equal(fresh.status, 'ok');
      assert.match(
        fresh.detail,
        /^last passed drill 20261120t060000z-fresh is 3(\.\d+)? days old .*recovered in 12\.0 min, RTO 60 min/,
      );
    },
  );

  suite.test('refuses a cadence it does not have, naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(maintenanceChecklist, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('hourly'),
        args: [{ cadence: 'hourly' as never }],
      }),
      /^cadence: must be one of daily, weekly, monthly, quarterly$/,
    );
    await rejectsWithCause(
      suite.env.client.workflow.execute(maintenanceChecklist, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('extra'),
        args: [{ cadence: 'daily', owner: 'x' } as never],
      }),
      /^owner: is not a field of maintenanceChecklist input$/,
    );
  });
});
