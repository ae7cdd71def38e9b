/**
 * seed 002 Model Retraining, "Extract training data": the period's feedback streamed with `COPY ... TO STDOUT`
 * straight into an S3 multipart upload (no file in between; memory bounded by two parts in flight and one filling),
 * and a manifest beside it with the row count, the SHA-256 of the bytes stored, the query and the time range.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Context } from '@temporalio/activity';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { isoTime, parseInput, z } from '../../contracts/input';
import { retrainingPrefix, type TrainingDataManifest } from '../../contracts/retraining';
import { checkOut } from '../postgres/checkout';
import { postgresFailure } from '../postgres/failure';
import { storeFailure } from '../backups/store';

const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export interface ExtractDeps {
  pool: Pool;
  s3: S3Client;
  buckets: { models: string };
}

export const extractInputSchema = z
  .object({
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a version label'),
    from: isoTime,
    to: isoTime,
  })
  .strict()
  .refine((v) => Date.parse(v.from) < Date.parse(v.to), { message: 'must be after from', path: ['to'] });

/**
 * The extract's query. COPY takes no bind parameters, so the two times go in as literals: they are parsed as
 * dates first and written back by Date.toISOString(), then quoted by the driver's escapeLiteral.
 */
export function extractQuery(client: Pick<PoolClient, 'escapeLiteral'>, from: string, to: string): string {
  const lit = (iso: string) => `${client.escapeLiteral(new Date(iso).toISOString())}::timestamptz`;
  return (
    'SELECT id, recommendation_id, rating, outcome, model_version, created_at FROM ai_feedback ' +
    `WHERE created_at >= ${lit(from)} AND created_at < ${lit(to)}`
  );
}

export function createExtractActivities({ pool, s3, buckets }: ExtractDeps) {
  return {
    /**
     * Streams the period's rows as CSV with a header into `retraining/<version>/training-data.csv`, then writes
     * `manifest.json`. Safe to retry: a retry writes the same keys again from the start (an attempt cut short
     * never completes its multipart upload, which is aborted), and the manifest, written last, names the bytes of
     * the upload that completed.
     */
    async extractTrainingData(raw: { version: string; from: string; to: string }): Promise<TrainingDataManifest> {
      const input = parseInput(extractInputSchema, raw, 'extractTrainingData');
      const ctx = Context.current();
      const Key = `${retrainingPrefix(input.version)}training-data.csv`;
      let client: PoolClient;
      try {
        client = await checkOut(pool);
      } catch (err) {
        throw postgresFailure(err, 'connect for the extract');
      }
      const query = extractQuery(client, input.from, input.to);
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          hash.update(chunk);
          done(null, chunk);
        },
      });
      // Every second, rows or not: a COPY waiting on a lock still heartbeats, so a cancellation reaches it.
      ctx.heartbeat({ bytes });
      const beat = setInterval(() => ctx.heartbeat({ bytes }), 1000);
      const source = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
      const upload = new Upload({
        client: s3,
        params: { Bucket: buckets.models, Key, Body: meter, ContentType: 'text/csv' },
        partSize: PART_SIZE,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      const stop = () => {
        source.destroy(new Error('cancelled'));
        void upload.abort();
      };
      ctx.cancellationSignal.addEventListener('abort', stop);
      const piping = pipeline(source, meter);
      piping.catch(() => undefined);
      try {
        await Promise.all([upload.done(), piping]);
      } catch (err) {
        // The connection's state after a broken COPY is unknown: it is closed, not returned to the pool.
        client.release(err as Error);
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw (err as { code?: string }).code
          ? postgresFailure(err, 'COPY of ai_feedback')
          : storeFailure(`upload ${Key}`, err);
      } finally {
        clearInterval(beat);
        ctx.cancellationSignal.removeEventListener('abort', stop);
      }
      client.release();
      const manifest: TrainingDataManifest = {
        key: Key,
        rows: source.rowCount,
        bytes,
        sha256: hash.digest('hex'),
        query,
        from: new Date(input.from).toISOString(),
        to: new Date(input.to).toISOString(),
        extractedAt: new Date().toISOString(),
      };
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: buckets.models,
            Key: `${retrainingPrefix(input.version)}manifest.json`,
            Body: JSON.stringify(manifest, null, 2),
            ContentType: 'application/json',
          }),
        );
      } catch (err) {
        throw storeFailure('put the extract manifest', err);
      }
      return manifest;
    },
  };
}
