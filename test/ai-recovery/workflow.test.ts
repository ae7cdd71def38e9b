/**
 * recoverAiService against MinIO and the Kubernetes API server (the test plays the deployment controller): a
 * recovery that completes, and one failing at each step, whose undos put back exactly what had changed.
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { createActivities, type Activities } from '../../src/activities';
import { recoverAiService } from '../../src/workflows';
import type { RecoveryState } from '../../src/workflows/ai-recovery/messages';
import { keysUnder } from '../backup/helpers';
import { GOOD_DAILY_METRICS } from '../helpers/http-receiver';
import { playDeploymentController, testCluster, type TestCluster } from '../helpers/kube';
import { pagerDutyEvents, slackTexts } from '../helpers/runbook-receiver';
import { runbookSuite } from '../helpers/runbook-suite';
import {
  badDeployOverGoodBackup as deployBadOverGood,
  contentsUnder,
  GOOD_BACKUP_ID,
  RECOVERY_CONFIGMAP,
  RECOVERY_ENGINES,
} from '../helpers/ai-recovery-fixture';
import { uniqueId } from '../helpers/temporal';

const MODELS = 'aiops-test-recovery-models';
const BACKUPS = 'aiops-test-recovery-backups';
const GOOD = {
  'optimization/weights.bin': 'good weights',
  'recommendation/model.onnx': 'good model',
  'shared/vocab.txt': 'vocab',
};
const BAD = {
  'optimization/weights.bin': 'bad weights!',
  'recommendation/model.onnx': 'good model',
  'extra/debris.bin': 'x',
};

describe('recoverAiService', () => {
  let cluster: TestCluster;
  let accuracy = 0.91;
  const suite = runbookSuite('aiops_test_ai_recovery', async (receiver) => {
    cluster = await testCluster('aiops-recovery');
    receiver.route('/ai/metrics/daily', () => ({
      status: 200,
      body: { ...GOOD_DAILY_METRICS, accuracy_rate: accuracy },
    }));
    return {
      K8S_AI_NAMESPACE: cluster.namespace,
      S3_BUCKET_MODELS: MODELS,
      S3_BUCKET_BACKUPS: BACKUPS,
      WEDSYNC_METRICS_URL: receiver.url('/ai/metrics/daily'),
    };
  });
  after(async () => cluster?.destroy());

  /** A good model backup, then a bad deploy on top: bad objects served, ConfigMap at the bad version. */
  async function badDeployOverGoodBackup(): Promise<string> {
    await deployBadOverGood(suite.deps, cluster, { models: MODELS, backups: BACKUPS }, GOOD, BAD);
    accuracy = 0.91;
    return GOOD_BACKUP_ID;
  }

  const restartStamps = async () =>
    Promise.all(
      RECOVERY_ENGINES.map(
        async (name) =>
          (await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace })).spec?.template.metadata
            ?.annotations?.['kubectl.kubernetes.io/restartedAt'],
      ),
    );
  const modelVersion = async () =>
    (await createActivities(suite.deps).getConfigMap({ name: RECOVERY_CONFIGMAP })).data['model.version'];

  async function recoverAndFail(): Promise<RecoveryState> {
    const controller = playDeploymentController(cluster);
    try {
      await suite.env.client.workflow.execute(recoverAiService, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ai-recovery'),
        args: [{ requestedBy: 'oncall', reason: 'test', rolloutTimeoutSeconds: 60 }],
      });
    } catch (err) {
      assert.ok(err instanceof WorkflowFailedError, String(err));
      const cause = err.cause as ApplicationFailure;
      assert.equal(cause.type, 'RecoveryFailed');
      return cause.details![0] as RecoveryState;
    } finally {
      await controller.stop();
    }
    throw new Error('the recovery was expected to fail');
  }

  /** The system exactly as the bad deploy left it. */
  async function assertAsBefore() {
    assert.deepEqual(await contentsUnder(suite.deps.s3, MODELS, ''), BAD);
    assert.equal(await modelVersion(), '2.0-bad');
  }

  suite.test(
    'restores the last known good models and ConfigMap, restarts both engines and validates, timing each step',
    async () => {
      const backupId = await badDeployOverGoodBackup();
      // The retraining's folder at the root is not served models: the recovery neither snapshots nor deletes it.
      const training = { 'retraining/2026-12/data.csv': 'this month', 'retraining/2026-12/models/m.bin': 'candidate' };
      for (const [Key, Body] of Object.entries(training))
        await suite.deps.s3.send(new PutObjectCommand({ Bucket: MODELS, Key, Body }));
      const controller = playDeploymentController(cluster);
      let result;
      try {
        result = await suite.env.client.workflow.execute(recoverAiService, {
          taskQueue: suite.taskQueue,
          workflowId: uniqueId('ai-recovery'),
          args: [{ requestedBy: 'oncall', rolloutTimeoutSeconds: 60 }],
        });
      } finally {
        await controller.stop();
      }
      assert.equal(result.backupId, backupId);
      assert.deepEqual(await contentsUnder(suite.deps.s3, MODELS, ''), { ...GOOD, ...training });
      assert.equal(await modelVersion(), '1.0');
      const stamps = await restartStamps();
      assert.ok(
        stamps.every((s) => s !== undefined && s === stamps[0]),
        `restart stamps ${stamps}`,
      );
      assert.deepEqual(
        result.steps.map((s) => s.step),
        ['snapshot', 'restore-models', 'apply-config', 'restart-engines', 'validate'],
      );
      assert.equal(result.accuracy, 0.91);
      // The models as they were before are kept beside the backups.
      assert.deepEqual(
        await keysUnder(suite.deps.s3, BACKUPS, `${result.snapshotPrefix}objects/`),
        Object.keys(BAD)
          .map((k) => `${result.snapshotPrefix}objects/${k}`)
          .sort(),
      );
      assert.ok(slackTexts(suite.receiver).some((t) => t.includes(`recovered from model backup ${backupId}`)));
    },
  );

  suite.test(
    'a restore that fails part-way puts the serving models back and restarts nothing',
    async () => {
      await badDeployOverGoodBackup();
      const state = await recoverAndFail();
      assert.equal(state.failedStep, 'restore-models');
      assert.deepEqual(state.completed, ['snapshot']);
      assert.deepEqual(state.undone, ['restore-models']);
      assert.equal(state.outcome, 'as-before');
      await assertAsBefore();
      assert.deepEqual(await restartStamps(), [undefined, undefined]);
    },
    {
      // The copy happens, then the store goes away before the check: the models are half the backup's.
      async restoreModels(input) {
        const real = createActivities(suite.deps);
        if (input.fromPrefix.startsWith('models/')) {
          await suite.deps.s3.send(
            new PutObjectCommand({
              Bucket: MODELS,
              Key: 'optimization/weights.bin',
              Body: GOOD['optimization/weights.bin'],
            }),
          );
          throw ApplicationFailure.create({ type: 'UpstreamUnavailable', message: 'S3 went away', nonRetryable: true });
        }
        return real.restoreModels(input);
      },
    } satisfies Partial<Activities>,
  );

  suite.test(
    'a ConfigMap that cannot be applied: the models go back and the ConfigMap stays as it was',
    async () => {
      await badDeployOverGoodBackup();
      const state = await recoverAndFail();
      assert.equal(state.failedStep, 'apply-config');
      assert.deepEqual(state.completed, ['snapshot', 'restore-models']);
      assert.deepEqual(state.undone, ['apply-config', 'restore-models']);
      assert.equal(state.outcome, 'as-before');
      await assertAsBefore();
      assert.deepEqual(await restartStamps(), [undefined, undefined]);
    },
    {
      async applyConfigMap(input) {
        if (input.data['model.version'] === '1.0')
          throw ApplicationFailure.create({ type: 'NotAuthorized', message: 'forbidden', nonRetryable: true });
        return createActivities(suite.deps).applyConfigMap(input);
      },
    } satisfies Partial<Activities>,
  );

  let restartCalls = 0;
  suite.test(
    'a restart that fails on the second engine: models and ConfigMap go back, then both engines restart on them',
    async () => {
      restartCalls = 0;
      await badDeployOverGoodBackup();
      const state = await recoverAndFail();
      assert.equal(state.failedStep, 'restart-engines');
      assert.deepEqual(state.completed, ['snapshot', 'restore-models', 'apply-config']);
      assert.deepEqual(state.undone, ['apply-config', 'restore-models', 'restart-engines']);
      assert.equal(state.outcome, 'as-before');
      await assertAsBefore();
      const stamps = await restartStamps();
      assert.ok(
        stamps.every((s) => s !== undefined && s === stamps[0]),
        `both restarted by the undo: ${stamps}`,
      );
      assert.equal(restartCalls, 4, 'two restarts, the second refused, then two in the undo');
    },
    {
      async rolloutRestart(input) {
        restartCalls++;
        if (restartCalls === 2)
          throw ApplicationFailure.create({ type: 'NotAuthorized', message: 'patch refused', nonRetryable: true });
        return createActivities(suite.deps).rolloutRestart(input);
      },
    } satisfies Partial<Activities>,
  );

  suite.test('an accuracy below the minimum after the restart undoes every step and pages', async () => {
    await badDeployOverGoodBackup();
    accuracy = 0.5;
    const state = await recoverAndFail();
    assert.equal(state.failedStep, 'validate');
    assert.match(state.reason!, /accuracy 0.5 is below 0.85/);
    assert.deepEqual(state.undone, ['apply-config', 'restore-models', 'restart-engines']);
    assert.equal(state.outcome, 'as-before');
    await assertAsBefore();
    const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
    assert.ok(
      pages.some((p) => /failed at validate: .*everything it changed was put back/.test(p.payload?.summary ?? '')),
      JSON.stringify(pages),
    );
  });

  suite.test(
    'an undo that fails is named in the failure and the page: the system is not as it was',
    async () => {
      await badDeployOverGoodBackup();
      accuracy = 0.5;
      const state = await recoverAndFail();
      assert.equal(state.failedStep, 'validate');
      assert.equal(state.outcome, 'changed');
      assert.deepEqual(
        state.notUndone.map((n) => n.step),
        ['apply-config'],
      );
      assert.match(state.notUndone[0].error, /forbidden/);
      assert.deepEqual(state.undone, ['restore-models', 'restart-engines']);
      assert.deepEqual(await contentsUnder(suite.deps.s3, MODELS, ''), BAD);
      assert.equal(await modelVersion(), '1.0', 'the ConfigMap the undo could not put back');
      const pages = pagerDutyEvents(suite.receiver).filter((e) => e.event_action === 'trigger');
      assert.ok(
        pages.some((p) => /NOT put back: apply-config/.test(p.payload?.summary ?? '')),
        JSON.stringify(pages),
      );
    },
    {
      async applyConfigMap(input) {
        if (input.data['model.version'] === '2.0-bad')
          throw ApplicationFailure.create({ type: 'NotAuthorized', message: 'forbidden', nonRetryable: true });
        return createActivities(suite.deps).applyConfigMap(input);
      },
    } satisfies Partial<Activities>,
  );

  suite.test('refuses bad input naming the field, before touching anything', async () => {
    await assert.rejects(
      suite.env.client.workflow.execute(recoverAiService, {
        taskQueue: suite.taskQueue,
        workflowId: uniqueId('ai-recovery'),
        args: [{ backupId: 'latest' }],
      }),
      (err: WorkflowFailedError) => /^backupId: must be a backup id/.test(String(err.cause?.message)),
    );
  });
});
