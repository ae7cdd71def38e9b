/** S3 activities (the runbooks' `aws s3` steps), against AWS or any S3-compatible store. */
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failures';
import type { DependencyProbe } from '../contracts/probes';

export interface S3Deps {
  s3: S3Client;
  buckets: { models: string; backups: string };
}

export function createS3Activities({ s3, buckets }: S3Deps) {
  return {
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
