/**
 * Retention of model backups: the same daily, weekly and monthly policy as the database backups, read from the
 * manifests. A model backup shares the bytes of every object unchanged since the backup before it, so deleting one
 * leaves in place each object another backup's manifest still points at.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import {
  backupIdSchema,
  modelBackupPrefix,
  modelObjectHome,
  type BackupSummary,
  type RetentionPolicy,
} from '../../contracts/backups';
import { parseInput, z } from '../../contracts/input';
import { createModelCatalog } from './model-catalog';
import { storeFailure, type BackupStore } from './store';

export interface ModelBackupCatalog {
  bucket: string;
  policy: RetentionPolicy;
  /** Oldest first, by the time in each manifest; unfinished attempts first of all. */
  backups: BackupSummary[];
}

const idInput = z.object({ backupId: backupIdSchema }).strict();

export function createModelRetentionActivities(
  deps: { s3: S3Client; backups: { keep: RetentionPolicy } },
  store: BackupStore,
) {
  const catalog = createModelCatalog(deps.s3, store);
  return {
    /** Every model backup, from the manifests and the drills' records, with the configured policy. */
    async listModelBackups(): Promise<ModelBackupCatalog> {
      try {
        return { bucket: store.Bucket, policy: deps.backups.keep, backups: await catalog.summaries() };
      } catch (err) {
        throw storeFailure('list model backups', err);
      }
    },

    /**
     * Deletes one model backup: its manifest first (from then on nothing restores it or builds on it), then every
     * object under its folder that no other backup's manifest points at. Safe to retry. Deleting newer backups
     * before older ones leaves nothing behind: a backup only ever points at older ones.
     */
    async deleteModelBackup(raw: { backupId: string }): Promise<{ deletedObjects: number; sharedKept: number }> {
      const { backupId } = parseInput(idInput, raw, 'deleteModelBackup');
      const prefix = modelBackupPrefix(backupId);
      try {
        await store.deleteKeys([`${prefix}manifest.json`]);
        const shared = new Set<string>();
        for (const { manifest } of await catalog.entries())
          if (manifest && manifest.backupId !== backupId)
            for (const o of manifest.objects) shared.add(modelObjectHome(manifest.backupId, o));
        const keys: string[] = [];
        let sharedKept = 0;
        for await (const k of store.keysUnder(prefix)) {
          if (shared.has(k)) sharedKept++;
          else keys.push(k);
        }
        await store.deleteKeys(keys);
        return { deletedObjects: keys.length, sharedKept };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw storeFailure(`delete ${prefix}`, err);
      }
    },
  };
}
