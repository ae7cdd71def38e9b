/**
 * WedSync database backups and their restores, seed 002 "Disaster Recovery":
 *
 *   Backup Procedures, Database Backups:
 *   pg_dump -h production-db -U ai_user -d wedsync_prod \
 *     --exclude-table=temp_* --exclude-table=logs_* | gzip > /backups/db/wedsync_ai_$(date +%Y%m%d_%H%M%S).sql.gz
 *
 *   Recovery Procedures, Database Recovery:
 *   pg_restore -h recovery-db -U ai_user -d wedsync_recovery --clean --if-exists \
 *     /backups/db/wedsync_ai_20240101_120000.sql.gz
 *
 * Backup Procedures, AI Model Backups:
 *   aws s3 sync s3://wedsync-ai-models/ $BACKUP_PATH/models/
 *   kubectl get configmap ai-model-config -o yaml > $BACKUP_PATH/model-config.yaml
 *
 * modelBackup copies the models that changed since the last model backup and saves the ConfigMap (schedule
 * wedsync-model-backup); pruneModelBackups applies the same retention to them (schedule
 * wedsync-model-backup-retention).
 * databaseBackup makes one (schedule wedsync-database-backup); pruneBackups keeps N daily, M weekly and K monthly
 * (schedule wedsync-backup-retention). verifyBackup is the drill (schedule wedsync-backup-verification, and on
 * demand): the newest backup restored into a throwaway database, its bytes checked against the manifest's SHA-256
 * and every table's rows counted against the manifest, the database dropped, the outcome written beside the
 * backup. Checksums alone (what pgBackRest, WAL-G and Velero check) say the bytes are the ones written, not that
 * they restore. It pages the first tiers of the escalation chain when the drill fails or the newest proven backup
 * is older than BACKUP_MAX_AGE_HOURS. restoreDatabase restores a chosen backup, or the newest verified one, into a
 * database of its own, or, with `target: {"production": true}`, over the production database once a person has
 * approved it at the gate.
 *
 *   temporal workflow start --type databaseBackup --task-queue aiops-runbooks --input '{}'
 *   temporal workflow start --type pruneBackups --task-queue aiops-runbooks --input '{"dryRun":true}'
 *   temporal workflow start --type pruneModelBackups --task-queue aiops-runbooks --input '{"dryRun":true}'
 *   temporal workflow start --type verifyBackup --task-queue aiops-runbooks --input '{}'
 *   temporal workflow start --type restoreDatabase --task-queue aiops-runbooks --workflow-id restore-prod-1 \
 *     --input '{"target":{"production":true},"requestedBy":"oncall","reason":"table dropped by a migration"}'
 *   temporal workflow update execute --workflow-id restore-prod-1 --name decide \
 *     --input '{"gate":"restore-production","decision":"approve","by":"ai-lead","reason":"checked the backup id"}'
 */
import { ApplicationFailure, setHandler, workflowInfo } from '@temporalio/workflow';
import { planRetention, type BackupSummary, type RetentionPolicy } from '../../contracts/backups';
import { failureText, FailureType } from '../../contracts/failures';
import { AuditTrail } from '../gates/audit-trail';
import { Gatekeeper } from '../gates/gatekeeper';
import { dropThrowaway, restoreAndCheck, throwawayDatabaseName } from './throwaway';
import { pagedOnFailure } from '../common/paged-on-failure';
import { runStampId } from '../common/run-stamp';
import { Pager } from '../gates/pager';
import {
  backupChecks,
  backupModels,
  changes,
  dumpDatabase,
  loadDirectory,
  modelRetention,
  probes,
  restoreIntoScratch,
  restoreOverProduction,
} from '../policies';
import {
  parseBackupRetentionInput,
  parseDatabaseBackupInput,
  parseModelBackupInput,
  parseRestoreDatabaseInput,
  parseVerifyBackupInput,
  restoreStatusQuery,
  type BackupRetentionInput,
  type BackupRetentionResult,
  type DatabaseBackupInput,
  type DatabaseBackupResult,
  type ModelBackupInput,
  type ModelBackupResult,
  type ModelRetentionResult,
  type RestoreDatabaseInput,
  type RestoreDatabaseResult,
  type RestoreStatus,
  type VerifyBackupInput,
  type VerifyBackupResult,
} from './messages';

