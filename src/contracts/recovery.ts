/**
 * AI service recovery (seed 002 Recovery and Failover): the model backup chosen to recover from, and the requests
 * of the activities that put models back where the service reads them. Workflow-safe.
 */
import { backupIdSchema } from './backups';
import { parseInput, z } from './input';

/** A model backup's folder in the backup bucket, or a pre-recovery snapshot's. */
export const MODEL_SOURCE_PREFIX = /^(models\/[0-9]{8}T[0-9]{6}Z-[a-z0-9]{1,16}|recovery\/[a-z0-9-]{1,80})\/$/;

/** Where the recovery keeps the serving models as they were before it, so a failed recovery can put them back. */
export const recoverySnapshotPrefix = (recoveryId: string) => `recovery/${recoveryId}/`;

/** The model backup a recovery restores: its manifest's headline and the ConfigMap saved with it. */
export interface ModelBackupChoice {
  backupId: string;
  prefix: string;
  count: number;
  totalBytes: number;
  createdAt: string;
  /** The model ConfigMap as it was backed up; absent when that backup saved none. */
  configMap?: { name: string; data: Record<string, string> };
}

export const findModelBackupSchema = z.object({ backupId: backupIdSchema.optional() }).strict();
export const parseFindModelBackup = (raw: unknown) => parseInput(findModelBackupSchema, raw ?? {}, 'findModelBackup');

export const restoreModelsSchema = z
  .object({
    /** The folder whose objects/ become the serving models: a model backup or a pre-recovery snapshot. */
    fromPrefix: z.string().regex(MODEL_SOURCE_PREFIX, 'must be models/<backupId>/ or recovery/<id>/'),
  })
  .strict();
export const parseRestoreModels = (raw: unknown) => parseInput(restoreModelsSchema, raw, 'restoreModels');

export const snapshotModelsSchema = z
  .object({ recoveryId: z.string().regex(/^[a-z0-9-]{1,80}$/, 'must be lowercase letters, digits and -') })
  .strict();
export const parseSnapshotModels = (raw: unknown) => parseInput(snapshotModelsSchema, raw, 'snapshotServingModels');

export interface ModelsPlaced {
  /** Objects the serving location holds now. */
  count: number;
  copied: number;
  /** Objects that were serving but not in the source, removed. */
  deleted: number;
}
