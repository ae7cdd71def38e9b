/**
 * The AI service recovery's starting point, shared by its workflow tests and its kill scenario: a good model backup
 * (with its ConfigMap), then a bad deploy on top of it, and two engines for the recovery to restart.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { OwnedDeps } from '../../src/workers/deps';
import { emptyPrefix, ensureBucket, keysUnder } from '../backup/helpers';
import { createDeployment, type TestCluster } from './kube';

export const RECOVERY_ENGINES = ['ai-optimization-engine', 'ai-recommendation-engine'];
export const RECOVERY_CONFIGMAP = 'ai-model-config';
export const GOOD_BACKUP_ID = '20261120T013000Z-good';

/** `objects` (key to content) stored in `Bucket`, 16 at a time. */
export async function putObjects(s3: S3Client, Bucket: string, objects: Record<string, string>): Promise<void> {
  const entries = Object.entries(objects);
  for (let i = 0; i < entries.length; i += 16)
    await Promise.all(
      entries.slice(i, i + 16).map(([Key, Body]) => s3.send(new PutObjectCommand({ Bucket, Key, Body }))),
    );
}

/** Every object under `Prefix`, keyed by the rest of its key, with its content. */
export async function contentsUnder(s3: S3Client, Bucket: string, Prefix: string): Promise<Record<string, string>> {
  const keys = await keysUnder(s3, Bucket, Prefix);
  const out: Record<string, string> = {};
  for (let i = 0; i < keys.length; i += 16)
    await Promise.all(
      keys.slice(i, i + 16).map(async (Key) => {
        out[Key.slice(Prefix.length)] = await (
          await s3.send(new GetObjectCommand({ Bucket, Key }))
        ).Body!.transformToString();
      }),
    );
  return out;
}

/**
 * Afresh: `good` served and backed up as GOOD_BACKUP_ID with the ConfigMap at version 1.0, then `bad` served in
 * its place, the ConfigMap at 2.0-bad and both engines made anew.
 */
export async function badDeployOverGoodBackup(
  deps: OwnedDeps,
  cluster: TestCluster,
  buckets: { models: string; backups: string },
  good: Record<string, string>,
  bad: Record<string, string>,
): Promise<void> {
  const { s3 } = deps;
  await ensureBucket(s3, buckets.models);
  await ensureBucket(s3, buckets.backups);
  await emptyPrefix(s3, buckets.backups, '');
  await emptyPrefix(s3, buckets.models, '');
  await putObjects(s3, buckets.models, good);
  const activities = createActivities(deps);
  await activities.applyConfigMap({ name: RECOVERY_CONFIGMAP, data: { 'model.version': '1.0', threshold: '0.8' } });
  const configMap = await activities.getConfigMap({ name: RECOVERY_CONFIGMAP });
  await new MockActivityEnvironment().run(activities.backupModels, {
    backupId: GOOD_BACKUP_ID,
    workflowId: 'fixture',
    configMap,
  });
  await emptyPrefix(s3, buckets.models, '');
  await putObjects(s3, buckets.models, bad);
  await activities.applyConfigMap({
    name: RECOVERY_CONFIGMAP,
    data: { 'model.version': '2.0-bad', threshold: '0.8' },
  });
  for (const name of RECOVERY_ENGINES) {
    await cluster.apps.deleteNamespacedDeployment({ name, namespace: cluster.namespace }).catch(() => undefined);
    await createDeployment(cluster, name, 2);
  }
}
