/**
 * Seed 002 "AI Model Backups":
 *
 *   aws s3 sync s3://wedsync-ai-models/ $BACKUP_PATH/models/
 *   kubectl get configmap ai-model-config -o yaml > $BACKUP_PATH/model-config.yaml
 *   echo "Models: $(ls -1 $BACKUP_PATH/models/ | wc -l)" >> $BACKUP_PATH/MANIFEST
 *
 * done inside the object store: every model object copied server-side (no byte passes through the worker) to
 * models/<backupId>/objects/, the ConfigMap as model-config.yaml beside them, and manifest.json written last.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import type { ModelBackupManifest, ModelBackupRequest } from '../../contracts/backups';
import { copyPlace, listPlace, servingPlace } from './model-copy';
import { storeFailure, type BackupStore } from './store';

export const modelBackupPrefix = (backupId: string) => `models/${backupId}/`;

export interface ModelCopyProgress {
  /** The last source key copied: a retry lists the source again after it. */
  lastKey: string;
  copied: number;
}

export const isProgress = (d: unknown): d is ModelCopyProgress =>
  typeof (d as ModelCopyProgress)?.lastKey === 'string' && Number.isInteger((d as ModelCopyProgress).copied);

export function createModelBackupActivities(
  deps: { s3: S3Client; buckets: { models: string; backups: string } },
  store: BackupStore,
) {
  const { s3, buckets } = deps;
  return {
    /**
     * Copies the model bucket into a backup prefix and writes the manifest. Resumable: the last key copied is
     * heartbeated and a retry lists the source from there; copying an object again writes the same bytes. The
     * manifest lists what the backup prefix holds (read back from the store, so objects a killed attempt copied
     * after its last heartbeat are counted too), and a backup without a manifest is not a backup.
     */
    async backupModels(req: ModelBackupRequest): Promise<Omit<ModelBackupManifest, 'objects'>> {
      const signal = Context.current().cancellationSignal;
      const prefix = modelBackupPrefix(req.backupId);
      const checkpoint = activityInfo().heartbeatDetails as unknown;
      const progress: ModelCopyProgress = isProgress(checkpoint) ? { ...checkpoint } : { lastKey: '', copied: 0 };
      const resumedFrom = progress.lastKey || undefined;
      try {
        await copyPlace(
          s3,
          servingPlace(buckets.models),
          { bucket: buckets.backups, prefix: `${prefix}objects/` },
          {
            startAfter: progress.lastKey || undefined,
            signal,
            copied: (key) => {
              progress.lastKey = key;
              progress.copied++;
              heartbeat(progress);
            },
          },
        );

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
        const objects = await listPlace(s3, { bucket: buckets.backups, prefix: `${prefix}objects/` });
        const manifest: ModelBackupManifest = {
          manifestVersion: 1,
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
