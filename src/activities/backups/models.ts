/**
 * Seed 002 "AI Model Backups":
 *
 *   aws s3 sync s3://wedsync-ai-models/ $BACKUP_PATH/models/
 *   kubectl get configmap ai-model-config -o yaml > $BACKUP_PATH/model-config.yaml
 *   echo "Models: $(ls -1 $BACKUP_PATH/models/ | wc -l)" >> $BACKUP_PATH/MANIFEST
 *
 * done inside the object store, as `aws s3 sync` does it: only what changed since the last backup is copied
 * (server-side, no byte passes through the worker) to models/<backupId>/objects/; the manifest points at the earlier
 * backup's copy of every object unchanged since (same key, size and ETag). The ConfigMap is saved as
 * model-config.yaml beside them, and manifest.json is written last.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import {
  modelBackupPrefix,
  type ModelBackupManifest,
  type ModelBackupRequest,
  type ModelObject,
} from '../../contracts/backups';
import { createModelCatalog } from './model-catalog';
import { copyObject, listPlace, S3_COPY_LIMITS, servingPlace, type CopyLimits } from './model-copy';
import { storeFailure, type BackupStore } from './store';

export interface ModelCopyProgress {
  /** The last source key done: a retry of a mirror lists the source again after it. */
  lastKey: string;
  copied: number;
}

export const isProgress = (d: unknown): d is ModelCopyProgress =>
  typeof (d as ModelCopyProgress)?.lastKey === 'string' && Number.isInteger((d as ModelCopyProgress).copied);

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function createModelBackupActivities(
  deps: { s3: S3Client; buckets: { models: string; backups: string }; copyLimits?: CopyLimits },
  store: BackupStore,
) {
  const { s3, buckets } = deps;
  const catalog = createModelCatalog(s3, store);
  return {
    /**
     * Backs up the model bucket and writes the manifest. An object unchanged since the newest finished backup is
     * not copied: the manifest points at that backup's copy, once a listing shows the copy is still there. A retry
     * takes what an earlier attempt copied into this backup's folder (same size and ETag) and copies the rest, so
     * nothing is copied twice; the last key done is heartbeated to show progress. A backup without a manifest is
     * not a backup.
     */
    async backupModels(req: ModelBackupRequest): Promise<Omit<ModelBackupManifest, 'objects'>> {
      const signal = Context.current().cancellationSignal;
      const prefix = modelBackupPrefix(req.backupId);
      const own = `${prefix}objects/`;
      const checkpoint = activityInfo().heartbeatDetails as unknown;
      const resumedFrom = (isProgress(checkpoint) && checkpoint.lastKey) || undefined;
      try {
        const base = await catalog.newest(req.backupId);
        const earlier = base ? await catalog.reusable(base) : new Map<string, ModelObject>();
        // Empty unless an earlier attempt of this backup copied some already.
        const copiedBefore = new Map(
          (await listPlace(s3, { bucket: buckets.backups, prefix: own })).map((o) => [o.key, o]),
        );
        const source = (await listPlace(s3, servingPlace(buckets.models))).sort(byKey);
        const progress = { lastKey: '', copied: 0, reused: 0 };
        const objects: ModelObject[] = [];
        for (const o of source) {
          if (signal.aborted) throw signal.reason;
          const same = (b?: ModelObject) => b !== undefined && b.size === o.size && b.etag === o.etag;
          const before = earlier.get(o.key);
          if (same(before)) {
            objects.push({ ...o, storedIn: before!.storedIn });
            progress.reused++;
          } else {
            if (!same(copiedBefore.get(o.key))) {
              await copyObject(
                s3,
                { bucket: buckets.models, key: o.key, size: o.size },
                { bucket: buckets.backups, key: `${own}${o.key}` },
                deps.copyLimits ?? S3_COPY_LIMITS,
              );
            }
            objects.push(o);
            progress.copied++;
          }
          progress.lastKey = o.key;
          heartbeat(progress);
        }

        if (req.configMap) {
          const yaml = stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: req.configMap.name, resourceVersion: req.configMap.resourceVersion },
            data: req.configMap.data,
          });
          await s3.send(
            new PutObjectCommand({
              Bucket: buckets.backups,
              Key: `${prefix}model-config.yaml`,
              Body: yaml,
              ContentType: 'application/yaml',
            }),
          );
        }
        const manifest: ModelBackupManifest = {
          manifestVersion: 2,
          backupId: req.backupId,
          sourceBucket: buckets.models,
          bucket: buckets.backups,
          prefix,
          count: objects.length,
          totalBytes: objects.reduce((n, o) => n + o.size, 0),
          objects,
          configMap: req.configMap
            ? {
                name: req.configMap.name,
                resourceVersion: req.configMap.resourceVersion,
                key: `${prefix}model-config.yaml`,
              }
            : undefined,
          createdAt: new Date().toISOString(),
          workflowId: req.workflowId,
          resumedFrom,
          base: base?.backupId,
          copied: progress.copied,
          reused: progress.reused,
        };
        await store.putJson(`${prefix}manifest.json`, manifest);
        // The object list stays in the store: a large bucket's list has no place in workflow history.
        const { objects: _listed, ...summary } = manifest;
        return summary;
      } catch (err) {
        if (err instanceof ApplicationFailure || signal.aborted) throw err;
        throw storeFailure('model backup', err);
      }
    },
  };
}
