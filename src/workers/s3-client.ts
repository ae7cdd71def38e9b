/** The S3 client every part of the project builds from configuration, kept apart so the backup worker loads little. */
import { S3Client } from '@aws-sdk/client-s3';
import type { AppConfig } from '../config';

export function createS3Client(s3: AppConfig['s3']): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}
