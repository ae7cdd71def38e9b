/**
 * AI service recovery (seed 002 Recovery and Failover): the model backup chosen to recover from, and the requests
 * of the activities that put models back where the service reads them. Workflow-safe.
 */
import { backupIdSchema } from './backups';
import { dnsLabel, parseInput, z } from './input';

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

/** A drill's own model folder: models restored there serve nothing, and a mirror into it can delete nothing else. */
export const DRILL_MODEL_PREFIX = /^drills\/[a-z0-9-]{1,80}\/models\/$/;
export const drillModelPrefix = (drillId: string) => `drills/${drillId}/models/`;

/**
 * Where a recovery puts models other than the serving location: a disaster recovery drill's scratch folder. The
 * bucket defaults to the backup bucket; the serving model bucket is refused by the activities, so a drill can never
 * write what the service reads.
 */
export const modelTargetSchema = z
  .object({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
      .optional(),
    prefix: z.string().regex(DRILL_MODEL_PREFIX, 'must be drills/<drillId>/models/'),
  })
  .strict();
export type ModelTarget = z.infer<typeof modelTargetSchema>;

/**
 * What a recovery acts on instead of production: a scratch namespace (one a drill made, labelled as such) and a
 * scratch model folder. Absent, the recovery acts on production as it always has.
 */
export const recoveryTargetSchema = z
  .object({
    namespace: dnsLabel,
    models: modelTargetSchema,
  })
  .strict();
export type RecoveryTarget = z.infer<typeof recoveryTargetSchema>;

export const restoreModelsSchema = z
  .object({
    /** The folder whose objects/ become the serving models: a model backup or a pre-recovery snapshot. */
    fromPrefix: z.string().regex(MODEL_SOURCE_PREFIX, 'must be models/<backupId>/ or recovery/<id>/'),
    /** Absent: the serving location. */
    target: modelTargetSchema.optional(),
  })
  .strict();
export const parseRestoreModels = (raw: unknown) => parseInput(restoreModelsSchema, raw, 'restoreModels');

export const snapshotModelsSchema = z
  .object({
    recoveryId: z.string().regex(/^[a-z0-9-]{1,80}$/, 'must be lowercase letters, digits and -'),
    /** Absent: the serving location is what is kept. */
    target: modelTargetSchema.optional(),
  })
  .strict();
export const parseSnapshotModels = (raw: unknown) => parseInput(snapshotModelsSchema, raw, 'snapshotServingModels');

export const checkModelsSchema = z.object({ backupId: backupIdSchema, target: modelTargetSchema }).strict();
export const parseCheckModels = (raw: unknown) => parseInput(checkModelsSchema, raw, 'checkRestoredModels');

/** A drill's leftovers in the backup bucket: its model folder, and the snapshot its recovery took of it. */
export const deleteDrillModelsSchema = z
  .object({
    drillId: z.string().regex(/^[a-z0-9-]{1,80}$/, 'must be lowercase letters, digits and -'),
    recoveryId: z
      .string()
      .regex(/^[a-z0-9-]{1,80}$/, 'must be lowercase letters, digits and -')
      .optional(),
  })
  .strict();
export const parseDeleteDrillModels = (raw: unknown) => parseInput(deleteDrillModelsSchema, raw, 'deleteDrillModels');

export interface ModelsPlaced {
  /** Objects the serving location holds now. */
  count: number;
  copied: number;
  /** Objects that were serving but not in the source, removed. */
  deleted: number;
}
