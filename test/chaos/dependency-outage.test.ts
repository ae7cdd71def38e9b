/**
 * A dependency goes away in the middle of a step and comes back (a few seconds in `npm test`, 30 s or longer in
 * `npm run chaos`): Redis during the cache purge, PostgreSQL as a crisis starts, the notification service during
 * the couple notices. The worker reaches each through a proxy the test cuts, so the shared servers stay up for
 * the other test files. Counted: the work done once and only once, the run finished, how long after the
 * dependency's return it finished, and that the failing step said so (its attempts and last failure are visible).
 */
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { RESTARTED_AT_ANNOTATION } from '../../src/activities/kubernetes/rollout';
import { backupIdFor } from '../../src/contracts/backups';
import type { PurgeProgress } from '../../src/contracts/maintenance';
import { databaseBackup, pruneBackups, purgeCache, restartDeployment, weddingDayCrisis } from '../../src/workflows';
import { crisisStatusQuery, crisisWorkflowId } from '../../src/workflows/crisis/messages';
import { LATER_PASSES } from '../../src/workflows/crisis/takeover';
import {
  chaosSuite,
  countPaged,
  countRun,
  loadBlobs,
  loadCrisisCouples,
  loadPurgeKeys,
  outage,
  outageSeconds,
  removePurgeKeys,
  resultWithin,
  serverCheckpoint,
  statusWhen,
  tallyBackup,
  tallyPurgeKeys,
  type ScenarioTally,
} from '../helpers/chaos';
import { testConfig } from '../helpers/deps';
import { startFaultProxy } from '../helpers/fault-proxy';
import {
  createDeployment,
  kubeApiUrl,
  kubeconfigThrough,
  playDeploymentController,
  testCluster,
  type TestCluster,
} from '../helpers/kube';
import { REDIS_DB, redisUrlFor } from '../helpers/maintenance';
import {
  CRISIS_PATHS,
  honourIdempotency,
  pagerDutyEvents,
  receiverEnv,
  type NoticeLedger,
} from '../helpers/runbook-receiver';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { backupLeft, emptyPrefix, ensureBucket, uploadsUnder, withPg } from '../backup/helpers';

/** After the dependency is back: the activity's next retry (backoff capped at a minute) and the rest of the step. */
const AFTER_OUTAGE_MS = 180_000;
/** The dump's retries: 10, 20 and 40 s of backoff between its 4 attempts. An S3 outage past them fails the backup. */
const DUMP_RETRIES_MS = 70_000;

/**
 * Waits for every couple told. A long outage outlasts stage 1: the crisis is in stage 2 before the later passes over
 * the failed notices (one every LATER_PASSES.everyMs) reach everyone.
 */
async function everyCoupleTold(ledger: NoticeLedger, couples: number): Promise<void> {
  await waitUntil(
    'every couple told',
    () => new Set(ledger.told).size,
    (n) => n >= couples,
    AFTER_OUTAGE_MS + LATER_PASSES.everyMs,
  ).catch(() => undefined);
}
const DATABASE = 'aiops_test_chaos_outage';
const BACKUP_BUCKET = 'aiops-test-backups';

