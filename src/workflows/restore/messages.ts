/** verifyBackup's and restoreDatabase's inputs, status and results; the inputs are declared in the contracts layer. */
import { defineQuery } from '@temporalio/workflow';
import type { GateStatus } from '../../contracts/gates';

export {
  parseRestoreDatabaseInput,
  parseVerifyBackupInput,
  type RestoreDatabaseInput,
  type VerifyBackupInput,
} from '../../contracts/backups';

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
