/**
 * disasterRecoveryDrill against PostgreSQL (a real pg_dump backup, restored by pg_restore), MinIO and the Kubernetes
 * API server (the test plays the deployment controller in the scratch namespace): a drill that passes, one whose
 * recovery fails at a step, and production refused as the drill's target.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { createActivities, type Activities } from '../../src/activities';
import { DRILL_NAMESPACE_LABEL, type DrillInput, type DrillReport } from '../../src/contracts/drills';
import { innermostCause } from '../../src/contracts/failures';
import { disasterRecoveryDrill, recoverAiService } from '../../src/workflows';
import { emptyPrefix, ensureBucket, keysUnder, withPg } from '../backup/helpers';
import { invalidInputNaming } from '../helpers/failures';
import { createDeployment, playDeploymentController, testCluster, type TestCluster } from '../helpers/kube';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import { resultWithin } from '../helpers/chaos';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DB = 'aiops_test_dr_drill';
const MODELS = 'aiops-test-drill-models';
const BACKUPS = 'aiops-test-drill-backups';
const ENGINES = ['ai-optimization-engine', 'ai-recommendation-engine'];
const CONFIGMAP = 'ai-model-config';
const DB_BACKUP = '20261120T010000Z-drilldb';
const MODEL_BACKUP = '20261120T013000Z-drillmodels';
const SERVING = {
  'optimization/weights.bin': 'good weights',
  'recommendation/model.onnx': 'good model',
  'shared/vocab.txt': 'vocab',
};
const RECOVERY_STEPS = ['snapshot', 'restore-models', 'apply-config', 'restart-engines', 'validate'];

async function serving(s3: S3Client): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await keysUnder(s3, MODELS, ''))
    out[key] = await (await s3.send(new GetObjectCommand({ Bucket: MODELS, Key: key }))).Body!.transformToString();
  return out;
}

describe('disasterRecoveryDrill', () => {
  let cluster: TestCluster;
  let scratch: string;
  const adminUrl = localPostgresAdminUrl(DB);
  const suite = runbookSuite(DB, async () => {
    cluster = await testCluster('aiops-drill');
    scratch = `${cluster.namespace}-scratch`;
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      DR_DRILL_NAMESPACE: scratch,
      // ScrollUniversity's production namespace: refused as a drill's too.
      SCROLLUNIVERSITY_NAMESPACE: `${cluster.namespace}-su`,
      S3_BUCKET_MODELS: MODELS,
      S3_BUCKET_BACKUPS: BACKUPS,
      BACKUP_DATABASE_URL: adminUrl,
    };
  });
  after(async () => {
    await cluster?.core.deleteNamespace({ name: scratch }).catch(() => undefined);
    await cluster?.destroy();
  });

  /** The scratch namespace's share of the deployment controller's work. */
  const scratchController = () => playDeploymentController({ ...cluster, namespace: scratch });

  let dbBackupMade = false;
  /**
   * Production as the drill finds it: the engines and the model ConfigMap in the AI namespace, the serving models,
   * a model backup of them, and a verified database backup of a database with rows in it (made once).
   */
  async function production(): Promise<void> {
    const { s3 } = suite.deps;
    const activities = createActivities(suite.deps);
    await ensureBucket(s3, MODELS);
    await ensureBucket(s3, BACKUPS);
    for (const prefix of ['models/', 'recovery/', 'drills/']) await emptyPrefix(s3, BACKUPS, prefix);
    await emptyPrefix(s3, MODELS, '');
    for (const [Key, Body] of Object.entries(SERVING))
      await s3.send(new PutObjectCommand({ Bucket: MODELS, Key, Body }));
    await activities.applyConfigMap({ name: CONFIGMAP, data: { 'model.version': '1.0', threshold: '0.8' } });
    for (const name of ENGINES) {
      await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
      await createDeployment(cluster, name, 2);
    }
    const configMap = await activities.getConfigMap({ name: CONFIGMAP });
    await new MockActivityEnvironment().run(activities.backupModels, {
      backupId: MODEL_BACKUP,
      workflowId: 'test',
      configMap,
    });
    if (!dbBackupMade) {
      await emptyPrefix(s3, BACKUPS, 'postgres/');
      await withPg(adminUrl, (c) =>
        c.query(`INSERT INTO wedding_optimizations (wedding_id, wedding_date, status)
                 SELECT 'w' || g, DATE '2026-06-01' + g, 'completed' FROM generate_series(1, 250) g`),
      );
      await new MockActivityEnvironment().run(activities.dumpDatabase, {
        backupId: DB_BACKUP,
        compressionLevel: 1,
        workflowId: 'test',
      });
      await activities.recordVerification({
        backupId: DB_BACKUP,
        verifiedAt: new Date().toISOString(),
        ok: true,
        problems: [],
        restoreMs: 1,
        workflowId: 'test',
      });
      dbBackupMade = true;
    }
  }

  const productionRestartStamps = async () =>
    Promise.all(
      ENGINES.map(
        async (name) =>
          (await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace })).spec?.template.metadata
            ?.annotations?.['kubectl.kubernetes.io/restartedAt'],
      ),
    );

  /** What the drill may have left in the scratch namespace: none of the copies once it cleaned up. */
  async function scratchObjects(): Promise<string[]> {
    const deployments = await cluster.apps.listNamespacedDeployment({ namespace: scratch });
    const configMaps = await cluster.core.listNamespacedConfigMap({ namespace: scratch });
    return [
      ...deployments.items.map((d) => `deployment/${d.metadata!.name}`),
      ...configMaps.items.filter((c) => c.metadata!.name === CONFIGMAP).map(() => `configmap/${CONFIGMAP}`),
    ];
  }

  const databaseExists = (name: string) =>
    withPg(
      localPostgresAdminUrl(),
      async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
    );

  /** The drill's leftovers in the backup bucket: only its report. */
  const drillKeys = async (report: DrillReport) => [
    ...(await keysUnder(suite.deps.s3, BACKUPS, `drills/${report.drillId}/`)),
    ...(await keysUnder(suite.deps.s3, BACKUPS, 'recovery/')),
  ];

  /** Production made, a drill run to its DrillFailed end with the scratch controller playing, and its report. */
  async function failedDrill(args: DrillInput): Promise<{ handle: WorkflowHandle; report: DrillReport }> {
    await production();
    const controller = scratchController();
    const handle = await suite.env.client.workflow.start(disasterRecoveryDrill, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('dr-drill'),
      args: [args],
    });
    let failure: ApplicationFailure | undefined;
    try {
      await handle.result();
    } catch (err) {
      assert.ok(err instanceof WorkflowFailedError, String(err));
      failure = err.cause as ApplicationFailure;
    } finally {
      await controller.stop();
    }
    assert.equal(failure?.type, 'DrillFailed', String(failure));
    return { handle, report: failure!.details![0] as DrillReport };
  }

  /** The failed drill paged, its summary matching `summary`, and is the newest drill on record, as failed. */
  async function pagedAndRecorded(report: DrillReport, summary: string): Promise<void> {
    const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
    assert.ok(
      pages.some((p) => new RegExp(`drill ${report.drillId} ${summary}`).test(p.payload?.summary ?? '')),
      JSON.stringify(pages),
    );
    const latest = await createActivities(suite.deps).latestDrill();
    assert.equal(latest.last?.drillId, report.drillId);
    assert.equal(latest.last?.passed, false);
  }

  suite.test(
    'recovers into a scratch namespace and a throwaway database, times every step and leaves production and nothing else behind',
    async () => {
      await production();
      const before = suite.receiver.requests.length;
      const controller = scratchController();
      const handle = await suite.env.client.workflow.start(disasterRecoveryDrill, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('dr-drill'),
        args: [{ rolloutTimeoutSeconds: 60, requestedBy: 'oncall' }],
      });
      let report: DrillReport;
      try {
        report = await handle.result();
      } finally {
        await controller.stop();
      }

      assert.equal(report.passed, true, JSON.stringify(report));
      assert.equal(report.withinRto, true);
      assert.equal(report.rtoMinutes, 60);
      assert.equal(report.namespace, scratch);
      assert.deepEqual(
        report.steps.map((s) => s.step),
        [
          'prepare-namespace',
          'restore-database',
          'recover-ai-service',
          'cleanup',
          ...RECOVERY_STEPS.map((s) => `recover-ai-service/${s}`),
        ],
      );
      for (const s of report.steps) {
        assert.ok(s.ok, `${s.step}: ${s.detail}`);
        assert.ok(Number.isInteger(s.durationMs) && s.durationMs >= 0, `${s.step} timed`);
        assert.ok(!Number.isNaN(Date.parse(s.startedAt)), `${s.step} started at a time`);
      }
      const counted = report.steps.filter((s) => s.inRecoveryTime).map((s) => s.step);
      assert.deepEqual(counted, ['restore-database', 'recover-ai-service']);
      assert.equal(
        report.recoveryMs,
        report.steps.filter((s) => s.inRecoveryTime).reduce((n, s) => n + s.durationMs, 0),
      );
      assert.equal(report.database?.backupId, DB_BACKUP);
      assert.ok(report.database!.rows >= 250, `${report.database!.rows} rows restored`);
      assert.equal(report.models.backupId, MODEL_BACKUP);
      assert.deepEqual(report.leftovers, []);

      // Everything scratch is gone: the copies, the throwaway database, the scratch models and their snapshot.
      assert.deepEqual(await scratchObjects(), []);
      const ns = await cluster.core.readNamespace({ name: scratch });
      assert.equal(ns.metadata?.labels?.[DRILL_NAMESPACE_LABEL], 'true', 'the scratch namespace is the drill’s');
      assert.equal(await databaseExists(report.database!.name), false, 'the throwaway database is dropped');
      assert.deepEqual(await drillKeys(report), [`drills/${report.drillId}/report.json`]);

      // Production untouched: no restart stamp, the same models and ConfigMap.
      assert.deepEqual(await productionRestartStamps(), [undefined, undefined]);
      assert.deepEqual(await serving(suite.deps.s3), SERVING);
      const activities = createActivities(suite.deps);
      assert.equal((await activities.getConfigMap({ name: CONFIGMAP })).data['model.version'], '1.0');

      // The record the monthly checklist reads, and the report told, not paged.
      const latest = await activities.latestDrill();
      assert.equal(latest.lastPassed?.drillId, report.drillId);
      assert.ok(
        slackTexts(suite.receiver, before).some((t) => t.includes(`disaster recovery drill ${report.drillId} passed`)),
        JSON.stringify(slackTexts(suite.receiver, before)),
      );
      assert.deepEqual(
        pagerDutyEvents(suite.receiver).filter((e) => /dr-drill/.test(e.payload?.summary ?? '')),
        [],
      );
      await replayOwnHistory(handle);
    },
  );

  suite.test(
    'a recovery that fails at a step still cleans up, pages, and reports which step failed',
    async () => {
      const { handle, report } = await failedDrill({ rolloutTimeoutSeconds: 60 });
      assert.equal(report.passed, false);
      assert.equal(report.failedStep, 'recover-ai-service/restart-engines');
      assert.match(report.reason!, /RecoveryFailed: AI service recovery failed at restart-engines/);
      const byStep = Object.fromEntries(report.steps.map((s) => [s.step, s]));
      assert.equal(byStep['restore-database'].ok, true);
      assert.equal(byStep['recover-ai-service'].ok, false);
      assert.ok(byStep['recover-ai-service/apply-config'], 'the recovery steps that ran are in the report');
      assert.equal(byStep.cleanup.ok, true, byStep.cleanup.detail);

      assert.deepEqual(await scratchObjects(), []);
      assert.equal(await databaseExists(report.database!.name), false);
      assert.deepEqual(await drillKeys(report), [`drills/${report.drillId}/report.json`]);
      assert.deepEqual(await productionRestartStamps(), [undefined, undefined]);

      await pagedAndRecorded(report, 'FAILED at recover-ai-service/restart-engines');
      await replayOwnHistory(handle);
    },
    {
      // The scratch namespace refuses the restart, as a namespace whose role binding is missing would.
      async rolloutRestart(input) {
        if (input.namespace === scratch)
          throw ApplicationFailure.create({ type: 'NotAuthorized', message: 'patch refused', nonRetryable: true });
        return createActivities(suite.deps).rolloutRestart(input);
      },
    } satisfies Partial<Activities>,
  );

  suite.test(
    'a recovery slower than the RTO is a failed drill: reported with its time, paged, and cleaned up all the same',
    async () => {
      const { handle, report } = await failedDrill({ rtoMinutes: 1, rolloutTimeoutSeconds: 60 });
      assert.equal(report.withinRto, false);
      assert.equal(report.passed, false);
      assert.equal(report.failedStep, undefined, 'every step succeeded');
      assert.ok(
        report.steps.every((s) => s.ok),
        JSON.stringify(report.steps),
      );
      const restore = report.steps.find((s) => s.step === 'restore-database')!;
      assert.ok(restore.durationMs >= 2 * 60_000, `the restore's two minutes are counted: ${restore.durationMs} ms`);
      assert.ok(report.recoveryMs > 60_000);
      assert.deepEqual(await scratchObjects(), []);
      assert.equal(await databaseExists(report.database!.name), false);
      await pagedAndRecorded(report, 'MISSED the RTO: recovered in [0-9.]+ min, over the 1 min RTO');
      await replayOwnHistory(handle);
    },
    {
      // The throwaway database's check takes two minutes by the server's clock, as a big database's would.
      async checkRestoredDatabase(input) {
        const checked = await createActivities(suite.deps).checkRestoredDatabase(input);
        await suite.env.sleep(2 * 60_000);
        return checked;
      },
    } satisfies Partial<Activities>,
  );

  suite.test(
    'a drill cancelled mid-recovery puts back and removes everything, and is reported, not paged',
    async () => {
      await production();
      const before = suite.receiver.requests.length;
      const pagesBefore = pagerDutyEvents(suite.receiver).length;
      // No controller in the scratch namespace yet: the recovery's restart waits for a rollout that does not come.
      const handle = await suite.env.client.workflow.start(disasterRecoveryDrill, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('dr-drill'),
        args: [{ rolloutTimeoutSeconds: 120 }],
      });
      // Both engines restarted: the recovery is waiting for their rollouts, no restart is in flight.
      await waitUntil(
        'the recovery restarted both scratch engines',
        async () =>
          (await cluster.apps.listNamespacedDeployment({ namespace: scratch })).items.filter(
            (d) => d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
          ).length,
        (n) => n === ENGINES.length,
        45_000,
      );
      await handle.cancel();
      // Putting things back restarts the scratch engines again and waits for that rollout: played from here on.
      const controller = scratchController();
      try {
        const recovery = suite.env.client.workflow.getHandle(`${handle.workflowId}-recovery`);
        const notes: string[] = [];
        const outcome = await resultWithin(handle, 45_000, notes, [recovery]).then(
          (r) => (r === undefined ? `no result within 45 s: ${notes.join('; ')}` : 'completed'),
          (err: unknown) => err,
        );
        assert.ok(outcome instanceof WorkflowFailedError && outcome.cause instanceof CancelledFailure, String(outcome));
      } finally {
        await controller.stop();
      }

      assert.deepEqual(await scratchObjects(), []);
      assert.deepEqual(await productionRestartStamps(), [undefined, undefined]);
      assert.deepEqual(await serving(suite.deps.s3), SERVING);
      const latest = await createActivities(suite.deps).latestDrill();
      const drillId = latest.last!.drillId;
      const stored = await suite.deps.s3.send(
        new GetObjectCommand({ Bucket: BACKUPS, Key: `drills/${drillId}/report.json` }),
      );
      const report = JSON.parse(await stored.Body!.transformToString()) as DrillReport;
      assert.ok(report.database?.name, 'the throwaway database was made before the cancel');
      assert.equal(await databaseExists(report.database.name), false, 'the throwaway database is dropped');
      assert.equal(latest.last?.passed, false);
      assert.match(latest.last?.failedStep ?? '', /^recover-ai-service/);
      assert.deepEqual(
        [
          ...(await keysUnder(suite.deps.s3, BACKUPS, `drills/${drillId}/`)),
          ...(await keysUnder(suite.deps.s3, BACKUPS, 'recovery/')),
        ],
        [`drills/${drillId}/report.json`],
        'the scratch models and the recovery snapshot are gone; the report stays',
      );
      assert.ok(
        slackTexts(suite.receiver, before).some((t) => t.includes(`drill ${drillId} cancelled at recover-ai-service`)),
        JSON.stringify(slackTexts(suite.receiver, before)),
      );
      assert.deepEqual(
        pagerDutyEvents(suite.receiver)
          .slice(pagesBefore)
          .filter((e) => e.event_action === 'trigger'),
        [],
        'a cancelled drill pages no one',
      );
      await replayOwnHistory(handle);
    },
  );

  suite.test('refuses the production namespace and the serving bucket as its target, naming the field', async () => {
    for (const [args, field] of [
      [{ namespace: cluster.namespace }, 'namespace'],
      [{ namespace: `${cluster.namespace}-su` }, 'namespace'],
      [{ modelBucket: MODELS }, 'modelBucket'],
      [{ rtoMinutes: 0 }, 'rtoMinutes'],
    ] as const) {
      const handle = await suite.env.client.workflow.start(disasterRecoveryDrill, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('dr-drill'),
        args: [args],
      });
      await assert.rejects(
        handle.result(),
        (err: unknown) => invalidInputNaming(field)(innermostCause(err)),
        `${JSON.stringify(args)} refused naming ${field}`,
      );
      await replayOwnHistory(handle);
    }
    // The recovery itself refuses production as a drill's target, before it changes anything.
    const handle = await suite.env.client.workflow.start(recoverAiService, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('ai-recovery'),
      args: [{ target: { namespace: cluster.namespace, models: { prefix: 'drills/x/models/' } } }],
    });
    await assert.rejects(handle.result(), (err: unknown) =>
      invalidInputNaming('target.namespace')(innermostCause(err)),
    );
    await replayOwnHistory(handle);
    // Nothing was copied: the drill refused before its first step.
    assert.deepEqual(await scratchObjects(), []);
  });
});
