/**
 * Server-side copies between the model bucket and the backup bucket, one object at a time (no byte passes through
 * the worker). The model backup, the pre-recovery snapshot and the recovery's restore all copy this way.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCopyCommand,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ModelObject } from '../../contracts/backups';

/**
 * S3 copies an object in one request only up to 5 GiB; a larger one is copied in ranges (UploadPartCopy), in parts
 * large enough that the 10,000-part limit never binds. Settable for tests, which cannot make a 5 GiB object.
 */
export interface CopyLimits {
  singleCopyMaxBytes: number;
  partBytes: number;
}
export const S3_COPY_LIMITS: CopyLimits = { singleCopyMaxBytes: 5 * 1024 ** 3, partBytes: 1024 ** 3 };
const MAX_PARTS = 10_000;

const copySource = (bucket: string, key: string) => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

/**
 * One object copied server-side. A large one goes in parts; any upload an earlier attempt left unfinished for the
 * same key is aborted first, and this attempt's is aborted if a part fails, so no hidden parts are left billed.
 */
export async function copyObject(
  s3: S3Client,
  from: { bucket: string; key: string; size: number },
  to: { bucket: string; key: string },
  limits: CopyLimits = S3_COPY_LIMITS,
): Promise<void> {
  const CopySource = copySource(from.bucket, from.key);
  if (from.size <= limits.singleCopyMaxBytes) {
    await s3.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource }));
    return;
  }
  await abortUploadsOf(s3, to);
  const partBytes = Math.max(limits.partBytes, Math.ceil(from.size / MAX_PARTS));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key }));
  try {
    const Parts: { ETag: string; PartNumber: number }[] = [];
    for (let start = 0, PartNumber = 1; start < from.size; start += partBytes, PartNumber++) {
      const end = Math.min(start + partBytes, from.size) - 1;
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket: to.bucket,
          Key: to.key,
          UploadId,
          PartNumber,
          CopySource,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      Parts.push({ ETag: part.CopyPartResult!.ETag!, PartNumber });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId, MultipartUpload: { Parts } }),
    );
  } catch (err) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId })).catch(() => undefined);
    throw err;
  }
}

/** Unfinished multipart uploads of exactly this key (a killed attempt's), aborted. */
async function abortUploadsOf(s3: S3Client, object: { bucket: string; key: string }): Promise<void> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: object.bucket, Prefix: object.key }));
  for (const u of page.Uploads ?? [])
    if (u.Key === object.key && u.UploadId)
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: object.bucket, Key: object.key, UploadId: u.UploadId }))
        .catch(() => undefined);
}

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
  options: { startAfter?: string; signal: AbortSignal; copied(relativeKey: string): void; limits?: CopyLimits },
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
      await copyObject(
        s3,
        { bucket: from.bucket, key: o.Key, size: o.Size ?? 0 },
        { bucket: to.bucket, key: `${to.prefix}${relative}` },
        options.limits,
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
