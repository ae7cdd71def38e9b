/**
 * Database backups as workflows and activities both see them: the manifest stored beside each dump, the
 * verification record the restore drill writes, the inputs (zod schemas) and the retention rule. Workflow-safe:
 * no Node APIs, so the retention plan is computed inside the workflow, where it is recorded in history.
 */
import { dnsLabel, isoTime, optionalObject, parseInput, wholeNumber, z } from './input';
import { runIdPiece, type RunIdPiece } from './run-ids';

/** The seed's `--exclude-table=temp_* --exclude-table=logs_*`, as pg_dump patterns over every schema. */
export const EXCLUDED_TABLE_PATTERNS = ['*.temp_*', '*.logs_*'] as const;

/** What a dump is: pg_dump's custom format without its own compression, compressed as a whole by zstd. */
export const DUMP_FORMAT = 'pg_dump-custom+zstd';

/**
 * The task queue of the backup worker (src/workers/backup-worker.ts), beside the workflows' own: the dump and the
 * restore stream gigabytes through a process of their own, whose memory stays small and is sized apart from the
 * worker that runs the workflows.
 */
export function backupTaskQueue(workflowTaskQueue: string): string {
  return `${workflowTaskQueue}-backups`;
}

/** The activities only the backup worker runs: those that stream a dump. */
export const BACKUP_WORKER_ACTIVITIES = ['dumpDatabase', 'restoreBackup'] as const;

/** One table's rows as the dump's snapshot saw them. */
export interface TableRows {
  schema: string;
  table: string;
  rows: number;
}

/** manifest.json, written beside the dump only once the dump object is complete: no manifest, no backup. */
export interface BackupManifest {
  manifestVersion: 1;
  backupId: string;
  database: string;
  bucket: string;
  /** The dump object, named per attempt so that an abandoned attempt can never overwrite a finished one. */
  key: string;
  format: typeof DUMP_FORMAT;
  compression: { algorithm: 'zstd'; level: number };
  /** Bytes stored (compressed) and their SHA-256, hex. */
  size: number;
  sha256: string;
  /** Bytes pg_dump wrote, before compression. */
  dumpBytes: number;
  pgDumpVersion: string;
  serverVersion: string;
  excluded: string[];
  tables: TableRows[];
  /** When the snapshot the dump and the row counts share was taken (the database's clock). */
  snapshotAt: string;
  startedAt: string;
  completedAt: string;
  workflowId: string;
}

/** verification.json, written beside the manifest by each restore drill; the newest drill's record wins. */
export interface VerificationRecord {
  backupId: string;
  verifiedAt: string;
  ok: boolean;
  /** What did not match, in words; empty when ok. */
  problems: string[];
  restoreMs: number;
  workflowId: string;
}

/** What listing the backups returns per backup: the manifest's headline and the newest verification. */
export interface BackupSummary {
  backupId: string;
  prefix: string;
  /** False when no manifest exists (an attempt that never finished). */
  complete: boolean;
  snapshotAt?: string;
  size?: number;
  verification?: { ok: boolean; verifiedAt: string };
}

export const backupIdSchema = z
  .string({ message: 'must be a backup id such as 20261125T020000Z-1a2b3c4d' })
  .regex(/^[0-9]{8}T[0-9]{6}Z-[a-z0-9]{1,16}$/, 'must be a backup id such as 20261125T020000Z-1a2b3c4d');

