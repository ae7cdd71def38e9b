/**
 * The backup family's inputs, results and status query (databaseBackup, pruneBackups, verifyBackup,
 * restoreDatabase, modelBackup, pruneModelBackups); the inputs are declared in the contracts layer, beside the manifest they are about.
 */
import { defineQuery } from '@temporalio/workflow';
import type { ModelBackupManifest, RetentionPlan } from '../../contracts/backups';
import type { GateStatus } from '../../contracts/gates';

export {
  parseBackupRetentionInput,
  parseDatabaseBackupInput,
  parseModelBackupInput,
  parseRestoreDatabaseInput,
  parseVerifyBackupInput,
  type BackupRetentionInput,
  type DatabaseBackupInput,
  type ModelBackupInput,
  type RestoreDatabaseInput,
  type VerifyBackupInput,
} from '../../contracts/backups';

export interface DatabaseBackupResult {
  backupId: string;
  database: string;
  bucket: string;
  key: string;
  size: number;
  sha256: string;
  dumpBytes: number;
  snapshotAt: string;
  tables: number;
  rows: number;
  durationMs: number;
}

export interface BackupRetentionResult {
  database: string;
  plan: RetentionPlan;
  deleted: string[];
  dryRun: boolean;
}

export interface ModelRetentionResult {
  bucket: string;
  plan: RetentionPlan;
  /** What went of each backup deleted: objects of its own, and objects kept because a kept backup shares them. */
  deleted: { backupId: string; deletedObjects: number; sharedKept: number }[];
  dryRun: boolean;
}

export interface VerifyBackupResult {
  backupId: string;
  database: string;
  ok: boolean;
  problems: string[];
  tables: number;
  rows: number;
  restoreMs: number;
  /** The newest backup a drill has proven, after this one, and how old its snapshot is. */
  newestVerified?: { backupId: string; ageHours: number };
  /** Why people were alerted, if they were. */
  alerts: string[];
}

export interface RestoreDatabaseResult {
  backupId: string;
  database: string;
  production: boolean;
  ok: boolean;
  problems: string[];
  restoreMs: number;
  approvedBy?: string;
}

export interface RestoreStatus {
  step: 'choosing' | 'awaiting-approval' | 'restoring' | 'checking' | 'done' | 'refused';
  backupId?: string;
  gates: GateStatus[];
}

export const restoreStatusQuery = defineQuery<RestoreStatus>('status');

export type ModelBackupResult = Omit<ModelBackupManifest, 'objects'> & {
  /** Why the ConfigMap was not saved, when it was not. */
  configMapSkipped?: string;
};
