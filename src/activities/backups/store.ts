/**
 * Where backups live in the bucket and how they are found again:
 *
 *   postgres/<database>/<backupId>/started.json                 written before the upload, deleted once complete
 *   postgres/<database>/<backupId>/dump-<attempt>.pgdump.zst   the dump, one object per attempt
 *   postgres/<database>/<backupId>/manifest.json               written last: a backup without one is unfinished
 *   postgres/<database>/<backupId>/verification.json           the newest restore drill's record
 *
 * Every listing is paginated (ListObjectsV2 continuation, one page of backup folders at a time), and the newest
 * backup is found from the times inside the manifests, never from the storage's modification times.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { BackupManifest, BackupSummary, VerificationRecord } from '../../contracts/backups';
import { FailureType } from '../../contracts/failures';

export interface BackupSettings {
  /** The role pg_dump and pg_restore connect as; the database in it is the one backed up. */
  databaseUrl: string;
  binDir?: string;
  keep: { daily: number; weekly: number; monthly: number };
  maxAgeHours: number;
  /** The disaster recovery drill's scratch namespace and the RTO it is measured against. */
  drillNamespace: string;
  rtoMinutes: number;
}

export interface BackupDeps {
  s3: S3Client;
  buckets: { models: string; backups: string };
  backups: BackupSettings;
}

export const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
export const databasePrefix = (database: string) => `postgres/${database}/`;
export const backupPrefix = (database: string, backupId: string) => `${databasePrefix(database)}${backupId}/`;
/** The dump object of one attempt: attempts never share a key, so none can overwrite another's finished dump. */
export const dumpKey = (prefix: string, attempt: number) => `${prefix}dump-${attempt}.pgdump.zst`;
/**
 * Written before an attempt's upload begins: an upload not yet complete is no object, so without it a backup whose
 * every attempt failed (S3 gone before the uploads could be aborted) would leave nothing the retention run finds,
 * and its parts would be stored for good. With it, the folder is an unfinished attempt, which goes a day on.
 */
export const startedKey = (prefix: string) => `${prefix}started.json`;
/** The dump keys attempts up to `attempt` may have begun. */
export const attemptKeys = (prefix: string, attempt: number) =>
  Array.from({ length: attempt }, (_, i) => dumpKey(prefix, i + 1));

/** An S3 call that failed for a reason retrying may cure, as the failure type operators filter on. */
export function storeFailure(what: string, err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  return ApplicationFailure.create({
    type: FailureType.UpstreamUnavailable,
    message: `S3 ${what}: ${(err as Error).name} ${(err as Error).message}`,
  });
}

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

export function createBackupStore({ s3, buckets }: BackupDeps) {
  const Bucket = buckets.backups;

  async function getJson<T>(Key: string): Promise<T | undefined> {
    try {
      const res = await s3.send(new GetObjectCommand({ Bucket, Key }));
      return JSON.parse(await res.Body!.transformToString()) as T;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storeFailure(`get ${Key}`, err);
    }
  }

  async function putJson(Key: string, value: unknown): Promise<void> {
    try {
      await s3.send(
        new PutObjectCommand({ Bucket, Key, Body: JSON.stringify(value, null, 2), ContentType: 'application/json' }),
      );
    } catch (err) {
      throw storeFailure(`put ${Key}`, err);
    }
  }

  /** Every key under a prefix, a page at a time. */
  async function* keysUnder(Prefix: string): AsyncGenerator<string> {
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken, MaxKeys: 1000 }));
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** The folders directly under a prefix (one per backup), a page at a time; never the objects inside them. */
  async function foldersUnder(Prefix: string): Promise<string[]> {
    const folders: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, Delimiter: '/', ContinuationToken }));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return folders;
  }

  /** Unfinished multipart uploads whose key starts with `Prefix`, aborted; returns how many. */
  async function abortUploadsListed(Prefix: string, done: Set<string>): Promise<number> {
    let aborted = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix, KeyMarker, UploadIdMarker }));
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || done.has(u.UploadId) || !u.Key.startsWith(Prefix)) continue;
        done.add(u.UploadId);
        try {
          await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted++;
        } catch (err) {
          // Already completed or aborted by the attempt that owned it: nothing left to clean.
          if (!isMissing(err) && (err as { name?: string }).name !== 'NoSuchUpload') throw err;
        }
      }
      if (!page.IsTruncated) return aborted;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /**
   * Multipart uploads begun under a backup's prefix and never completed (a killed attempt's), aborted. AWS lists
   * uploads by key prefix; MinIO lists them only for an exact object key (checked against our MinIO build), so
   * the attempts' own keys, which are known, are asked for one by one as well.
   */
  async function abortUploadsUnder(prefix: string, keys: string[] = []): Promise<number> {
    const done = new Set<string>();
    let aborted = await abortUploadsListed(prefix, done);
    for (const key of keys) aborted += await abortUploadsListed(key, done);
    return aborted;
  }

  async function deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const res = await s3.send(
        new DeleteObjectsCommand({
          Bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (res.Errors?.length)
        throw new Error(`could not delete ${res.Errors.map((e) => `${e.Key}: ${e.Message}`).join('; ')}`);
    }
  }

  return {
    Bucket,
    getJson,
    putJson,
    keysUnder,
    foldersUnder,
    abortUploadsUnder,
    deleteKeys,
    manifest: (database: string, backupId: string) =>
      getJson<BackupManifest>(`${backupPrefix(database, backupId)}manifest.json`),
    verification: (database: string, backupId: string) =>
      getJson<VerificationRecord>(`${backupPrefix(database, backupId)}verification.json`),

    /** Every backup folder of the database with its manifest's headline, oldest first by snapshot time. */
    async list(database: string): Promise<BackupSummary[]> {
      const summaries: BackupSummary[] = [];
      for (const prefix of await foldersUnder(databasePrefix(database))) {
        const backupId = prefix.slice(databasePrefix(database).length, -1);
        const [manifest, verification] = await Promise.all([
          getJson<BackupManifest>(`${prefix}manifest.json`),
          getJson<VerificationRecord>(`${prefix}verification.json`),
        ]);
        summaries.push({
          backupId,
          prefix,
          complete: manifest !== undefined,
          ...(manifest && { snapshotAt: manifest.snapshotAt, size: manifest.size }),
          ...(verification && { verification: { ok: verification.ok, verifiedAt: verification.verifiedAt } }),
        });
      }
      return summaries.sort((a, b) => (a.snapshotAt ?? '').localeCompare(b.snapshotAt ?? ''));
    },
  };
}

export type BackupStore = ReturnType<typeof createBackupStore>;