export async function databaseBackup(input?: DatabaseBackupInput): Promise<DatabaseBackupResult> {
  return pagedOnFailure('database-backup', BACKUP_ALERT_AUDIENCE, () => backUpDatabase(input));
}

async function backUpDatabase(input?: DatabaseBackupInput): Promise<DatabaseBackupResult> {
  const { compressionLevel } = parseDatabaseBackupInput(input);
  const info = workflowInfo();
  // Fixed once per run: every retry of the dump writes under the same prefix, and cleans up after the others.
  const backupId = runStampId();
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
  const policy = policyOf(options, catalog.policy);
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

/** The configured policy, with what the input sets instead. */
const policyOf = (options: ReturnType<typeof parseBackupRetentionInput>, configured: RetentionPolicy) => ({
  daily: options.daily ?? configured.daily,
  weekly: options.weekly ?? configured.weekly,
  monthly: options.monthly ?? configured.monthly,
});

/**
 * Model backups under the same policy as the database's (BACKUP_KEEP_*, planRetention): one is deleted only when
 * a newer model backup has been verified, which a disaster recovery drill does by restoring it. Newer backups go
 * before older ones, and each keeps the objects a remaining backup shares with it.
 */
export async function pruneModelBackups(input?: BackupRetentionInput): Promise<ModelRetentionResult> {
  const options = parseBackupRetentionInput(input);
  const catalog = await modelRetention.listModelBackups();
  const policy = policyOf(options, catalog.policy);
  const plan = planRetention(catalog.backups, policy, new Date(options.now ?? Date.now()));
  const audit = new AuditTrail();
  const deleted: ModelRetentionResult['deleted'] = [];
  if (!options.dryRun) {
    const newestFirst = [...plan.delete].sort((a, b) => (a.backupId < b.backupId ? 1 : -1));
    for (const d of newestFirst) {
      const gone = await modelRetention.deleteModelBackup({ backupId: d.backupId });
      deleted.push({ backupId: d.backupId, ...gone });
      audit.record({
        step: 'model-backup-retention',
        actor: 'schedule',
        action: 'delete-model-backup',
        outcome: gone.deletedObjects ? 'deleted' : 'shared-kept',
        reason: d.why,
        details: { backupId: d.backupId, ...gone, policy },
      });
    }
  }
  await audit.flush();
  return { bucket: catalog.bucket, plan, deleted, dryRun: options.dryRun };
}

/** Who hears of a backup that does not restore: the first tiers of seed 002's AI System Escalation Chain. */
const BACKUP_ALERT_AUDIENCE = { roles: ['ai-ops', 'platform-oncall'] };

const ageHours = (iso: string) => Number(((Date.now() - Date.parse(iso)) / 3_600_000).toFixed(2));

export async function verifyBackup(input?: VerifyBackupInput): Promise<VerifyBackupResult> {
  const options = parseVerifyBackupInput(input);
  const info = workflowInfo();
  const audit = new AuditTrail();
  const pager = new Pager(`backup-verification-${info.workflowId}`);
  const catalog = await probes.listBackups();
  const maxAgeHours = options.maxAgeHours ?? catalog.maxAgeHours;
  const complete = catalog.backups.filter((b) => b.complete);
  const chosen: BackupSummary | undefined = options.backupId
    ? complete.find((b) => b.backupId === options.backupId)
    : complete[complete.length - 1];
  const alerts: string[] = [];
  const alert = async (message: string) => {
    alerts.push(message);
    const failed = await pager.tell({
      audience: BACKUP_ALERT_AUDIENCE,
      urgency: 'page',
      severity: 'critical',
      dedupKey: `backup-${catalog.database}`,
      message: `[backups] ${message} (workflow ${info.workflowId})`,
    });
    audit.record({
      step: 'backup-verification',
      actor: 'system',
      action: 'alert',
      outcome: failed.length ? 'partly-sent' : 'sent',
      reason: message,
      details: { failed },
    });
  };
  if (!chosen) {
    const message = options.backupId
      ? `backup ${options.backupId} of ${catalog.database} does not exist or never finished`
      : `no complete backup of ${catalog.database} exists`;
    await alert(message);
    await audit.flush();
    throw ApplicationFailure.create({ type: FailureType.TargetNotFound, message, nonRetryable: true });
  }

  const database = throwawayDatabaseName(chosen.backupId);
  const { ok, problems, tables, rows, restoreMs } = await restoreAndCheck(chosen.backupId, database);
  const notDropped = await dropThrowaway(database);
  if (notDropped) problems.push(notDropped);
  await changes.recordVerification({
    backupId: chosen.backupId,
    verifiedAt: new Date().toISOString(),
    ok,
    problems,
    restoreMs,
    workflowId: info.workflowId,
  });
  audit.record({
    step: 'backup-verification',
    actor: 'system',
    action: 'restore-drill',
    outcome: ok ? 'verified' : 'failed',
    reason: problems.join('; ') || undefined,
    durationMs: restoreMs,
    details: { backupId: chosen.backupId, tables, rows },
  });

  if (!ok)
    await alert(`backup ${chosen.backupId} of ${catalog.database} failed its restore drill: ${problems.join('; ')}`);
  // The newest proven backup, this drill counted: an older one proven long ago does not make today safe.
  const proven = ok
    ? chosen
    : [...complete].reverse().find((b) => b.verification?.ok && b.backupId !== chosen.backupId);
  const newestVerified = proven ? { backupId: proven.backupId, ageHours: ageHours(proven.snapshotAt!) } : undefined;
  if (!newestVerified || newestVerified.ageHours > maxAgeHours) {
    await alert(
      newestVerified
        ? `the newest verified backup of ${catalog.database} (${newestVerified.backupId}) is ${newestVerified.ageHours} h old, over ${maxAgeHours} h`
        : `no backup of ${catalog.database} has passed a restore drill`,
    );
  }
  await audit.flush();
  if (!ok) {
    throw ApplicationFailure.create({
      type: FailureType.BackupVerificationFailed,
      message: `backup ${chosen.backupId} failed its restore drill: ${problems.join('; ')}`,
      nonRetryable: true,
    });
  }
  return { backupId: chosen.backupId, database, ok, problems, tables, rows, restoreMs, newestVerified, alerts };
}

export async function restoreDatabase(input: RestoreDatabaseInput): Promise<RestoreDatabaseResult> {
  const request = parseRestoreDatabaseInput(input);
  const info = workflowInfo();
  const production = 'production' in request.target;
  const audit = new AuditTrail();
  const gates = new Gatekeeper(audit, info.workflowId);
  const status: RestoreStatus = { step: 'choosing', gates: [] };
  setHandler(restoreStatusQuery, () => ({ ...status, gates: gates.status() }));

  const catalog = await probes.listBackups();
  const complete = catalog.backups.filter((b) => b.complete);
  const chosen = request.backupId
    ? complete.find((b) => b.backupId === request.backupId)
    : [...complete].reverse().find((b) => b.verification?.ok);
  if (!chosen) {
    throw ApplicationFailure.create({
      type: FailureType.TargetNotFound,
      message: request.backupId
        ? `backupId: backup ${request.backupId} of ${catalog.database} does not exist or never finished`
        : `no verified backup of ${catalog.database} exists; name one with backupId`,
      nonRetryable: true,
    });
  }
  status.backupId = chosen.backupId;
  audit.record({
    step: 'restore-database',
    actor: request.requestedBy,
    action: 'request',
    outcome: 'requested',
    reason: request.reason,
    details: { backupId: chosen.backupId, production, verified: chosen.verification?.ok ?? false },
  });

  let approvedBy: string | undefined;
  if (production) {
    // Overwriting production is a person's decision: the requester alone cannot make it, and nobody deciding
    // within the tiers' time means no.
    gates.setRoster((await loadDirectory()).members);
    status.step = 'awaiting-approval';
    const outcome = await gates.wait({
      name: 'restore-production',
      prompt:
        `Restore backup ${chosen.backupId} (snapshot ${chosen.snapshotAt}` +
        `${chosen.verification?.ok ? `, verified ${chosen.verification.verifiedAt}` : ', never verified'}) over ` +
        `the production database ${catalog.database}, replacing everything written since. Requested by ` +
        `${request.requestedBy}: ${request.reason}`,
      deciders: { roles: ['ai-team-lead', 'platform-oncall'] },
      tierTimeoutMs: 30 * 60_000,
      escalation: [{ roles: ['cto'] }],
      onExhausted: 'abort',
    });
    await gates.settled();
    if (outcome.decision !== 'approve') {
      status.step = 'refused';
      await audit.flush();
      throw ApplicationFailure.create({
        type: FailureType.NotAuthorized,
        message: `restore over production refused by ${outcome.by}: ${outcome.reason}`,
        nonRetryable: true,
      });
    }
    approvedBy = outcome.by;
  }

  status.step = 'restoring';
  const target = production
    ? ({ production: true } as const)
    : { database: (request.target as { database: string }).database };
  const restore = production ? restoreOverProduction : restoreIntoScratch;
  const restored = await restore({ backupId: chosen.backupId, target, workflowId: info.workflowId });
  status.step = 'checking';
  const check = await backupChecks.checkRestoredDatabase({ backupId: chosen.backupId, database: restored.database });
  status.step = 'done';
  audit.record({
    step: 'restore-database',
    actor: approvedBy ?? request.requestedBy,
    action: production ? 'pg_restore --clean over production' : 'pg_restore',
    outcome: check.ok ? 'restored' : 'restored-with-differences',
    reason: check.problems.join('; ') || undefined,
    durationMs: restored.restoreMs,
    details: { backupId: chosen.backupId, database: restored.database },
  });
  await audit.flush();
  return {
    backupId: chosen.backupId,
    database: restored.database,
    production,
    ok: check.ok,
    problems: check.problems,
    restoreMs: restored.restoreMs,
    approvedBy,
  };
}

export async function modelBackup(input?: ModelBackupInput): Promise<ModelBackupResult> {
  const { configMap } = parseModelBackupInput(input);
  const info = workflowInfo();
  const backupId = runStampId();
  const audit = new AuditTrail();
  // Read first, so the ConfigMap saved is the one that went with these models at the time of the copy's start.
  let configMapSkipped: string | undefined;
  let read: Awaited<ReturnType<typeof probes.getConfigMap>> | undefined;
  try {
    read = await probes.getConfigMap({ name: configMap });
  } catch (err) {
    // Without a cluster (or that ConfigMap) the models are still worth saving; the result says what is missing.
    configMapSkipped = failureText(err);
  }
  const manifest = await backupModels({ backupId, workflowId: info.workflowId, configMap: read });
  audit.record({
    step: 'model-backup',
    actor: 'schedule',
    action: 'copy models',
    outcome: 'stored',
    reason: configMapSkipped && `ConfigMap not saved: ${configMapSkipped}`,
    details: { backupId, prefix: manifest.prefix, count: manifest.count, totalBytes: manifest.totalBytes },
  });
  await audit.flush();
  return { ...manifest, configMapSkipped };
}
