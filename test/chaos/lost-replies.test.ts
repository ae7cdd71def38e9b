/**
 * Replies lost after the write: the dependency applied the request, then the connection dropped before the
 * worker heard back, so the worker retries something that already happened. The notification service applies a
 * request and loses the reply to the first request of every Idempotency-Key; PostgreSQL commits a statement and
 * loses its reply (a proxy that reads the protocol). Counted where the effects land: a couple or an alert told under
 * two keys, rows deleted beyond the eligible ones, audit records written twice.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { pruneOptimizations, rollbackDeployment, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import {
  chaosSuite,
  countRun,
  couplesToldTwice,
  loadCrisisCouples,
  resultWithin,
  statusWhen,
  tallyOptimizations,
} from '../helpers/chaos';
import { startLossyHttpsProxy, startLossyPostgresProxy } from '../helpers/fault-proxy';
import {
  createDeployment,
  kubeApiTls,
  kubeApiUrl,
  kubeconfigThrough,
  playDeploymentController,
  recordRevision,
  recordRevisionReturnedTo,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import type { RecordedRequest } from '../helpers/http-receiver';
import { loadOptimizations } from '../helpers/maintenance';
import { CRISIS_PATHS } from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';

const DEADLINE_MS = 240_000;

describe('replies lost after the write', () => {
  const suite = chaosSuite('aiops_test_chaos_lost');

  /** Applies each request's effect once per key, and loses the reply to the first request of every key. */
  function applyThenLoseFirstReply(path: string): { applied: RecordedRequest[]; lostReplies: number } {
    const ledger = { applied: [] as RecordedRequest[], lostReplies: 0 };
    const seen = new Set<string>();
    suite.receiver.route(path, (req) => {
      const key = String(req.headers['idempotency-key']);
      if (seen.has(key)) return { status: 202, body: { status: 'accepted' } };
      seen.add(key);
      ledger.applied.push(req);
      ledger.lostReplies += 1;
      return { status: 202, loseReply: true };
    });
    return ledger;
  }

  suite.scenario(
    'the crisis with every first reply lost, and audit writes whose reply is lost: each couple and the alert told once',
    { row: 'lost replies: crisis notices and audit writes (300 couples)', timeout: DEADLINE_MS + 120_000 },
    async (tally) => {
      const { deps, receiver, databaseUrl } = suite;
      const couples = 300;
      await loadCrisisCouples(deps.pool, couples);
      const alerts = applyThenLoseFirstReply(CRISIS_PATHS.alert);
      const notices = applyThenLoseFirstReply(CRISIS_PATHS.couple);
      const audit = suite.own(
        await startLossyPostgresProxy(Number(new URL(databaseUrl).port), {
          matches: (sql) => sql.trimStart().startsWith('INSERT INTO audit_log'),
          every: 2,
          limit: 20,
        }),
      );
      const taskQueue = uniqueId('lost-crisis');
      await suite.worker(taskQueue, { DATABASE_URL: audit.via(databaseUrl) });
      const input = { failure: uniqueId('lost') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', DEADLINE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);

      const toldTwice = couplesToldTwice(receiver);
      const alertKeys = new Set(
        receiver.requests.filter((q) => q.path === CRISIS_PATHS.alert).map((q) => q.headers['idempotency-key']),
      );
      const { rows } = await deps.pool.query<{ keys: string; records: string }>(
        `SELECT count(DISTINCT event_key) AS keys, count(*) AS records FROM audit_log WHERE workflow_id = $1`,
        [handle.workflowId],
      );
      tally.duplicated += toldTwice;
      tally.duplicated += alertKeys.size - 1;
      tally.duplicated += Number(rows[0].records) - Number(rows[0].keys);
      tally.lost += couples - notices.applied.length;
      tally.notes.push(`${alerts.lostReplies + notices.lostReplies} HTTP and ${audit.lost} PostgreSQL replies lost`);
      await countRun(tally, handle, status !== undefined);
      assert.ok(status, 'the crisis reached stage 2');
      assert.ok(audit.lost > 0, 'audit replies were lost');
      assert.equal(alertKeys.size, 1, 'every attempt at the alert carried one key');
      assert.equal(notices.applied.length, couples, 'every couple told');
      assert.equal(toldTwice, 0, 'no couple told under two keys');
    },
  );

  suite.scenario(
    'the retention delete whose DELETE replies are lost deletes exactly the eligible rows',
    { row: 'lost replies: retention DELETEs (50,000 rows)', timeout: DEADLINE_MS + 120_000 },
    async (tally) => {
      const { deps, databaseUrl } = suite;
      const fixture = await loadOptimizations(deps.pool, 50_000);
      const proxy = suite.own(
        await startLossyPostgresProxy(Number(new URL(databaseUrl).port), {
          // Each batch's DELETE, which writes its count in the same statement.
          matches: (sql) => sql.includes('DELETE FROM wedding_optimizations'),
          every: 3,
          limit: 5,
        }),
      );
      const taskQueue = uniqueId('lost-prune');
      await suite.worker(taskQueue, { DATABASE_URL: proxy.via(databaseUrl) });
      const handle = await suite.client.workflow.start(pruneOptimizations, {
        taskQueue,
        workflowId: uniqueId('lost-prune'),
        args: [{ targetBatchMs: 5 }],
      });
      const result = await resultWithin<Awaited<ReturnType<typeof pruneOptimizations>>>(
        handle,
        DEADLINE_MS,
        tally.notes,
      );
      await replayOwnHistory(handle);
      const end = await tallyOptimizations(tally, deps.pool, fixture);
      tally.notes.push(
        `${proxy.lost} replies lost; the result counted ${result?.retention.deleted} of ${fixture.eligible} deleted`,
      );
      await countRun(tally, handle, result !== undefined);
      assert.ok(proxy.lost > 0, 'DELETE replies were lost');
      assert.deepEqual(
        { eligibleLeft: end.eligible, total: end.total, counted: result?.retention.deleted },
        { eligibleLeft: 0, total: fixture.total - fixture.eligible, counted: fixture.eligible },
      );
    },
  );

  let cluster: TestCluster | undefined;
  after(async () => cluster?.destroy());

  suite.scenario(
    'a rollout undo whose reply is lost is not undone twice: the Deployment ends on the revision fixed at the start',
    { row: 'lost replies: Kubernetes rollout undo', timeout: DEADLINE_MS + 120_000 },
    async (tally) => {
      cluster ??= await testCluster('aiops-chaos-lost');
      const c = cluster;
      const name = 'ai-recommendation-engine';
      await createDeployment(c, name, 2);
      await recordRevision(c, name, 1, 'wedsync/recommend:1.0.0', 'model 1.0');
      await recordRevision(c, name, 2, 'wedsync/recommend:2.0.0', 'model 2.0');
      await recordRevision(c, name, 3, 'wedsync/recommend:3.0.0', 'model 3.0, the bad release');
      const deploymentPath = `/apis/apps/v1/namespaces/${c.namespace}/deployments/${name}`;
      let renumbered: number | undefined;
      const proxy = suite.own(
        await startLossyHttpsProxy(kubeApiUrl(), kubeApiTls(), {
          // The undo's template write; its reply is lost once the server has applied it.
          matches: (method, path) => method === 'PATCH' && path.split('?')[0] === deploymentPath,
          limit: 1,
          // Meanwhile the deployment controller does what it does on an undo: revision 2's ReplicaSet becomes
          // revision 4 (revision-history "2"), and so does the Deployment.
          afterApplied: async () => void (renumbered = await recordRevisionReturnedTo(c, name, 2)),
        }),
      );
      const taskQueue = uniqueId('lost-undo');
      await suite.worker(taskQueue, { KUBECONFIG: kubeconfigThrough(proxy.port), K8S_AI_NAMESPACE: c.namespace });
      const controller = playDeploymentController(c);
      let result: Awaited<ReturnType<typeof rollbackDeployment>> | undefined;
      const handle = await suite.client.workflow.start(rollbackDeployment, {
        taskQueue,
        workflowId: uniqueId('lost-undo'),
        args: [{ deployment: name, timeoutSeconds: 60 }],
      });
      try {
        result = await resultWithin(handle, DEADLINE_MS, tally.notes);
      } finally {
        await controller.stop();
      }
      await replayOwnHistory(handle);
      const d = await c.apps.readNamespacedDeployment({ name, namespace: c.namespace });
      const image = d.spec?.template.spec?.containers[0].image;
      const templateWrites = proxy.requests.filter((r) => r.method === 'PATCH' && r.status < 300).length;
      // A second template write is a second undo; a Deployment off revision 2's image went somewhere else.
      tally.duplicated += Math.max(0, templateWrites - 1);
      tally.lost += image === 'wedsync/recommend:2.0.0' ? 0 : 1;
      tally.notes.push(
        `${proxy.lost} reply lost; ${templateWrites} template write(s); ends on ${image} (revision ${d.metadata?.annotations?.['deployment.kubernetes.io/revision']})`,
      );
      await countRun(tally, handle, result !== undefined);
      assert.equal(proxy.lost, 1, 'the undo’s reply was lost');
      assert.deepEqual(
        {
          image,
          revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'],
          templateWrites,
          toRevision: result?.toRevision,
          changedOnRetry: result?.changed,
        },
        {
          image: 'wedsync/recommend:2.0.0',
          revision: String(renumbered),
          templateWrites: 1,
          toRevision: 2,
          changedOnRetry: false,
        },
      );
    },
  );
});
