/**
 * The model backups as their manifests describe them: one folder per backup under models/ in the backup bucket.
 * A backup is found by the manifests (the time in them, not the store's modification times), one folder listing
 * and one read per backup, never by listing every object of the bucket.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  modelBackupPrefix,
  modelObjectHome,
  type BackupSummary,
  type ModelBackupManifest,
  type ModelObject,
  type ModelVerificationRecord,
} from '../../contracts/backups';
import { listPlace } from './model-copy';
import type { BackupStore } from './store';

export interface ModelBackupEntry {
  backupId: string;
  manifest?: ModelBackupManifest;
  verification?: ModelVerificationRecord;
}

export function createModelCatalog(s3: S3Client, store: BackupStore) {
  const manifestOf = (backupId: string) =>
    store.getJson<ModelBackupManifest>(`${modelBackupPrefix(backupId)}manifest.json`);

  /** Every model backup folder with its manifest (absent for an attempt that never finished) and drill record. */
  async function entries(): Promise<ModelBackupEntry[]> {
    const found: ModelBackupEntry[] = [];
    for (const folder of await store.foldersUnder('models/')) {
      const backupId = folder.slice('models/'.length, -1);
      const [manifest, verification] = await Promise.all([
        manifestOf(backupId),
        store.getJson<ModelVerificationRecord>(`${folder}verification.json`),
      ]);
      found.push({ backupId, manifest, verification });
    }
    return found;
  }

  /** The newest finished backup by the time in its manifest, leaving out `except` (a backup still being made). */
  async function newest(except?: string): Promise<ModelBackupManifest | undefined> {
    let best: ModelBackupManifest | undefined;
    for (const { backupId, manifest } of await entries())
      if (manifest && backupId !== except && (!best || manifest.createdAt > best.createdAt)) best = manifest;
    return best;
  }

  /**
   * The objects of `manifest` a new backup may point at instead of copying: those whose bytes are still where the
   * manifest says, at the size it says (read back from the store, one listing per folder they live in).
   */
  async function reusable(manifest: ModelBackupManifest): Promise<Map<string, ModelObject>> {
    const stored = new Map<string, number>();
    const homes = new Set(manifest.objects.map((o) => o.storedIn ?? manifest.backupId));
    for (const home of homes) {
      const prefix = `${modelBackupPrefix(home)}objects/`;
      for (const o of await listPlace(s3, { bucket: store.Bucket, prefix })) stored.set(`${prefix}${o.key}`, o.size);
    }
    const usable = new Map<string, ModelObject>();
    for (const o of manifest.objects)
      if (stored.get(modelObjectHome(manifest.backupId, o)) === o.size)
        usable.set(o.key, { ...o, storedIn: o.storedIn ?? manifest.backupId });
    return usable;
  }

  return {
    manifestOf,
    entries,
    newest,
    reusable,
    /** The catalog in the shape database backups have, for the same retention plan. */
    async summaries(): Promise<BackupSummary[]> {
      return (await entries())
        .map(({ backupId, manifest, verification }) => ({
          backupId,
          prefix: modelBackupPrefix(backupId),
          complete: manifest !== undefined,
          ...(manifest && { snapshotAt: manifest.createdAt, size: manifest.totalBytes }),
          ...(verification && { verification: { ok: verification.ok, verifiedAt: verification.verifiedAt } }),
        }))
        .sort((a, b) => (a.snapshotAt ?? '').localeCompare(b.snapshotAt ?? ''));
    },
  };
}

export type ModelCatalog = ReturnType<typeof createModelCatalog>;
