/**
 * Model backups on the dev server with MinIO and the Kubernetes API server: the first copies every object, the next
 * only what changed; a restore follows the manifest into earlier backups; retention keeps what a kept backup shares.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { createActivities } from '../../src/activities';
import { copyObject } from '../../src/activities/backups/model-copy';
import { modelObjectHome, type ModelBackupManifest, type ModelVerificationRecord } from '../../src/contracts/backups';
import type { OwnedDeps } from '../../src/workers/deps';
import type { ModelBackupResult } from '../../src/workflows/backup/messages';
import { modelBackup, pruneModelBackups } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { devServerEnv, replayOwnHistory, uniqueId, workflowBundle } from '../helpers/temporal';
import { emptyPrefix, ensureBucket, keysUnder, uploadsUnder } from './helpers';

const MODELS = 'aiops-test-models';
const BACKUPS = 'aiops-test-model-backups';
const DRILL = { prefix: 'drills/models-test/models/' };

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function bytesOf(s3: S3Client, Bucket: string, Key: string): Promise<Uint8Array> {
  return (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray();
}

/** Every object under a prefix by key relative to it, with the SHA-256 of its bytes. */
async function contents(s3: S3Client, Bucket: string, prefix: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const key of await keysUnder(s3, Bucket, prefix))
    if (!key.slice(prefix.length).startsWith('retraining/'))
      found[key.slice(prefix.length)] = sha(await bytesOf(s3, Bucket, key));
  return found;
}

