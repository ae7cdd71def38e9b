/** The model backup on the dev server with MinIO and the Kubernetes API server: every object and the ConfigMap. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { parse } from 'yaml';
import { createActivities } from '../../src/activities';
import type { ModelBackupManifest } from '../../src/contracts/backups';
import type { OwnedDeps } from '../../src/workers/deps';
import { modelBackup } from '../../src/workflows';
import { testDeps } from '../helpers/deps';
import { devServerEnv, replayOwnHistory, uniqueId, workflowBundle } from '../helpers/temporal';
import { emptyPrefix, ensureBucket, keysUnder } from './helpers';

const MODELS = 'aiops-test-models';
const BACKUPS = 'aiops-test-backups';

describe('model backups', () => {
  let env: TestWorkflowEnvironment;
  let deps: OwnedDeps;
  const sourceKeys = Array.from({ length: 25 }, (_, i) =>
    i === 3 ? 'recommendation/v2 final/weights.bin' : `optimization/v${i % 3}/shard-${String(i).padStart(3, '0')}.bin`,
  );

  before(async () => {
    env = await devServerEnv();
    deps = await testDeps({ S3_BUCKET_MODELS: MODELS, S3_BUCKET_BACKUPS: BACKUPS });
    await ensureBucket(deps.s3, MODELS);
    await ensureBucket(deps.s3, BACKUPS);
    await emptyPrefix(deps.s3, MODELS, '');
    await emptyPrefix(deps.s3, BACKUPS, 'models/');
    for (const [i, Key] of sourceKeys.entries())
      await deps.s3.send(new PutObjectCommand({ Bucket: MODELS, Key, Body: `model ${i} `.repeat(100 + i) }));
  });
  after(async () => {
    await deps?.close();
    await env?.teardown();
  });

  it('copies every model object server-side and saves the ConfigMap as YAML, with a manifest of counts and ETags', async () => {
    const taskQueue = uniqueId('model-backup');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(deps),
    });
    const handle = await env.client.workflow.start(modelBackup, {
      taskQueue,
      workflowId: uniqueId('model-backup'),
      args: [{}],
    });
    const result = await worker.runUntil(handle.result());
    assert.equal(result.count, sourceKeys.length);
    assert.equal(result.configMapSkipped, undefined);

    const manifest = JSON.parse(
      await (
        await deps.s3.send(new GetObjectCommand({ Bucket: BACKUPS, Key: `${result.prefix}manifest.json` }))
      ).Body!.transformToString(),
    ) as ModelBackupManifest;
    const source = await deps.s3.send(new ListObjectsV2Command({ Bucket: MODELS }));
    assert.deepEqual(
      manifest.objects.map((o) => [o.key, o.size, o.etag]).sort(),
      (source.Contents ?? []).map((o) => [o.Key, o.Size, o.ETag!.replace(/"/g, '')]).sort(),
    );
    assert.equal(manifest.totalBytes, result.totalBytes);
    assert.deepEqual(
      await keysUnder(deps.s3, BACKUPS, `${result.prefix}objects/`),
      sourceKeys.map((k) => `${result.prefix}objects/${k}`).sort(),
    );
    const yaml = parse(
      await (
        await deps.s3.send(new GetObjectCommand({ Bucket: BACKUPS, Key: `${result.prefix}model-config.yaml` }))
      ).Body!.transformToString(),
    ) as { kind: string; metadata: { name: string }; data: Record<string, string> };
    const live = await createActivities(deps).getConfigMap({ name: 'ai-model-config' });
    assert.equal(yaml.kind, 'ConfigMap');
    assert.equal(yaml.metadata.name, 'ai-model-config');
    assert.deepEqual(yaml.data, live.data);
    await replayOwnHistory(handle);
  });

  it('resumes after the last key a killed attempt heartbeated and still lists every object', async () => {
    const { backupModels } = createActivities(deps);
    const backupId = '20261125T013000Z-resume';
    const first = new MockActivityEnvironment();
    const beats: { lastKey: string }[] = [];
    first.on('heartbeat', (d: { lastKey: string }) => beats.push(d));
    await first.run(backupModels, { backupId, workflowId: 'test' });
    // A second attempt from the tenth key on: only the keys after it are copied again.
    const sorted = [...sourceKeys].sort();
    const retry = new MockActivityEnvironment({ heartbeatDetails: { lastKey: sorted[9], copied: 10 } });
    const copied: string[] = [];
    retry.on('heartbeat', (d: { lastKey: string }) => copied.push(d.lastKey));
    const result = (await retry.run(backupModels, { backupId, workflowId: 'test' })) as {
      count: number;
      resumedFrom?: string;
    };
    assert.deepEqual(copied, sorted.slice(10));
    assert.equal(result.resumedFrom, sorted[9]);
    assert.equal(result.count, sourceKeys.length);
    assert.equal(beats.length, sourceKeys.length);
  });
});