describe('a dependency down in the middle of a step', () => {
  const outageMs = outageSeconds() * 1000;
  const timeout = outageMs + 2 * AFTER_OUTAGE_MS + LATER_PASSES.everyMs + 120_000;
  const suite = chaosSuite(DATABASE, { redisUrl: redisUrlFor(REDIS_DB.chaos) });
  const proxyFor = async (url: string) => suite.own(await startFaultProxy(Number(new URL(url).port)));
  /** Counts the run: finished (at `finishedAt`, measured from the dependency's return) or stuck. */
  const finish = (tally: ScenarioTally, handle: WorkflowHandle, finishedAt: number | undefined, backAt: number) =>
    countRun(
      tally,
      handle,
      finishedAt !== undefined,
      finishedAt === undefined ? undefined : (finishedAt - backAt) / 1000,
    );

  suite.scenario(
    'Redis down mid purge: the purge resumes once it is back and removes every matching key once',
    { row: `Redis down ${outageSeconds()} s: cache purge (20,000 keys)`, timeout },
    async (tally) => {
      const { deps } = suite;
      const proxy = await proxyFor(redisUrlFor(REDIS_DB.chaos));
      const run = uniqueId('o').slice(-12);
      const keys = 20_000;
      await loadPurgeKeys(deps.redis, run, keys);
      const taskQueue = uniqueId('outage-purge');
      await suite.worker(taskQueue, { REDIS_URL: proxy.via(redisUrlFor(REDIS_DB.chaos)) });
      const handle = await suite.client.workflow.start(purgeCache, {
        taskQueue,
        workflowId: uniqueId('outage-purge'),
        args: [{ pattern: `ai:${run}:*`, scanCount: 20, unlinkBatch: 10 }],
      });
      await waitUntil(
        'the purge a third through',
        async () => ((await serverCheckpoint<PurgeProgress>(handle))?.removed ?? 0) >= keys / 3,
        Boolean,
        120_000,
      );
      const backAt = await outage(tally, proxy, handle, outageMs);
      const result = await resultWithin(handle, AFTER_OUTAGE_MS, tally.notes);
      await replayOwnHistory(handle);
      const left = await tallyPurgeKeys(tally, deps.redis, run, keys);
      await finish(tally, handle, result ? Date.now() : undefined, backAt);
      await removePurgeKeys(deps.redis, run);
      assert.deepEqual(left, { ai: 0, keep: keys });
    },
  );

  suite.scenario(
    'PostgreSQL down as a crisis starts: the emergency alert still goes out, and every couple is told once it is back',
    { row: `PostgreSQL down ${outageSeconds()} s: crisis start (200 couples)`, timeout },
    async (tally) => {
      const { deps, receiver } = suite;
      const couples = 200;
      await loadCrisisCouples(deps.pool, couples);
      const ledger = honourIdempotency(receiver);
      const proxy = await proxyFor(suite.databaseUrl);
      const taskQueue = uniqueId('outage-crisis');
      await suite.worker(taskQueue, { DATABASE_URL: proxy.via(suite.databaseUrl) });
      proxy.cut();
      const before = receiver.requests.length;
      const input = { failure: uniqueId('outage') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      const alerted = () => receiver.requests.slice(before).some((r) => r.path === CRISIS_PATHS.alert);
      // The alert needs no database: it must not wait for one.
      const alertWhileDown = await waitUntil('the emergency alert', alerted, Boolean, outageMs).catch(() => false);
      const backAt = await outage(tally, proxy, handle, outageMs);
      await everyCoupleTold(ledger, couples);
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      tally.lost += couples - new Set(ledger.told).size;
      if (!alertWhileDown) tally.notes.push('the emergency alert waited for the database');
      await finish(tally, handle, status ? Date.now() : undefined, backAt);
      assert.equal(alertWhileDown, true, 'the emergency alert went out while the database was down');
      assert.equal(new Set(ledger.told).size, couples, 'every couple told');
    },
  );

  suite.scenario(
    'the notification service down mid notices: every couple told once after it is back',
    { row: `notification service down ${outageSeconds()} s: couple notices (1,500 couples)`, timeout },
    async (tally) => {
      const { deps, receiver } = suite;
      const couples = 1500;
      await loadCrisisCouples(deps.pool, couples);
      const ledger = honourIdempotency(receiver, 5);
      const proxy = await proxyFor(receiver.url('/'));
      const settings = Object.fromEntries(
        Object.entries(receiverEnv(receiver)).map(([k, v]) => [k, v && proxy.via(v)]),
      ) as NodeJS.ProcessEnv;
      const taskQueue = uniqueId('outage-notices');
      await suite.worker(taskQueue, settings);
      const input = { failure: uniqueId('outage') };
      const handle = await suite.client.workflow.start(weddingDayCrisis, {
        taskQueue,
        workflowId: crisisWorkflowId(input),
        args: [input],
      });
      await waitUntil('a third of the couples told', () => ledger.told.length >= couples / 3, Boolean, 120_000);
      const backAt = await outage(tally, proxy, handle, outageMs);
      await everyCoupleTold(ledger, couples);
      const status = await statusWhen(handle, crisisStatusQuery, (s) => s.stage === 'stage2', AFTER_OUTAGE_MS);
      await handle.terminate('chaos run measured').catch(() => undefined);
      await replayOwnHistory(handle);
      const told = new Set(ledger.told);
      tally.lost += couples - told.size;
      await finish(tally, handle, status ? Date.now() : undefined, backAt);
      assert.equal(told.size, couples, 'every couple told');
      assert.ok(status, 'the crisis reached stage 2');
    },
  );

  suite.scenario(
    "S3 down mid upload: the backup completes once it is back (or, past the dump's retries, fails and pages), no unfinished upload",
    { row: `S3 down ${outageSeconds()} s: database backup upload (80,000 rows)`, timeout },
    async (tally) => {
      const { deps } = suite;
      const adminUrl = localPostgresAdminUrl(DATABASE);
      const prefix = `postgres/${DATABASE}/`;
      await ensureBucket(deps.s3, BACKUP_BUCKET);
      await emptyPrefix(deps.s3, BACKUP_BUCKET, prefix);
      const rows = 80_000;
      await loadBlobs(adminUrl, rows);
      const endpoint = testConfig().s3.endpoint;
      const proxy = await proxyFor(endpoint);
      const taskQueue = uniqueId('outage-backup');
      await suite.worker(taskQueue, {
        BACKUP_DATABASE_URL: adminUrl,
        S3_BUCKET_BACKUPS: BACKUP_BUCKET,
        S3_ENDPOINT: proxy.via(endpoint).replace(/\/$/, ''),
      });
      const pagesBefore = suite.receiver.requests.length;
      const handle = await suite.client.workflow.start(databaseBackup, {
        taskQueue,
        workflowId: uniqueId('outage-backup'),
        args: [{}],
      });
      const described = await handle.describe();
      const backupPrefix = `${prefix}${backupIdFor(described.startTime, described.runId)}/`;
      await waitUntil(
        'the upload under way',
        () => uploadsUnder(deps.s3, BACKUP_BUCKET, prefix, [`${backupPrefix}dump-1.pgdump.zst`]),
        (u) => u.length > 0,
        120_000,
      );
      const backAt = await outage(tally, proxy, handle, outageMs);
      const mayFail = outageMs > DUMP_RETRIES_MS;
      const result = await resultWithin<Awaited<ReturnType<typeof databaseBackup>>>(
        handle,
        AFTER_OUTAGE_MS,
        tally.notes,
      ).catch((err: unknown) => {
        if (mayFail && err instanceof WorkflowFailedError) return err;
        throw err;
      });
      await replayOwnHistory(handle);
      const left = await backupLeft(deps.s3, BACKUP_BUCKET, prefix, backupPrefix);
      try {
        if (result instanceof WorkflowFailedError) {
          const pages = pagerDutyEvents(suite.receiver, pagesBefore).filter(
            (e) => e.event_action === 'trigger' && e.payload?.summary.includes(handle.workflowId),
          );
          countPaged(
            tally,
            `failed past the dump's retries and paged (${pages.length} trigger(s)); ${left.unfinished.length} unfinished uploads left`,
          );
          assert.ok(pages.length > 0, 'the failed backup paged someone');
          assert.equal(left.manifest, undefined, 'no manifest: nothing takes the failed backup for a complete one');
          // What the failed attempts left (an upload S3 was down to abort) is found by the retention run, as an
          // unfinished attempt; it goes once a day old and a newer backup is verified (test/backup/workflow.test.ts).
          const { plan } = await suite.client.workflow.execute(pruneBackups, {
            taskQueue,
            workflowId: uniqueId('outage-prune'),
            args: [{ dryRun: true }],
          });
          const failedId = backupPrefix.slice(prefix.length, -1);
          assert.deepEqual(
            plan.keep.find((k) => k.backupId === failedId)?.why,
            ['unfinished attempt, may still be running'],
            JSON.stringify(plan),
          );
          tally.notes.push(
            `retention finds the failed backup's folder (${left.unfinished.length} unfinished upload(s))`,
          );
          for (const u of left.unfinished)
            await deps.s3.send(
              new AbortMultipartUploadCommand({ Bucket: BACKUP_BUCKET, Key: u.Key, UploadId: u.UploadId }),
            );
          return;
        }
        const backedUp = tallyBackup(tally, left, rows);
        await finish(tally, handle, result ? Date.now() : undefined, backAt);
        assert.deepEqual(
          { keys: left.keys, unfinished: left.unfinished, backedUp },
          { keys: [left.manifest?.key, left.manifestKey], unfinished: [], backedUp: rows },
        );
      } finally {
        await emptyPrefix(deps.s3, BACKUP_BUCKET, prefix);
        await withPg(adminUrl, (c) => c.query('DROP TABLE IF EXISTS blobs'));
      }
    },
  );

  let cluster: TestCluster | undefined;
  after(async () => cluster?.destroy());
  /** The rollout wait's own deadline: a 30-second outage passes inside it, a 10-minute one reaches it. */
  const ROLLOUT_WAIT_SECONDS = 600;

  suite.scenario(
    'the Kubernetes API down mid rollout restart: the restart completes once it is back, one rollout',
    { row: `Kubernetes API down ${outageSeconds()} s: rollout restart`, timeout },
    async (tally) => {
      cluster ??= await testCluster('aiops-chaos-outage');
      const name = 'ai-optimization-engine';
      await createDeployment(cluster, name, 3);
      const generation = async () =>
        (await cluster!.apps.readNamespacedDeployment({ name, namespace: cluster!.namespace })).metadata?.generation ??
        0;
      const before = await generation();
      const proxy = await proxyFor(kubeApiUrl().toString());
      const taskQueue = uniqueId('outage-restart');
      await suite.worker(taskQueue, {
        KUBECONFIG: kubeconfigThrough(proxy.port),
        K8S_AI_NAMESPACE: cluster.namespace,
      });
      const handle = await suite.client.workflow.start(restartDeployment, {
        taskQueue,
        workflowId: uniqueId('outage-restart'),
        args: [{ deployment: name, timeoutSeconds: ROLLOUT_WAIT_SECONDS }],
      });
      // The restart is stamped; the API goes away while the workflow waits for the rollout, which the deployment
      // controller (played here, straight to the API server) finishes only after it is back.
      await waitUntil('the restart stamped', generation, (g) => g > before, 120_000);
      const backAt = await outage(tally, proxy, handle, outageMs);
      const controller = playDeploymentController(cluster);
      let result: Awaited<ReturnType<typeof restartDeployment>> | undefined;
      try {
        result = await resultWithin(handle, AFTER_OUTAGE_MS, tally.notes);
      } finally {
        await controller.stop();
      }
      await replayOwnHistory(handle);
      // The wait rode the outage out inside its own deadline instead of spending its retries on it.
      const events = (await handle.fetchHistory()).events ?? [];
      const waitScheduled = events.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForRollout',
      )?.eventId;
      const waitAttempt = events.find(
        (e) =>
          waitScheduled !== undefined &&
          String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(waitScheduled),
      )?.activityTaskStartedEventAttributes?.attempt;
      const d = await cluster.apps.readNamespacedDeployment({ name, namespace: cluster.namespace });
      const restarts = (d.metadata?.generation ?? 0) - before;
      tally.duplicated += Math.max(0, restarts - 1);
      tally.lost += restarts === 0 ? 1 : 0;
      tally.notes.push(`${restarts} template change(s); the rollout wait finished on attempt ${waitAttempt}`);
      await finish(tally, handle, result ? Date.now() : undefined, backAt);
      assert.equal(restarts, 1, 'one restart');
      if (outageMs < ROLLOUT_WAIT_SECONDS * 1000 - 60_000) {
        assert.equal(waitAttempt, 1, 'the rollout wait outlasted the outage on its first attempt');
      } else {
        // An outage as long as the wait's own deadline ends that attempt as the deadline passes; the retry finds the
        // rollout done once the API is back.
        assert.ok((waitAttempt ?? 0) <= 2, `the rollout wait finished on attempt ${waitAttempt}`);
      }
      assert.equal(d.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION], result?.restartedAt);
    },
  );
});