describe('model backups', () => {
  let env: TestWorkflowEnvironment;
  let deps: OwnedDeps;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueId('model-backup');
  const sourceKeys = Array.from({ length: 25 }, (_, i) =>
    i === 3 ? 'recommendation/v2 final/weights.bin' : `optimization/v${i % 3}/shard-${String(i).padStart(3, '0')}.bin`,
  );
  const sorted = [...sourceKeys].sort();
  const ids: string[] = [];

  const manifestOf = async (backupId: string) =>
    JSON.parse(
      new TextDecoder().decode(await bytesOf(deps.s3, BACKUPS, `models/${backupId}/manifest.json`)),
    ) as ModelBackupManifest;
  const put = (Key: string, Body: string) => deps.s3.send(new PutObjectCommand({ Bucket: MODELS, Key, Body }));
  const runBackup = async () => {
    const handle = await env.client.workflow.start(modelBackup, {
      taskQueue,
      workflowId: uniqueId('model-backup'),
      args: [{}],
    });
    const result = await handle.result();
    await replayOwnHistory(handle);
    ids.push(result.backupId);
    return result;
  };

  before(async () => {
    env = await devServerEnv();
    deps = await testDeps({ S3_BUCKET_MODELS: MODELS, S3_BUCKET_BACKUPS: BACKUPS });
    await ensureBucket(deps.s3, MODELS);
    await ensureBucket(deps.s3, BACKUPS);
    await emptyPrefix(deps.s3, MODELS, '');
    await emptyPrefix(deps.s3, BACKUPS, '');
    for (const [i, Key] of sourceKeys.entries()) await put(Key, `model ${i} `.repeat(100 + i));
    // The retraining's folder is not a served model: never backed up.
    await put('retraining/v9/data.csv', 'rows');
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await deps?.close();
    await env?.teardown();
  });

  it('copies every model object server-side the first time and saves the ConfigMap as YAML, with a manifest', async () => {
    const result = await runBackup();
    assert.equal(result.count, sourceKeys.length);
    assert.deepEqual([result.copied, result.reused, result.base], [sourceKeys.length, 0, undefined]);
    assert.equal(result.configMapSkipped, undefined);

    const manifest = await manifestOf(result.backupId);
    const source = await deps.s3.send(new ListObjectsV2Command({ Bucket: MODELS }));
    assert.deepEqual(
      manifest.objects.map((o) => [o.key, o.size, o.etag, o.storedIn]),
      (source.Contents ?? [])
        .filter((o) => !o.Key!.startsWith('retraining/'))
        .map((o) => [o.Key, o.Size, o.ETag!.replace(/"/g, ''), undefined])
        .sort(),
    );
    assert.equal(manifest.totalBytes, result.totalBytes);
    assert.deepEqual(
      await keysUnder(deps.s3, BACKUPS, `${result.prefix}objects/`),
      sorted.map((k) => `${result.prefix}objects/${k}`),
    );
    const yaml = parse(
      new TextDecoder().decode(await bytesOf(deps.s3, BACKUPS, `${result.prefix}model-config.yaml`)),
    ) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    const live = await createActivities(deps).getConfigMap({ name: 'ai-model-config' });
    assert.equal(yaml.kind, 'ConfigMap');
    assert.equal(yaml.metadata.name, 'ai-model-config');
    assert.deepEqual(yaml.data, live.data);
  });

  it('copies only the objects changed, added or resized since, and points at the earlier copy of the rest', async () => {
    await put(sorted[0], 'retrained weights, same key');
    await put(sorted[10], 'model 0 '.repeat(100)); // another object's bytes: a new ETag, whatever the size
    await put('recommendation/v3/weights.bin', 'a new model');
    await deps.s3.send(new DeleteObjectCommand({ Bucket: MODELS, Key: sorted[20] }));
    const result = await runBackup();
    assert.deepEqual([result.count, result.copied, result.reused, result.base], [25, 3, 22, ids[0]]);

    const changed = [sorted[0], 'recommendation/v3/weights.bin', sorted[10]].sort();
    assert.deepEqual(
      await keysUnder(deps.s3, BACKUPS, `${result.prefix}objects/`),
      changed.map((k) => `${result.prefix}objects/${k}`),
    );
    const manifest = await manifestOf(result.backupId);
    for (const o of manifest.objects) assert.equal(o.storedIn, changed.includes(o.key) ? undefined : ids[0], o.key);
    // Every object's bytes, where the manifest says they are, are the serving model's.
    const serving = await contents(deps.s3, MODELS, '');
    assert.equal(Object.keys(serving).length, manifest.count);
    for (const o of manifest.objects)
      assert.equal(sha(await bytesOf(deps.s3, BACKUPS, modelObjectHome(manifest.backupId, o))), serving[o.key], o.key);
  });

  it('restores a backup by following its manifest, and copies only what differs when restoring over it', async () => {
    const { restoreModels } = createActivities(deps);
    const restore = (backupId: string) =>
      new MockActivityEnvironment().run(restoreModels, { fromPrefix: `models/${backupId}/`, target: DRILL });
    const newer = await restore(ids[1]);
    assert.deepEqual(newer, { count: 25, copied: 25, deleted: 0 });
    assert.deepEqual(await contents(deps.s3, BACKUPS, DRILL.prefix), await contents(deps.s3, MODELS, ''));

    // The first backup differs in 4 keys: 2 changed, 1 deleted since (copied back), 1 added since (deleted).
    const older = await restore(ids[0]);
    assert.deepEqual(older, { count: 25, copied: 3, deleted: 1 });
    const first = await manifestOf(ids[0]);
    const restored = await contents(deps.s3, BACKUPS, DRILL.prefix);
    assert.deepEqual(Object.keys(restored).sort(), first.objects.map((o) => o.key).sort());
    for (const o of first.objects)
      assert.equal(restored[o.key], sha(await bytesOf(deps.s3, BACKUPS, modelObjectHome(first.backupId, o))), o.key);
  });

  it('prunes the backups past the policy once a newer one is verified, keeping the objects the kept ones share', async () => {
    const activities = createActivities(deps);
    const third = await runBackup();
    assert.deepEqual([third.copied, third.reused], [0, 25]);
    assert.deepEqual(await keysUnder(deps.s3, BACKUPS, `${third.prefix}objects/`), []);

    // Nothing is verified yet: nothing goes, whatever the counts say.
    const policy = { daily: 1, weekly: 0, monthly: 0 };
    const unverified = await env.client.workflow.execute(pruneModelBackups, {
      taskQueue,
      workflowId: uniqueId('model-retention'),
      args: [policy],
    });
    assert.deepEqual(unverified.deleted, []);
    assert.equal(unverified.plan.delete.length, 0);

    // A drill restores the second backup and checks it: that is what verifies it.
    await new MockActivityEnvironment().run(activities.restoreModels, {
      fromPrefix: `models/${ids[1]}/`,
      target: DRILL,
    });
    await new MockActivityEnvironment().run(activities.checkRestoredModels, { backupId: ids[1], target: DRILL });
    const record = JSON.parse(
      new TextDecoder().decode(await bytesOf(deps.s3, BACKUPS, `models/${ids[1]}/verification.json`)),
    ) as ModelVerificationRecord;
    assert.equal(record.ok, true);

    const handle = await env.client.workflow.start(pruneModelBackups, {
      taskQueue,
      workflowId: uniqueId('model-retention'),
      args: [policy],
    });
    const result = await handle.result();
    await replayOwnHistory(handle);
    assert.deepEqual(result.plan.keep.map((k) => k.backupId).sort(), [ids[1], ids[2]].sort());
    // The first backup's own copies of the 2 changed objects and the deleted one go, with its ConfigMap; the 22
    // objects the later backups point at stay.
    assert.deepEqual(result.deleted, [{ backupId: ids[0], deletedObjects: 4, sharedKept: 22 }]);
    await assert.rejects(
      deps.s3.send(new HeadObjectCommand({ Bucket: BACKUPS, Key: `models/${ids[0]}/manifest.json` })),
    );
    assert.equal((await keysUnder(deps.s3, BACKUPS, `models/${ids[0]}/`)).length, 22);

    // What remains still restores: the newest backup, followed into the first one's folder, is the serving models.
    await new MockActivityEnvironment().run(activities.restoreModels, {
      fromPrefix: `models/${ids[2]}/`,
      target: DRILL,
    });
    assert.deepEqual(await contents(deps.s3, BACKUPS, DRILL.prefix), await contents(deps.s3, MODELS, ''));
    assert.equal((await activities.findModelBackup({})).backupId, ids[2]);
  });

  it('a retry copies only what the attempt before it did not, and says where it resumed', async () => {
    const { backupModels } = createActivities(deps);
    for (const k of sorted.slice(1, 6)) await put(k, `retrained ${k}`);
    const backupId = '20261125T013000Z-resume';
    const own = `models/${backupId}/objects/`;
    // The killed attempt had copied the first two changed objects before it died.
    for (const k of sorted.slice(1, 3))
      await copyObject(deps.s3, { bucket: MODELS, key: k, size: 1 }, { bucket: BACKUPS, key: `${own}${k}` });
    const modifiedAt = async () =>
      Object.fromEntries(
        ((await deps.s3.send(new ListObjectsV2Command({ Bucket: BACKUPS, Prefix: own }))).Contents ?? []).map((o) => [
          o.Key!.slice(own.length),
          o.LastModified!.getTime(),
        ]),
      );
    const before = await modifiedAt();
    await delay(1100); // the store's times are to the second
    const retry = new MockActivityEnvironment({ heartbeatDetails: { lastKey: sorted[2], copied: 2, reused: 1 } });
    const result = (await retry.run(backupModels, { backupId, workflowId: 'test' })) as ModelBackupResult;
    assert.equal(result.resumedFrom, sorted[2]);
    assert.deepEqual([result.count, result.copied, result.reused], [25, 5, 20]);
    const after = await modifiedAt();
    assert.deepEqual(Object.keys(after).sort(), sorted.slice(1, 6));
    for (const k of sorted.slice(1, 3)) assert.equal(after[k], before[k], `${k} was copied again`);
    for (const k of sorted.slice(3, 6)) assert.ok(after[k] > before[sorted[1]], `${k} was not copied`);
  });

  it('copies an object over the single-copy limit in parts, aborting an upload a killed attempt left', async () => {
    const big = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    await deps.s3.send(new PutObjectCommand({ Bucket: BACKUPS, Key: 'big-source/weights.bin', Body: big }));
    const to = { bucket: BACKUPS, key: 'big-copy/weights.bin' };
    const stale = await deps.s3.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key }));
    assert.ok(stale.UploadId);
    const limits = { singleCopyMaxBytes: 6 * 1024 * 1024, partBytes: 5 * 1024 * 1024 };
    await copyObject(deps.s3, { bucket: BACKUPS, key: 'big-source/weights.bin', size: big.length }, to, limits);
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: to.bucket, Key: to.key }));
    assert.match(head.ETag ?? '', /-3"$/, 'three parts of 5, 5 and 2 MiB');
    assert.equal(sha(await bytesOf(deps.s3, to.bucket, to.key)), sha(big));
    assert.deepEqual(await uploadsUnder(deps.s3, BACKUPS, 'big-copy/', [to.key]), []);
  });
});
