/**
 * highResponseTimesRemediation against the API server (a namespace of this file's own standing in for `ai-services`),
 * a demo API of this file's own (its `/ai/metrics/daily` slow until the engines are scaled), Redis database 9 and
 * this file's own PostgreSQL database: the engines scaled once approved and a corrupted cache purged and warmed; a
 * slowness the scale-up does not clear pages with the slowest statements; a refusal scales nothing; bad input names
 * its field; and the pg_stat_statements read against the real server.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { startDemoApi, type DemoApi } from '../../scripts/lib/demo-api';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { createStatementActivities, STATEMENT_PREVIEW } from '../../src/activities/postgres/statements';
import { highResponseTimesRemediation } from '../../src/workflows';
import { decideUpdate } from '../../src/workflows/gates/messages';
import type {
  HighResponseTimesInput,
  HighResponseTimesResult,
} from '../../src/workflows/remediation-wedsync/high-response-times/messages';
import { remediationStatusQuery } from '../../src/workflows/remediation/messages';
import { testDatabase } from '../helpers/databases';
import { kubeconfigPath, testCluster, type TestCluster } from '../helpers/kube';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { queryUntil, rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';
import { freshWedsyncEngines, WEDSYNC_ENGINES } from '../helpers/wedsync-engines';

const GATE = 'scale-ai-engines';

describe('highResponseTimesRemediation (seed 002 Issue 1)', () => {
  let cluster: TestCluster;
  let demo: DemoApi;
  const redis = new Redis(redisUrlFor(REDIS_DB.wedsyncSlow), { lazyConnect: true });
  const suite = runbookSuite('aiops_test_wedsync_slow', async (_receiver, databaseUrl) => {
    cluster = await testCluster('aiops-ws-slow');
    demo = await startDemoApi(databaseUrl, 0, join(tmpdir(), `demo-api-ws-slow-${randomUUID()}.log`), {
      kubeconfig: kubeconfigPath(),
      aiNamespace: cluster.namespace,
    });
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      WEDSYNC_METRICS_URL: `${demo.url}/ai/metrics/daily`,
      CACHE_WARMUP_URLS: `${demo.url}/ai/health`,
      REDIS_URL: redisUrlFor(REDIS_DB.wedsyncSlow),
    };
  });
  after(async () => {
    redis.disconnect();
    await demo?.close();
    await cluster?.destroy();
  });

  const input: HighResponseTimesInput = { requestedBy: 'oncall', settleSeconds: 60 };

  /** Both engines made anew at 3 replicas, the optimization engine switched into `condition`, the cache filled. */
  async function freshEngines(condition: string, sticky = false) {
    await freshWedsyncEngines(cluster, demo.url, condition, sticky);
    await redis.flushdb();
    await redis.mset('ai:recommendation:1', 'stale', 'ai:recommendation:2', 'stale', 'session:1', 'keep');
  }

  const replicas = async () =>
    Promise.all(
      WEDSYNC_ENGINES.map(
        async (name) =>
          (await cluster.apps.readNamespacedDeploymentScale({ name, namespace: cluster.namespace })).spec?.replicas,
      ),
    );

  const start = (raw: unknown) =>
    suite.env.client.workflow.start(highResponseTimesRemediation, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('ws-slow'),
      args: [raw as HighResponseTimesInput],
    });

  /** Starts the workflow and decides its gate once it opens; returns the handle and the result. */
  async function runDeciding(raw: HighResponseTimesInput, decision: 'approve' | 'reject', reason = 'go') {
    const handle = await start(raw);
    await queryUntil(handle, remediationStatusQuery, (s) => s.gates.some((g) => g.gate === GATE), 30_000);
    assert.deepEqual(await replicas(), [3, 3], 'nothing is scaled before the gate is decided');
    await handle.executeUpdate(decideUpdate, { args: [{ gate: GATE, decision, by: 'oncall', reason }] });
    return { handle, result: (await handle.result()) as HighResponseTimesResult };
  }

  suite.test(
    'scales both engines once approved, purges and warms a corrupted cache, and is under 10 s again',
    async () => {
      await freshEngines('slow');
      const { handle, result } = await runDeciding({ ...input, severity: 'P2', cacheCorrupted: true }, 'approve');
      assert.equal(result.outcome, 'fixed');
      assert.equal(result.before.responseTimeMs, 12000);
      assert.equal(result.after?.responseTimeMs, 250);
      assert.deepEqual(await replicas(), [10, 8]);
      assert.deepEqual(result.actions, [
        'scaled ai-optimization-engine from 3 to 10 replicas',
        'scaled ai-recommendation-engine from 3 to 8 replicas',
        'AI cache purged: 2 keys matching ai:*',
        'cache warm-up: 1 of 1 calls answered',
      ]);
      assert.deepEqual((await redis.keys('*')).sort(), ['session:1'], 'only the ai:* keys were purged');
      assert.ok(result.findings.some((f) => f.startsWith(`pods in ${cluster.namespace}: 0`)));
      assert.ok(result.findings.some((f) => /^database: \d+ active of \d+ connections/.test(f)));
      assert.ok(result.findings.some((f) => f.startsWith('slowest statements by mean time (pg_stat_statements): 1) ')));
      assert.ok(result.slowStatements.length > 0);
      assert.ok(slackTexts(suite.receiver).some((t) => /response time 12000 ms → 250 ms/.test(t)));
      assert.ok(!pagerDutyEvents(suite.receiver).some((e) => /response time still/.test(e.payload?.summary ?? '')));
      await replayOwnHistory(handle);
    },
  );

  suite.test('a slowness the scale-up does not clear pages with the findings and the slowest statements', async () => {
    await freshEngines('slow', true);
    const { handle, result } = await runDeciding({ ...input, severity: 'P1' }, 'approve');
    assert.equal(result.outcome, 'escalated');
    assert.equal(result.after?.responseTimeMs, 12000);
    assert.deepEqual(await replicas(), [10, 8]);
    assert.equal((await redis.keys('ai:*')).length, 2, 'a cache not reported corrupted is left alone');
    const pages = pagerDutyEvents(suite.receiver)
      .filter((e) => e.event_action === 'trigger')
      .map((e) => e.payload?.summary ?? '');
    assert.ok(
      pages.some(
        (p) =>
          // 12 s against the 5 s target is over 25 % worse: seed 002's Level 3, which pages.
          /Level 3 critical: response time still 12000 ms after scaled ai-optimization-engine from 3 to 10 replicas/.test(
            p,
          ) && /slowest statements by mean time \(pg_stat_statements\)/.test(p),
      ),
      JSON.stringify(pages),
    );
    await replayOwnHistory(handle);
  });

  suite.test('a refusal at the gate scales nothing, purges nothing and tells the responders', async () => {
    await freshEngines('slow');
    const { handle, result } = await runDeciding({ ...input, cacheCorrupted: true }, 'reject', 'wedding day peak');
    assert.equal(result.outcome, 'refused');
    assert.deepEqual(result.actions, []);
    assert.deepEqual(await replicas(), [3, 3]);
    assert.equal((await redis.keys('ai:*')).length, 2);
    assert.ok(
      slackTexts(suite.receiver).some((t) =>
        /scale ai-optimization-engine to 10 and ai-recommendation-engine to 8, then purge and warm the AI cache not approved by oncall: wedding day peak/.test(
          t,
        ),
      ),
    );
    await replayOwnHistory(handle);
  });

  suite.test('a response time under the threshold changes nothing', async () => {
    await freshEngines('healthy');
    const handle = await start({ ...input, cacheCorrupted: true });
    const result = (await handle.result()) as HighResponseTimesResult;
    assert.equal(result.outcome, 'not-needed');
    assert.equal(result.before.responseTimeMs, 250);
    assert.deepEqual(await replicas(), [3, 3]);
    assert.equal((await redis.keys('ai:*')).length, 2);
    await replayOwnHistory(handle);
  });

  suite.test('refuses bad input naming the field', async () => {
    await rejectsWithCause(
      suite.env.client.workflow.execute(highResponseTimesRemediation, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ws-slow'),
        args: [{ ...input, optimizationReplicas: 50 }],
      }),
      /^optimizationReplicas: must be a whole number from 1 to 20/,
    );
    await rejectsWithCause(
      suite.env.client.workflow.execute(highResponseTimesRemediation, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ws-slow'),
        args: [{ ...input, responseTimeThresholdMs: 'fast' } as unknown as HighResponseTimesInput],
      }),
      /^responseTimeThresholdMs: must be a whole number/,
    );
  });
});

