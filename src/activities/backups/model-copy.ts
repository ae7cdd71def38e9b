/**
 * Server-side copies between the model bucket and the backup bucket, one object at a time (no byte passes through
 * the worker). The model backup, the pre-recovery snapshot and the recovery's restore all copy this way.
 */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ModelObject } from '../../contracts/backups';

export interface Place {
  bucket: string;
  /** Empty for a bucket's root, else ends in "/". */
  prefix: string;
  /** A folder inside the place that is not part of it: never listed, copied or deleted as the place's. */
  skip?: string;
}

/**
 * The served models: the model bucket's root, without the retraining's folder (its training data and candidates),
 * so a backup does not carry them and a restore or deployment neither rolls them back nor deletes them.
 */
export const servingPlace = (bucket: string): Place => ({ bucket, prefix: '', skip: 'retraining/' });

const inPlace = (place: Place, relativeKey: string) => !place.skip || !relativeKey.startsWith(place.skip);

/** Every object under a place, keys relative to its prefix, a page at a time. */
export async function listPlace(s3: S3Client, place: Place): Promise<ModelObject[]> {
  const objects: ModelObject[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: place.bucket, Prefix: place.prefix || undefined, ContinuationToken }),
    );
    for (const o of page.Contents ?? [])
      if (inPlace(place, o.Key!.slice(place.prefix.length)))
        objects.push({
          key: o.Key!.slice(place.prefix.length),
          size: o.Size ?? 0,
          etag: (o.ETag ?? '').replace(/"/g, ''),
        });
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return objects;
}

/**
 * Copies every object of `from` to `to` in key order, starting after `startAfter` (a retry's checkpoint), calling
 * `copied` after each. Copying an object again writes the same bytes, so a repeat is harmless.
 */
export async function copyPlace(
  s3: S3Client,
  from: Place,
  to: Place,
  options: { startAfter?: string; signal: AbortSignal; copied(relativeKey: string): void },
): Promise<void> {
  let ContinuationToken: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({
        Bucket: from.bucket,
        Prefix: from.prefix || undefined,
        ContinuationToken,
        StartAfter: ContinuationToken || !options.startAfter ? undefined : `${from.prefix}${options.startAfter}`,
      }),
    );
    for (const o of page.Contents ?? []) {
      if (options.signal.aborted) throw options.signal.reason;
      if (!o.Key) continue;
      const relative = o.Key.slice(from.prefix.length);
      if (!inPlace(from, relative)) continue;
      await s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: `${to.prefix}${relative}`,
          CopySource: `${from.bucket}/${o.Key.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
      options.copied(relative);
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
}

/** Deletes the objects of a place whose relative keys `keep` does not hold; returns how many went. */
export async function deleteOthers(s3: S3Client, place: Place, keep: Set<string>): Promise<number> {
  const extra = (await listPlace(s3, place)).filter((o) => !keep.has(o.key)).map((o) => `${place.prefix}${o.key}`);
  for (let i = 0; i < extra.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: place.bucket,
        Delete: { Objects: extra.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
  return extra.length;
}
