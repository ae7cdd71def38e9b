import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import fc from 'fast-check';
import { incidentResponse, maintenanceChecklist, weddingDayCrisis } from '../../src/workflows';
import { checklistStatusQuery } from '../../src/workflows/checklists/messages';
import { crisisAlertSignal, crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { decideUpdate, decisionSignal } from '../../src/workflows/gates/messages';
import { incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, uniqueId } from '../helpers/temporal';

/** Fixed, so a failure is repeated by the next run; fast-check prints the counterexample it shrank to. */
const SEED = 20261125;

/** Anyone's id but a roster member's, so no generated decision can be a valid one. */
const stranger = fc.oneof(fc.constantFrom('', 'mallory', ' ', 'x'.repeat(5000)), fc.jsonValue());
const anyGate = fc.oneof(fc.constantFrom('resolve', 'acknowledge', 'analyze-cost-trends', 'nope', ''), fc.jsonValue());

/** JSON as a client can send it: anything, and things shaped like a decision with every field possibly wrong. */
const payload = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      gate: anyGate,
      decision: fc.oneof(fc.constantFrom('approve', 'reject', 'maybe'), fc.jsonValue()),
      by: stranger,
      reason: fc.oneof(fc.string(), fc.constant('r'.repeat(100_000)), fc.jsonValue()),
      link: fc.jsonValue(),
      choice: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  // String() throws on these; a handler that formats them with it fails its workflow task.
  fc.constant({ gate: { toString: 1 }, by: { valueOf: 'x' }, decision: { toString: null } }),
);

async function workflowTaskFailures(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

describe('every gate against hostile decisions', () => {
  const suite = runbookSuite('aiops_test_gates');

  /** Sends each generated payload as the signal and as the update: the update must be refused, nothing may fail. */
  async function bombard(handle: WorkflowHandle): Promise<void> {
    await fc.assert(
      fc.asyncProperty(payload, async (p) => {
        await handle.signal(decisionSignal, p as never);
        await assert.rejects(handle.executeUpdate(decideUpdate, { args: [p as never] }), WorkflowUpdateFailedError);
      }),
      { seed: SEED, numRuns: 60 },
    );
    assert.equal(await workflowTaskFailures(handle), 0, 'no payload may fail a workflow task');
  }

  suite.test(
    'weddingDayCrisis refuses them all, takes any alert payload, fails no workflow task, and still resolves',
    async () => {
      const input = { failure: uniqueId('hostile'), weddingId: uniqueId('w').slice(0, 40) };
      const handle = await suite.env.client.workflow.start(weddingDayCrisis, {
        taskQueue: suite.taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      await queryUntil(handle, crisisStatusQuery, (s) => s.gates.some((g) => g.gate === 'resolve'));
      await bombard(handle);
      // An alert joining the run may carry anything: each is counted and shown as bounded text, none fails a task.
      let alerts = 0;
      await fc.assert(
        fc.asyncProperty(payload, async (p) => {
          await handle.signal(crisisAlertSignal, p as never);
          alerts += 1;
        }),
        { seed: SEED, numRuns: 60 },
      );
      const status = await queryUntil(handle, crisisStatusQuery, (s) => s.alerts === alerts);
      assert.ok(status.timeline.every((e) => e.event.length < 1000));
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'resolve', decision: 'approve', by: 'cto', reason: 'drill over' }],
      });
      assert.equal((await handle.result()).resolvedBy, 'cto');
      assert.equal(await workflowTaskFailures(handle), 0);
    },
  );

  suite.test('incidentResponse refuses them all and still takes the acknowledgement', async () => {
    const fingerprint = uniqueId('hostile');
    const handle = await suite.env.client.workflow.start(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P2', service: 'ai-gateway-service', summary: 'hostile drill', fingerprint }],
    });
    await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'acknowledge'));
    await bombard(handle);
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'acknowledge', decision: 'approve', by: 'oncall', reason: 'on it' }],
    });
    const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step !== 'acknowledge');
    assert.equal(s.acknowledgedBy, 'oncall');
    await handle.terminate('drill over');
  });

  suite.test('maintenanceChecklist refuses them all and still records a task done', async () => {
    const handle = await suite.env.client.workflow.start(maintenanceChecklist, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('hostile-weekly'),
      args: [{ cadence: 'weekly' }],
    });
    await queryUntil(handle, checklistStatusQuery, (s) => s.gates.some((g) => g.gate === 'analyze-cost-trends'));
    await bombard(handle);
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'analyze-cost-trends', decision: 'approve', by: 'ai-lead', reason: 'flat' }],
    });
    const s = await queryUntil(handle, checklistStatusQuery, (st) =>
      st.items.some((i) => i.id === 'analyze-cost-trends'),
    );
    assert.equal(s.items.find((i) => i.id === 'analyze-cost-trends')!.status, 'done');
    await handle.terminate('drill over');
  });
});
