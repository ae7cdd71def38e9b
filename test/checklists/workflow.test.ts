import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { maintenanceChecklist } from '../../src/workflows';
import { checklistStatusQuery } from '../../src/workflows/checklists/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { maintenanceSettings, REDIS_DB } from '../helpers/maintenance';
import { slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DAY = 24 * 3_600_000;

describe('the ScrollUniversity maintenance checklists', () => {
  // The checklists only read Redis (INFO), so the week's DB index serves as well as any.
  const suite = runbookSuite('aiops_test_checklists', (r, databaseUrl) =>
    maintenanceSettings(r, { databaseUrl, redisDb: REDIS_DB.week }),
  );

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
      const open = await queryUntil(handle, checklistStatusQuery, (s) => s.gates.length === 5);
      assert.deepEqual(open.gates.map((g) => g.gate).sort(), [
        'disaster-recovery-drill',
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
      for (const id of ['update-cost-budgets', 'disaster-recovery-drill', 'review-access-controls'])
        assert.equal(byId[id].status, 'missed', id);
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