/** The backup's id: its workflow's start time, sortable, plus a piece of the run id so two runs never share one. */
export function backupIdFor(startedAt: Date, runId: string, piece: RunIdPiece = 'tail'): string {
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${runIdPiece(runId, piece)}`;
}

export const databaseBackupInputSchema = optionalObject({
  /** zstd level: 1 keeps up with pg_dump on one core (README "Benchmark"); higher trades speed for size. */
  compressionLevel: wholeNumber(1, 19).default(1),
});
export type DatabaseBackupInput = z.input<typeof databaseBackupInputSchema>;
export const parseDatabaseBackupInput = (raw: unknown) => parseInput(databaseBackupInputSchema, raw, 'databaseBackup');

/** What the dump activity is asked: the workflow decides the id, so every retry writes under the same prefix. */
export interface DumpRequest {
  backupId: string;
  compressionLevel: number;
  workflowId: string;
}

export const verifyBackupInputSchema = optionalObject({
  /** A chosen backup; absent means the newest complete one. */
  backupId: backupIdSchema.optional(),
  /** Alert when the newest verified backup is older than this many hours. */
  maxAgeHours: wholeNumber(1, 24 * 31).optional(),
});
export type VerifyBackupInput = z.input<typeof verifyBackupInputSchema>;
export const parseVerifyBackupInput = (raw: unknown) => parseInput(verifyBackupInputSchema, raw, 'verifyBackup');

export const restoreDatabaseInputSchema = z
  .object({
    /** A chosen backup; absent means the newest verified one. */
    backupId: backupIdSchema.optional(),
    /** A database of its own to restore into (created, must not exist), or the production database itself. */
    target: z.union([
      z
        .object({ database: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lowercase SQL name') })
        .strict(),
      z.object({ production: z.literal(true, { errorMap: () => ({ message: 'must be true' }) }) }).strict(),
    ]),
    /** Who asked; recorded in the audit trail. */
    requestedBy: z.string({ message: 'must be a roster id' }).min(1, 'must be a roster id').max(100),
    reason: z.string({ message: 'must be 1-1000 characters' }).min(1, 'must be 1-1000 characters').max(1000),
  })
  .strict();
export type RestoreDatabaseInput = z.input<typeof restoreDatabaseInputSchema>;
export const parseRestoreDatabaseInput = (raw: unknown) =>
  parseInput(restoreDatabaseInputSchema, raw, 'restoreDatabase');

export const backupRetentionInputSchema = optionalObject({
  daily: wholeNumber(1, 366).optional(),
  weekly: wholeNumber(0, 260).optional(),
  monthly: wholeNumber(0, 120).optional(),
  /** For tests and what-if runs: the plan only, nothing deleted. */
  dryRun: z.boolean({ message: 'must be true or false' }).default(false),
  /** The clock the plan is made against (default: the workflow's); unfinished attempts younger than a day stay. */
  now: isoTime.optional(),
});
export type BackupRetentionInput = z.input<typeof backupRetentionInputSchema>;
export const parseBackupRetentionInput = (raw: unknown) => parseInput(backupRetentionInputSchema, raw, 'pruneBackups');

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export interface RetentionPlan {
  keep: { backupId: string; why: string[] }[];
  delete: { backupId: string; why: string }[];
}

/** An unfinished attempt this old cannot still be running (the dump's start-to-close timeout is far shorter). */
const ABANDONED_AFTER_MS = 24 * 3_600_000;

const day = (iso: string) => iso.slice(0, 10);
const month = (iso: string) => iso.slice(0, 7);
/** ISO 8601 week, e.g. 2026-W48: the week a backup falls in, Monday to Sunday. */
function isoWeek(iso: string): string {
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  const weekday = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - weekday + 3); // the Thursday of this week decides its year
  const week = Math.ceil(((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Grandfather-father-son: the newest complete backup of each of the last `daily` days that have one, of the last
 * `weekly` ISO weeks and of the last `monthly` months. A backup is deleted only when a newer verified one exists:
 * until a restore has proven a newer backup, nothing older is given up, whatever the counts say. The newest
 * verified backup is always kept. Unfinished attempts (no manifest) go once a day old, under the same condition.
 */
export function planRetention(backups: BackupSummary[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const complete = backups
    .filter((b) => b.complete && b.snapshotAt)
    .sort((a, b) => (a.snapshotAt! < b.snapshotAt! ? 1 : a.snapshotAt! > b.snapshotAt! ? -1 : 0));
  const why = new Map<string, string[]>();
  const keep = (id: string, reason: string) => why.set(id, [...(why.get(id) ?? []), reason]);
  const buckets: [string, number, (iso: string) => string][] = [
    ['daily', policy.daily, day],
    ['weekly', policy.weekly, isoWeek],
    ['monthly', policy.monthly, month],
  ];
  for (const [name, count, periodOf] of buckets) {
    const seen = new Set<string>();
    for (const b of complete) {
      const period = periodOf(b.snapshotAt!);
      if (seen.has(period)) continue;
      if (seen.size >= count) break;
      seen.add(period);
      keep(b.backupId, `${name} ${period}`);
    }
  }
  const newestVerified = complete.find((b) => b.verification?.ok);
  if (newestVerified) keep(newestVerified.backupId, 'newest verified');

  const plan: RetentionPlan = { keep: [], delete: [] };
  for (const b of complete) {
    if (why.has(b.backupId)) plan.keep.push({ backupId: b.backupId, why: why.get(b.backupId)! });
    else if (newestVerified && b.snapshotAt! < newestVerified.snapshotAt!)
      plan.delete.push({
        backupId: b.backupId,
        why: `outside the policy; ${newestVerified.backupId} is newer and verified`,
      });
    else plan.keep.push({ backupId: b.backupId, why: ['outside the policy, but no newer verified backup exists'] });
  }
  for (const b of backups.filter((x) => !x.complete)) {
    // An unfinished attempt's id starts with its workflow's start time.
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(b.backupId);
    const started = m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : now.getTime();
    if (now.getTime() - started >= ABANDONED_AFTER_MS && newestVerified)
      plan.delete.push({ backupId: b.backupId, why: 'unfinished attempt, abandoned' });
    else plan.keep.push({ backupId: b.backupId, why: ['unfinished attempt, may still be running'] });
  }
  return plan;
}

export const modelBackupInputSchema = optionalObject({
  /** The model ConfigMap saved beside the models (K8S_CONFIGMAPS lists the ones allowed). */
  configMap: dnsLabel.default('ai-model-config'),
});
export type ModelBackupInput = z.input<typeof modelBackupInputSchema>;
export const parseModelBackupInput = (raw: unknown) => parseInput(modelBackupInputSchema, raw, 'modelBackup');

export interface ModelBackupRequest {
  backupId: string;
  workflowId: string;
  /** The ConfigMap as read just before; absent when there is no cluster to read it from. */
  configMap?: { name: string; data: Record<string, string>; resourceVersion: string };
}

/** One model object as stored in the backup: its key in the model bucket, size and the store's ETag. */
export interface ModelObject {
  key: string;
  size: number;
  /** The model bucket's ETag for it when backed up (for objects not uploaded in parts, the MD5 of their bytes). */
  etag: string;
  /**
   * The backup whose objects/ folder holds its bytes: an earlier one when the object had not changed since (same
   * key, size and ETag). Absent: this backup's own folder (and always so in a version 1 manifest).
   */
  storedIn?: string;
}

export const modelBackupPrefix = (backupId: string) => `models/${backupId}/`;

/** Where a model backup keeps an object's bytes: its own folder, or the earlier backup it shares them with. */
export const modelObjectHome = (backupId: string, o: ModelObject) =>
  `${modelBackupPrefix(o.storedIn ?? backupId)}objects/${o.key}`;

/**
 * models/<backupId>/manifest.json, written after every object and the ConfigMap are in place. Version 1 backups
 * copied every object; version 2 copies only what changed since the backup before, and points at the rest.
 */
export interface ModelBackupManifest {
  manifestVersion: 1 | 2;
  backupId: string;
  sourceBucket: string;
  bucket: string;
  prefix: string;
  count: number;
  totalBytes: number;
  objects: ModelObject[];
  configMap?: { name: string; resourceVersion: string; key: string };
  createdAt: string;
  workflowId: string;
  /** The source key a retried attempt went on after. */
  resumedFrom?: string;
  /** Version 2: the backup whose manifest unchanged objects were taken from (none for the first). */
  base?: string;
  /** Version 2: objects copied into this backup's own folder, and objects it shares with earlier backups. */
  copied?: number;
  reused?: number;
}

/** models/<backupId>/verification.json: a drill restored the backup and found every object in place. */
export interface ModelVerificationRecord {
  backupId: string;
  ok: boolean;
  verifiedAt: string;
  /** Where the drill restored it. */
  target: string;
}
