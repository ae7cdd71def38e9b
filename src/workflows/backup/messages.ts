/** databaseBackup's and pruneBackups's inputs and results; the inputs are declared in the contracts layer. */
import type { RetentionPlan } from '../../contracts/backups';

export {
  parseBackupRetentionInput,
  parseDatabaseBackupInput,
  type BackupRetentionInput,
  type DatabaseBackupInput,
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
