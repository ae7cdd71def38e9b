/**
 * Hostile decisions at the gates of the remediations built on gates/gated-remediation.ts: the query cancel of
 * resolveDatabaseConnections (against this file's own PostgreSQL database) and the faculty reviews of
 * reviewTheologicalAlignment (against the content endpoints served by this file's receiver), reached as their own
 * tests reach them. Each gate is bombarded and sent forged decisions while it waits; none decides it or fails a
 * workflow task, and valid decisions then take the run where they should.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { Client } from 'pg';
import { resolveDatabaseConnections, reviewTheologicalAlignment } from '../../src/workflows';
import { databaseConnectionsStatusQuery } from '../../src/workflows/database-connections/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { theologicalReviewStatusQuery } from '../../src/workflows/theological-review/messages';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import { runbookSuite } from '../helpers/runbook-suite';
import { serveContent, type ContentService } from '../helpers/scrolluniversity-content';
import { queryUntil, replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

describe('the gated remediations against hostile decisions', () => {
  let databaseUrl: string;
  let content: ContentService;
  const suite = runbookSuite('aiops_test_gates_gated', (receiver, url) => {
    databaseUrl = url;
    content = serveContent(receiver);
    // Never exhausted by count: the run goes to the cancel gate for the long query alone.
    return { SCROLLUNIVERSITY_API_URL: receiver.url(''), DATABASE_CONNECTION_ALERT_RATIO: '1' };
  });

  suite.test(
    'resolveDatabaseConnections refuses them all at the cancel gate, then cancels the query once approved',
    async () => {
      // A query that runs until cancelled, on a connection of its own to this file's database.
      const client = new Client({ connectionString: databaseUrl, application_name: 'hostile-export' });
      await client.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const running = client.query('SELECT pg_sleep(600)').then(
        () => 'finished',
        (err: Error) => err.message,
      );
      try {
        await waitUntil('the query to run over a second', async () => {
          const { rows } = await suite.deps.pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND now() - query_start > interval '1.5 seconds'`,
            [pid],
          );
          return rows.length > 0;
        });
        const handle = await suite.env.client.workflow.start(resolveDatabaseConnections, {
          taskQueue: suite.taskQueue,
          workflowId: uniqueId('hostile-db-conn'),
          args: [{ requestedBy: 'oncall', longQuerySeconds: 1 }],
        });
        await assaultGate(suite.env, handle, { gate: 'cancel-queries', by: 'devops' });
        const waiting = await handle.query(databaseConnectionsStatusQuery);
        assert.equal(waiting.step, 'awaiting-cancel', 'nothing sent decided the cancel');
        await handle.executeUpdate(decideUpdate, {
          args: [{ gate: 'cancel-queries', decision: 'approve', by: 'oncall', reason: 'export can rerun' }],
        });
        const result = await handle.result();
        assert.deepEqual(result.cancelled, [pid]);
        assert.equal(result.ok, true);
        assert.match(await running, /canceling statement due to user request/);
        assert.equal(await workflowTaskFailures(handle), 0);
        await replayOwnHistory(handle);
      } finally {
        await suite.deps.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
        await running;
        await client.end();
      }
    },
  );

  suite.test(
    'reviewTheologicalAlignment refuses them all at its review gates, then takes each reviewer decision',
    async () => {
      content.set('theological-checker', 'flagged-content');
      const handle = await suite.env.client.workflow.start(reviewTheologicalAlignment, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('hostile-theology'),
        args: [{ requestedBy: 'oncall', reason: 'hostile drill' }],
      });
      const { gates } = await queryUntil(handle, theologicalReviewStatusQuery, (s) => s.gates.length === 3, 30_000);
      const names = gates.map((g) => g.gate).sort();
      assert.deepEqual(names, [
        'review:essay-feedback-7781',
        'review:lesson-genesis-3-summary',
        'review:quiz-romans-5-q4',
      ]);
      await assaultGate(suite.env, handle, { gate: 'review:quiz-romans-5-q4', by: 'faculty', gates: names });
      const waiting = await handle.query(theologicalReviewStatusQuery);
      assert.deepEqual(waiting.gates.map((g) => g.gate).sort(), names, 'every review still open');
      assert.ok(waiting.reviews.every((r) => r.outcome === undefined));
      for (const gate of names) {
        await handle.executeUpdate(decideUpdate, {
          args: [
            {
              gate,
              decision: gate === 'review:quiz-romans-5-q4' ? 'reject' : 'approve',
              by: 'faculty',
              reason: 'read it',
            },
          ],
        });
      }
      const result = await handle.result();
      assert.deepEqual(result.reviews.map((r) => [r.contentId, r.outcome, r.reviewer]).sort(), [
        ['essay-feedback-7781', 'approved', 'faculty'],
        ['lesson-genesis-3-summary', 'approved', 'faculty'],
        ['quiz-romans-5-q4', 'withdrawn', 'faculty'],
      ]);
      assert.equal(result.after?.flaggedCount, 0);
      assert.equal(await workflowTaskFailures(handle), 0);
      await replayOwnHistory(handle);
    },
  );
});
