/** What the backup tests share: a bucket of their own, an emptied prefix, and per-table contents to compare. */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Client } from 'pg';
import type { BackupManifest } from '../../src/contracts/backups';

export async function ensureBucket(s3: S3Client, Bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket }));
  } catch (err) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
  }
}

export async function keysUnder(s3: S3Client, Bucket: string, Prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys.sort();
}

/**
 * Every unfinished upload under a prefix: asked by the prefix (AWS) and, since MinIO lists uploads for an exact
 * key only, by each of the given keys.
 */
export async function uploadsUnder(
  s3: S3Client,
  Bucket: string,
  Prefix: string,
  keys: string[] = [],
): Promise<{ Key: string; UploadId: string }[]> {
  const found = new Map<string, string>();
  for (const p of [Prefix, ...keys]) {
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: p }));
    for (const u of page.Uploads ?? []) if (u.Key!.startsWith(Prefix)) found.set(u.UploadId!, u.Key!);
  }
  return [...found].map(([UploadId, Key]) => ({ Key, UploadId }));
}

/** Everything under a prefix gone, unfinished uploads included: each run starts from an empty catalog. */
export async function emptyPrefix(s3: S3Client, Bucket: string, Prefix: string): Promise<void> {
  const keys = await keysUnder(s3, Bucket, Prefix);
  for (let i = 0; i < keys.length; i += 1000)
    await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }),
    );
  const dumps = keys.filter((k) => k.endsWith('.pgdump.zst'));
  for (const u of await uploadsUnder(s3, Bucket, Prefix, dumps))
    await s3.send(new AbortMultipartUploadCommand({ Bucket, ...u }));
}

/**
 * What one database backup left in the store: every key under the database's `prefix`, the manifest of the backup
 * whose folder is `backupPrefix` (if written), which attempt's dump it names (8 if none, to look far enough), and
 * the unfinished uploads of every attempt's dump key up to that one.
 */
export async function backupLeft(s3: S3Client, Bucket: string, prefix: string, backupPrefix: string) {
  const keys = await keysUnder(s3, Bucket, prefix);
  const manifestKey = `${backupPrefix}manifest.json`;
  const manifest = keys.includes(manifestKey)
    ? (JSON.parse(
        await (await s3.send(new GetObjectCommand({ Bucket, Key: manifestKey }))).Body!.transformToString(),
      ) as BackupManifest)
    : undefined;
  const attempts = Number(/dump-(\d+)\.pgdump\.zst$/.exec(manifest?.key ?? '')?.[1] ?? 8);
  const attemptKeys = Array.from({ length: attempts }, (_, i) => `${backupPrefix}dump-${i + 1}.pgdump.zst`);
  const unfinished = await uploadsUnder(s3, Bucket, prefix, attemptKeys);
  return { keys, manifestKey, manifest, attempts, unfinished };
}

export async function withPg<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Each user table's row count and an md5 of its rows in a fixed order: two databases with equal maps hold the same data. */
export async function tableDigests(url: string): Promise<Record<string, { rows: number; md5: string }>> {
  return withPg(url, async (c) => {
    const { rows: tables } = await c.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
    );
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const { name } of tables) {
      const { rows } = await c.query<{ n: string; md5: string | null }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5 FROM ${name} t`,
      );
      out[name] = { rows: Number(rows[0].n), md5: rows[0].md5 ?? '' };
    }
    return out;
  });
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await withPg(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(database)} WITH (FORCE)`));
}
