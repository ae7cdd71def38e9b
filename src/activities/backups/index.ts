/**
 * Backup activities (seed 002 Backup Procedures, Database Recovery): the dump, the restore and its proof, and
 * the catalog the workflows read and prune. They act on PostgreSQL and S3 together, so they live apart from
 * either system's module.
 */
import type { BackupSummary, RetentionPolicy, VerificationRecord } from '../../contracts/backups';
import { backupIdSchema } from '../../contracts/backups';
import { parseInput, z } from '../../contracts/input';
import { createDumpActivities } from './dump';
import { createModelBackupActivities } from './models';
import { createModelRestoreActivities } from './model-restore';
import { createModelRetentionActivities } from './model-retention';
import { createRestoreActivities } from './restore';
import { attemptKeys, backupPrefix, createBackupStore, databaseOf, storeFailure, type BackupDeps } from './store';

const ATTEMPT_KEYS_CHECKED = 20;

export type { BackupDeps, BackupSettings } from './store';

export interface BackupCatalog {
  database: string;
  bucket: string;
  policy: RetentionPolicy;
  maxAgeHours: number;
  /** Oldest first, by the snapshot time in each manifest; unfinished attempts first of all. */
  backups: BackupSummary[];
}

const idInput = z.object({ backupId: backupIdSchema }).strict();

export function createBackupActivities(deps: BackupDeps) {
  const store = createBackupStore(deps);
  const database = databaseOf(deps.backups.databaseUrl);
  return {
    ...createDumpActivities(deps, store),
    ...createRestoreActivities(deps, store),
    ...createModelBackupActivities(deps, store),
    ...createModelRestoreActivities(deps, store),
    ...createModelRetentionActivities(deps, store),

    /** Every backup of the configured database, read from the manifests, with the configured policy. */
    async listBackups(): Promise<BackupCatalog> {
      try {
        return {
          database,
          bucket: store.Bucket,
          policy: deps.backups.keep,
          maxAgeHours: deps.backups.maxAgeHours,
          backups: await store.list(database),
        };
      } catch (err) {
        throw storeFailure('list backups', err);
      }
    },

    /**
     * seed 000 Daily Maintenance, "Verify backup completion": the newest backup a restore drill has proven, by the
     * snapshot time in its manifest. A backup nobody has restored does not count, so the checklist's item fails
     * when the drills stop passing, not only when the dumps stop.
     */
    async latestBackup(): Promise<{
      bucket: string;
      key?: string;
      at?: string;
      ageHours?: number;
      verifiedAt?: string;
    }> {
      let backups: BackupSummary[];
      try {
        backups = await store.list(database);
      } catch (err) {
        throw storeFailure(`list backups of ${database}`, err);
      }
      const newest = backups.filter((b) => b.complete && b.verification?.ok).pop();
      if (!newest) return { bucket: store.Bucket };
      return {
        bucket: store.Bucket,
        key: newest.prefix,
        at: newest.snapshotAt,
        ageHours: Number(((Date.now() - Date.parse(newest.snapshotAt!)) / 3_600_000).toFixed(2)),
        verifiedAt: newest.verification!.verifiedAt,
      };
    },

    /** The drill's outcome beside the backup's manifest; rewriting it with the same record is harmless. */
    async recordVerification(record: VerificationRecord): Promise<void> {
      const { backupId } = parseInput(idInput, { backupId: record.backupId }, 'recordVerification');
      await store.putJson(`${backupPrefix(database, backupId)}verification.json`, record);
    },

    /**
     * Deletes one backup: its objects, then any upload left under its prefix. Safe to retry: deleting what is
     * already gone is not an error. Which backups may go is the retention workflow's decision, not this one's.
     */
    async deleteBackup(raw: { backupId: string }): Promise<{ deletedObjects: number; abortedUploads: number }> {
      const { backupId } = parseInput(idInput, raw, 'deleteBackup');
      const prefix = backupPrefix(database, backupId);
      try {
        // The manifest goes first: from then on nothing takes the backup for a complete one, even if we stop here.
        const keys: string[] = [];
        for await (const k of store.keysUnder(prefix)) keys.push(k);
        keys.sort((a, b) => Number(b.endsWith('/manifest.json')) - Number(a.endsWith('/manifest.json')));
        if (keys[0]?.endsWith('/manifest.json')) await store.deleteKeys([keys[0]]);
        await store.deleteKeys(keys.filter((k) => !k.endsWith('/manifest.json')));
        // Attempts beyond the dump's retry limit (4) only come from a person restarting it by hand, a few times.
        const abortedUploads = await store.abortUploadsUnder(prefix, attemptKeys(prefix, ATTEMPT_KEYS_CHECKED));
        return { deletedObjects: keys.length, abortedUploads };
      } catch (err) {
        throw storeFailure(`delete ${prefix}`, err);
      }
    },
  };
}
