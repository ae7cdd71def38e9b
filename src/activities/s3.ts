/** S3 activities (the runbooks' `aws s3` steps), against AWS or any S3-compatible store. */
import { HeadBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failures';
import type { DependencyProbe } from '../contracts/probes';

export interface S3Deps {
  s3: S3Client;
  buckets: { models: string; backups: string };
}

export function createS3Activities({ s3, buckets }: S3Deps) {
  return {
    /** seed 000 Daily Maintenance, "Verify backup completion": the newest object in the backups bucket. */
    async latestBackup(): Promise<{ bucket: string; key?: string; at?: string; ageHours?: number }> {
      let newest: { key: string; at: Date } | undefined;
      let token: string | undefined;
      try {
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: buckets.backups, ContinuationToken: token }));
          for (const obj of page.Contents ?? []) {
            if (obj.Key && obj.LastModified && (!newest || obj.LastModified > newest.at))
              newest = { key: obj.Key, at: obj.LastModified };
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.UpstreamUnavailable,
          message: `S3 bucket ${buckets.backups}: ${(err as Error).message}`,
        });
      }
      if (!newest) return { bucket: buckets.backups };
      return {
        bucket: buckets.backups,
        key: newest.key,
        at: newest.at.toISOString(),
        ageHours: Number(((Date.now() - newest.at.getTime()) / 3_600_000).toFixed(2)),
      };
    },

    /** Both configured buckets exist and these credentials can reach them. */
    async probeObjectStore(): Promise<DependencyProbe> {
      const started = performance.now();
      const detail: Record<string, boolean> = {};
      for (const bucket of [buckets.models, buckets.backups]) {
        try {
          await s3.send(new HeadBucketCommand({ Bucket: bucket }));
          detail[bucket] = true;
        } catch (err) {
          const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (status === 404 || status === 403) {
            detail[bucket] = false;
            continue;
          }
          throw ApplicationFailure.create({
            type: FailureType.UpstreamUnavailable,
            message: `S3 bucket ${bucket}: ${(err as Error).name} ${(err as Error).message}`,
          });
        }
      }
      return {
        name: 'objectStore',
        ok: Object.values(detail).every(Boolean),
        latencyMs: Math.round(performance.now() - started),
        detail,
      };
    },
  };
}
