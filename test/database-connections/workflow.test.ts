/**
 * resolveDatabaseConnections against real PostgreSQL (pg_stat_activity, pg_cancel_backend) and the Kubernetes API
 * server: a long-running query cancelled only after approval, a refused cancel paging, an approved restart that
 * does not bring the connections down paging, and bad input.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { Client } from 'pg';
import { createPostgresActivities } from '../../src/activities/postgres';
import { resolveDatabaseConnections } from '../../src/workflows';
import { databaseConnectionsStatusQuery } from '../../src/workflows/database-connections/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import {
  createDeployment,
  playDeploymentController,
  recordRolloutComplete,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { pagerDutyEvents } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, uniqueId } from '../helpers/temporal';

const DEPLOYMENT = 'scrolluniversity-backend';

describe('database connection remediation (seed 000 Issue 6)', () => {
  let cluster: TestCluster;
  let databaseUrl: string;
  const suite = runbookSuite('aiops_test_db_connections', async (_receiver, url) => {
    databaseUrl = url;
    cluster = await testCluster('aiops-dbconn');
    await createDeployment(cluster, DEPLOYMENT, 2);
    await recordRolloutComplete(cluster, DEPLOYMENT);
    // Never exhausted by count here: the tests that need exhaustion say so through the activity.
    return { K8S_AI_NAMESPACE: cluster.namespace, K8S_DEPLOYMENTS: DEPLOYMENT, DATABASE_CONNECTION_ALERT_RATIO: '1' };
  });
  after(async () => cluster?.destroy());

  /** A query that runs until cancelled, on a connection of its own to the suite's database. */
  async function longQuery() {
    const client = new Client({ connectionString: databaseUrl, application_name: 'report-export' });
    await client.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const running = client.query('SELECT pg_sleep(600)').then(
      () => 'finished',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 1500));
    return {
      pid,
      running,
      async stop() {
        const admin = new Client({ connectionString: databaseUrl });
        await admin.connect();
        await admin.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
        await admin.end();
        await running;
        await client.end();
      },
    };
  }
  const start = (input: Record<string, unknown> = {}) =>
    suite.env.client.workflow.start(resolveDatabaseConnections, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('db-conn'),
      args: [{ requestedBy: 'oncall', longQuerySeconds: 1, ...input } as never],
    });
  const decide = (handle: WorkflowHandle, gate: string, decision: 'approve' | 'reject') =>
    handle.executeUpdate(decideUpdate, { args: [{ gate, decision, by: 'oncall', reason: `${decision} in test` }] });

  suite.test('cancels a long-running query only once approved, then finds the database within its limits', async () => {
    const query = await longQuery();
    try {
      const handle = await start();
      const waiting = await queryUntil(
        handle,
        databaseConnectionsStatusQuery,
        (s) => s.step === 'awaiting-cancel',
        60_000,
      );
      const seen = waiting.before!.longRunning.find((q) => q.pid === query.pid);
      assert.equal(seen?.application, 'report-export');
      assert.match(seen?.preview ?? '', /pg_sleep/);
      assert.ok(waiting.before!.maxConnections > 0);
      await decide(handle, 'cancel-queries', 'approve');
      const result = await handle.result();
      assert.deepEqual(result.cancelled, [query.pid]);
      assert.equal(result.ok, true);
      assert.equal(result.restarted, false);
      assert.match(await query.running, /canceling statement due to user request/);
    } finally {
      await query.stop();
    }
  });

  suite.test('a refused cancel leaves the query running and pages', async () => {
    const query = await longQuery();
    try {
      const pagesBefore = pagerDutyEvents(suite.receiver).length;
      const handle = await start();
      await queryUntil(handle, databaseConnectionsStatusQuery, (s) => s.step === 'awaiting-cancel', 60_000);
      await decide(handle, 'cancel-queries', 'reject');
      await rejectsWithCause(handle.result(), /database connections not back within the limit/);
      const { rows } = await suite.deps.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = $2', [
        query.pid,
        'active',
      ]);
      assert.equal(rows.length, 1, 'the query still runs');
      assert.ok(
        pagerDutyEvents(suite.receiver)
          .slice(pagesBefore)
          .some((e) => /db-connections/.test(e.payload?.summary ?? '')),
      );
    } finally {
      await query.stop();
    }
  });

  suite.test(
    'restarts the backend once approved and pages when the connections stay at the limit',
    async () => {
      const controller = playDeploymentController(cluster);
      try {
        const handle = await start();
        await queryUntil(handle, databaseConnectionsStatusQuery, (s) => s.step === 'awaiting-restart', 60_000);
        const before = await cluster.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace: cluster.namespace });
        await decide(handle, 'restart-backend', 'approve');
        await rejectsWithCause(handle.result(), /not back within the limit: .*restarted true/);
        const afterRestart = await cluster.apps.readNamespacedDeployment({
          name: DEPLOYMENT,
          namespace: cluster.namespace,
        });
        assert.notEqual(
          afterRestart.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
          before.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
        );
      } finally {
        await controller.stop();
      }
    },
    {
      // The pool at its limit: the real figures, read from pg_stat_activity, reported as exhausted.
      databaseConnections: (input) =>
        createPostgresActivities(suite.deps)
          .databaseConnections(input)
          .then((r) => ({ ...r, exhausted: true })),
    },
  );

  suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause((await start({ deployment: 'Not_A_Name' })).result(), /^deployment:/);
    await rejectsWithCause((await start({ longQuerySeconds: 0 })).result(), /^longQuerySeconds:/);
  });

  suite.test('reads pg_stat_activity against max_connections', async () => {
    const report = await createPostgresActivities(suite.deps).databaseConnections({ longQuerySeconds: 1 });
    assert.ok(report.connections >= 1 && report.maxConnections >= report.connections);
    assert.equal(report.exhausted, false, 'the suite sets the alert share to 1');
  });
});