describe('slowStatements (pg_stat_statements) against the real server', () => {
  let pool: Pool;
  let admin: Pool;
  let adminHere: Pool;
  before(async () => {
    const url = await testDatabase('aiops_test_wedsync_slow_statements');
    pool = new Pool({ connectionString: url, max: 2 });
    // The server's maintenance database: bootstrap never installs the extension there.
    admin = new Pool({ connectionString: localPostgresAdminUrl(), max: 1 });
    const here = new URL(localPostgresAdminUrl());
    here.pathname = new URL(url).pathname;
    adminHere = new Pool({ connectionString: here.toString(), max: 1 });
  });
  after(async () => {
    await pool?.end();
    await admin?.end();
    await adminHere?.end();
  });

  it('returns this database’s statements, slowest mean first, normalised and cut to the preview length', async () => {
    // The statistics outlive a run (the server's data directory is kept): start from none, for this database only.
    await adminHere.query(
      'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)',
    );
    for (let i = 0; i < 3; i++) await pool.query('SELECT pg_sleep($1), $2::int AS ws_slow_marker', [0.3, i]);
    for (let i = 0; i < 5; i++) await pool.query('SELECT count(*) FROM wedding_optimizations WHERE status = $1', ['x']);
    const columns = Array.from({ length: 40 }, (_, i) => `${i} AS ws_slow_long_column_${i}`).join(', ');
    await pool.query(`SELECT pg_sleep(0.15), ${columns}`);

    const report = await createStatementActivities({ pool }).slowStatements({ limit: 10 });
    assert.ok(report.available, JSON.stringify(report));
    const { statements } = report;
    assert.ok(statements.length > 0 && statements.length <= 10);
    const means = statements.map((s) => s.meanTimeMs);
    assert.deepEqual(
      means,
      [...means].sort((a, b) => b - a),
      'ordered by mean time, slowest first',
    );
    const sleep = statements.find((s) => s.query.includes('ws_slow_marker'));
    assert.ok(sleep, JSON.stringify(statements));
    assert.equal(statements[0], sleep, 'the 300 ms sleep is the slowest');
    assert.equal(sleep.calls, 3);
    assert.ok(sleep.meanTimeMs >= 300 && sleep.totalTimeMs >= 900, JSON.stringify(sleep));
    assert.match(sleep.query, /pg_sleep\(\$1\)/, 'pg_stat_statements text, constants as placeholders');
    const cut = statements.find((s) => s.query.includes('ws_slow_long_column_0'));
    assert.ok(cut, JSON.stringify(statements));
    assert.equal(cut.query.length, STATEMENT_PREVIEW);
    assert.doesNotMatch(cut.query, /ws_slow_long_column_39/);
    assert.ok(statements.every((s) => s.query.length <= STATEMENT_PREVIEW));
  });

  it('reports a database without the extension as a finding, not a failure', async () => {
    const report = await createStatementActivities({ pool: admin }).slowStatements();
    assert.deepEqual(report, {
      available: false,
      reason: 'pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)',
    });
  });

  it('refuses a limit out of bounds naming it', async () => {
    await assert.rejects(createStatementActivities({ pool }).slowStatements({ limit: 0 }), {
      type: 'InvalidInput',
      message: 'limit: must be a whole number from 1 to 100',
    });
  });
});
