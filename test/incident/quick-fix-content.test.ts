/** The incident's content quick fixes start their remediation workflows as children: one implementation per fix. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { incidentResponse } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { alertSignal, incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { theologicalReviewStatusQuery } from '../../src/workflows/theological-review/messages';
import { runbookSuite } from '../helpers/runbook-suite';
import { serveContent, type ContentService } from '../helpers/scrolluniversity-content';
import { queryUntil, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

describe('incidentResponse content quick fixes run the remediation workflows', () => {
  let service: ContentService;
  const suite = runbookSuite('aiops_test_quick_fix_content', (receiver) => {
    service = serveContent(receiver);
    return { SCROLLUNIVERSITY_API_URL: receiver.url('') };
  });

  async function choose(fix: string): Promise<WorkflowHandle> {
    const fingerprint = uniqueId('fp');
    const service = 'ai-optimization-engine';
    const handle = await suite.env.client.workflow.signalWithStart(incidentResponse, {
      taskQueue: suite.taskQueue,
      workflowId: incidentWorkflowId(fingerprint),
      args: [{ severity: 'P2', service, summary: 'RAG answers wrong', fingerprint }],
      signal: alertSignal,
      signalArgs: [{ summary: 'RAG answers wrong' }],
    });
    for (const gate of ['acknowledge', 'root-cause']) {
      await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === gate), 60_000);
      await handle.executeUpdate(decideUpdate, {
        args: [{ gate, decision: 'approve', by: 'oncall', reason: `${gate} done` }],
      });
    }
    await queryUntil(handle, incidentStatusQuery, (s) => s.gates.some((g) => g.gate === 'quick-fix'), 60_000);
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'quick-fix', decision: 'approve', by: 'oncall', reason: 'seed fix', choice: fix }],
    });
    return handle;
  }

  suite.test('rebuild-vector-index runs rebuildVectorIndex as a child and records what it did', async () => {
    service.set('vector-store', 'index-degraded');
    const handle = await choose('rebuild-vector-index');
    const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step === 'monitor', 90_000);
    const child = suite.env.client.workflow.getHandle(`${handle.workflowId}/quick-fix`);
    assert.equal((await child.describe()).type, 'rebuildVectorIndex');
    assert.ok(
      s.timeline.some((e) => /quick fix rebuild-vector-index: vector index rebuilt \(rebuild-\d+\)/.test(e.event)),
    );
    assert.equal(service.conditions.get('vector-store'), 'healthy');
    await handle.terminate('drill over');
  });

  suite.test(
    'trigger-theological-review runs reviewTheologicalAlignment as a child with its faculty gates',
    async () => {
      service.set('theological-checker', 'flagged-content');
      const handle = await choose('trigger-theological-review');
      const child = suite.env.client.workflow.getHandle(`${handle.workflowId}/quick-fix`);
      // The child starts once the choice is taken: until then the query finds no workflow.
      const review = await waitUntil(
        'the review child with three gates',
        () => child.query(theologicalReviewStatusQuery).catch(() => undefined),
        (st) => st?.gates.length === 3,
        60_000,
      );
      for (const gate of review!.gates) {
        await child.executeUpdate(decideUpdate, {
          args: [{ gate: gate.gate, decision: 'approve', by: 'faculty', reason: 'sound' }],
        });
      }
      const s = await queryUntil(handle, incidentStatusQuery, (st) => st.step === 'monitor', 60_000);
      assert.ok(s.timeline.some((e) => /3 flagged items reviewed by faculty; alignment 0.78 → 0.96/.test(e.event)));
      await handle.terminate('drill over');
    },
  );
});
