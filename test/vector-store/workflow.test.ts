/**
 * rebuildVectorIndex against the local stack's vector-store endpoints (their state changes when a rebuild
 * finishes): a degraded index rebuilt and verified, a rebuild that does not help paging, a healthy store left
 * alone, and bad input refused.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { rebuildVectorIndex } from '../../src/workflows';
import { vectorIndexStatusQuery } from '../../src/workflows/vector-store/messages';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { serveContent, type ContentService } from '../helpers/scrolluniversity-content';
import { rejectsWithCause, uniqueId } from '../helpers/temporal';

describe('vector store remediation (seed 000 Issue 7)', () => {
  let service: ContentService;
  const suite = runbookSuite('aiops_test_vector_store', (receiver) => {
    service = serveContent(receiver);
    return { SCROLLUNIVERSITY_API_URL: receiver.url('') };
  });

  const run = (input: unknown) =>
    suite.env.client.workflow.start(rebuildVectorIndex, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('vector-index'),
      args: [input as never],
    });

  suite.test('rebuilds a degraded index, follows it to the end and verifies with a test query', async () => {
    service.set('vector-store', 'index-degraded');
    const rebuildsBefore = suite.receiver.callsTo('/api/vector-store/rebuild');
    const handle = await run({ requestedBy: 'oncall', reason: 'RAG queries failing' });
    const result = await handle.result();
    assert.equal(result.action, 'rebuilt');
    assert.equal(result.before.store.healthy, false);
    assert.equal(result.before.query.ok, false);
    assert.equal(result.rebuild?.state, 'complete');
    assert.equal(result.after?.store.healthy, true);
    assert.ok((result.after?.query.matches ?? 0) > 0);
    assert.equal(suite.receiver.callsTo('/api/vector-store/rebuild') - rebuildsBefore, 1);
    assert.ok(suite.receiver.callsTo('/api/vector-store/rebuild/status') >= 2, 'the rebuild was followed');
    assert.equal(service.conditions.get('vector-store'), 'healthy');
    assert.equal((await handle.query(vectorIndexStatusQuery)).step, 'done');
    assert.ok(slackTexts(suite.receiver).some((t) => /\[vector-index\] index rebuilt/.test(t)));
  });

  suite.test('pages and fails when the index is still degraded after the rebuild', async () => {
    service.set('vector-store', 'index-degraded-sticky');
    const pagesBefore = pagerDutyEvents(suite.receiver).length;
    const handle = await run({ requestedBy: 'oncall' });
    await rejectsWithCause(handle.result(), /rebuild did not fix the vector store: vector store degraded/);
    assert.equal((await handle.query(vectorIndexStatusQuery)).step, 'escalated');
    const pages = pagerDutyEvents(suite.receiver).slice(pagesBefore);
    assert.ok(pages.some((p) => /rebuild did not fix the vector store/.test(JSON.stringify(p))));
    assert.equal(service.conditions.get('vector-store'), 'index-degraded-sticky');
  });

  suite.test('leaves a healthy store that answers alone', async () => {
    service.set('vector-store', 'healthy');
    const rebuildsBefore = suite.receiver.callsTo('/api/vector-store/rebuild');
    const result = await (await run({})).result();
    assert.equal(result.action, 'none');
    assert.equal(suite.receiver.callsTo('/api/vector-store/rebuild'), rebuildsBefore);
  });

  suite.test('refuses bad input naming the field, before calling the store', async () => {
    const before = suite.receiver.requests.length;
    await rejectsWithCause((await run({ rebuildTimeoutSeconds: 1 })).result(), /rebuildTimeoutSeconds/);
    await rejectsWithCause((await run({ force: 'yes' })).result(), /force/);
    assert.equal(suite.receiver.requests.length, before);
  });
});
