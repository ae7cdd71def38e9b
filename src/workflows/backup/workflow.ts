/**
 * WedSync database backups, seed 002 "Disaster Recovery, Backup Procedures, Database Backups":
 *
 *   pg_dump -h production-db -U ai_user -d wedsync_prod \
 *     --exclude-table=temp_* --exclude-table=logs_* | gzip > /backups/db/wedsync_ai_$(date +%Y%m%d_%H%M%S).sql.gz
 *
 * and the retention of what it writes. Started by the schedules wedsync-database-backup and
 * wedsync-backup-retention (src/schedules/table.ts); by hand:
 *
 *   temporal workflow start --type databaseBackup --task-queue aiops-runbooks --input '{}'
 *   temporal workflow start --type pruneBackups --task-queue aiops-runbooks --input '{"dryRun":true}'
 */
import { workflowInfo } from '@temporalio/workflow';
import { backupIdFor, planRetention } from '../../contracts/backups';
import { AuditTrail } from '../gates/audit-trail';
import { changes, dumpDatabase, probes } from '../policies';
import {
  parseBackupRetentionInput,
  parseDatabaseBackupInput,
  type BackupRetentionInput,
  type BackupRetentionResult,
  type DatabaseBackupInput,
  type DatabaseBackupResult,
} from './messages';

export async function databaseBackup(input?: DatabaseBackupInput): Promise<DatabaseBackupResult> {
  const { compressionLevel } = parseDatabaseBackupInput(input);
  const info = workflowInfo();
  // Fixed once per run: every retry of the dump writes under the same prefix, and cleans up after the others.
  const backupId = backupIdFor(info.startTime, info.runId);
  const audit = new AuditTrail();
  const started = Date.now();
  const manifest = await dumpDatabase({ backupId, compressionLevel, workflowId: info.workflowId });
  const result: DatabaseBackupResult = {
    backupId,
    database: manifest.database,
    bucket: manifest.bucket,
    key: manifest.key,
    size: manifest.size,
    sha256: manifest.sha256,
    dumpBytes: manifest.dumpBytes,
    snapshotAt: manifest.snapshotAt,
    tables: manifest.tables.length,
    rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
    durationMs: Date.now() - started,
  };
  audit.record({
    step: 'database-backup',
    actor: 'schedule',
    action: 'pg_dump',
    outcome: 'stored',
    durationMs: result.durationMs,
    details: { backupId, key: result.key, size: result.size, sha256: result.sha256, tables: result.tables },
  });
  await audit.flush();
  return result;
}

/**
 * Keeps N daily, M weekly and K monthly backups (BACKUP_KEEP_*), deleting one only when a newer verified backup
 * exists (contracts/backups.ts planRetention). The plan is made in the workflow from the manifests the listing
 * read, so the history shows exactly why each backup went or stayed.
 */
export async function pruneBackups(input?: BackupRetentionInput): Promise<BackupRetentionResult> {
  const options = parseBackupRetentionInput(input);
  const catalog = await probes.listBackups();
  const policy = {
    daily: options.daily ?? catalog.policy.daily,
    weekly: options.weekly ?? catalog.policy.weekly,
    monthly: options.monthly ?? catalog.policy.monthly,
  };
  const plan = planRetention(catalog.backups, policy, new Date(options.now ?? Date.now()));
  const audit = new AuditTrail();
  const deleted: string[] = [];
  if (!options.dryRun) {
    for (const d of plan.delete) {
      await changes.deleteBackup({ backupId: d.backupId });
      deleted.push(d.backupId);
      audit.record({
        step: 'backup-retention',
        actor: 'schedule',
        action: 'delete-backup',
        outcome: 'deleted',
        reason: d.why,
        details: { backupId: d.backupId, policy },
      });
    }
  }
  await audit.flush();
  return { database: catalog.database, plan, deleted, dryRun: options.dryRun };
}
