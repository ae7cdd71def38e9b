/**
 * seed 002 Sunday Maintenance Window, "AI Model Updates" (./scripts/deploy-ai-models.sh production): the newest model
 * the retraining promoted, read from model_versions, and its artifacts put where the engines read them (the model
 * bucket's root, the place the model backup copies and the AI service recovery restores), with a marker naming
 * the model served. Server-side copies (no byte passes through the worker), resumed from the last key heartbeated.
 */
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';
import { parseInput, z } from '../../contracts/input';
import {
  SERVED_MODEL_MARKER,
  type ModelMetrics,
  type PromotedModel,
  type ServedModel,
} from '../../contracts/retraining';
import type { Pool } from 'pg';
import { copyObject, listPlace, servingPlace, type Place } from '../backups/model-copy';
import { isProgress, type ModelCopyProgress } from '../backups/models';
import { storeFailure } from '../backups/store';
import { postgresFailure } from '../postgres/failure';

const deploySchema = z
  .object({
    /** Names this deployment's copy of the models it replaces: the workflow run's. */
    deployId: z.string().regex(/^[a-z0-9-]{1,80}$/, 'must be lowercase letters, digits and -'),
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a version label'),
    artifactsUri: z
      .string()
      .regex(/^s3:\/\/[a-z0-9.-]+\/retraining\/[A-Za-z0-9._-]+\/models\/$/, 'must be a retraining models location'),
    workflowId: z.string().min(1, 'must name the workflow'),
  })
  .strict();

export interface ServingDeps {
  pool: Pool;
  s3: S3Client;
  buckets: { models: string; backups: string };
}

/** Where a deployment keeps the models it replaced (backup bucket), until the next one. */
export const keptModelsPrefix = (deployId: string) => `model-deploys/${deployId}/`;
const KEPT_MARKER = 'kept.json';

export function createServingActivities({ pool, s3, buckets }: ServingDeps) {
  const root: Place = servingPlace(buckets.models);

  /**
   * Makes `to` hold exactly the served objects of `from` (the retraining's prefix at the model bucket's root is
   * neither copied nor deleted). Copies go on after the key heartbeated by an earlier attempt, and deleting what the
   * source lacks comes last, so a retry at any point ends the same.
   */
  async function place(from: Place, to: Place, keepAlso: string[] = []) {
    const signal = Context.current().cancellationSignal;
    const checkpoint = activityInfo().heartbeatDetails as unknown;
    const progress: ModelCopyProgress = isProgress(checkpoint) ? { ...checkpoint } : { lastKey: '', copied: 0 };
    const source = (await listPlace(s3, from)).sort((a, b) => (a.key < b.key ? -1 : 1));
    for (const o of source) {
      if (progress.lastKey && o.key <= progress.lastKey) continue;
      if (signal.aborted) throw signal.reason;
      await copyObject(
        s3,
        { bucket: from.bucket, key: `${from.prefix}${o.key}`, size: o.size },
        { bucket: to.bucket, key: `${to.prefix}${o.key}` },
      );
      progress.lastKey = o.key;
      progress.copied++;
      heartbeat(progress);
    }
    // Nothing under retraining/ is deleted: a retraining writing there meanwhile loses nothing.
    const keep = new Set([...source.map((o) => o.key), ...keepAlso]);
    const extra = (await listPlace(s3, to)).map((o) => o.key).filter((k) => !keep.has(k));
    for (let i = 0; i < extra.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: to.bucket,
          Delete: { Objects: extra.slice(i, i + 1000).map((k) => ({ Key: `${to.prefix}${k}` })), Quiet: true },
        }),
      );
    }
    const deleted = extra.length;
    return { count: source.length, copied: progress.copied, deleted };
  }

  return {
    /** The model promoted last (model_versions, by decision time), or undefined when none ever was. */
    async newestPromotedModel(): Promise<PromotedModel | undefined> {
      let found;
      try {
        found = await pool.query<{
          version: string;
          artifacts_uri: string;
          metrics: ModelMetrics;
          data_key: string | null;
          decided_at: Date;
        }>(
          `SELECT version, artifacts_uri, metrics, data_manifest->>'key' AS data_key, decided_at
             FROM model_versions WHERE decision = $1 ORDER BY decided_at DESC LIMIT 1`,
          ['promoted'],
        );
      } catch (err) {
        throw postgresFailure(err, 'newest promoted model');
      }
      const r = found.rows[0];
      if (!r) return undefined;
      return {
        version: r.version,
        artifactsUri: r.artifacts_uri,
        metrics: r.metrics,
        ...(r.data_key && { dataKey: r.data_key }),
        decidedAt: r.decided_at.toISOString(),
      };
    },

    /** The model the serving location holds, by its marker; undefined when no deployment wrote one. */
    async servedModel(): Promise<ServedModel | undefined> {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: buckets.models, Key: SERVED_MODEL_MARKER }));
        return JSON.parse(await res.Body!.transformToString()) as ServedModel;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
        throw storeFailure(`get ${SERVED_MODEL_MARKER}`, err);
      }
    },

    /**
     * The served models (marker included) copied to the backup bucket before a deployment replaces them, with a
     * marker written last: restoreServingModels refuses a copy without it. Safe to repeat.
     */
    async keepServingModels(raw: { deployId: string }) {
      const { deployId } = parseInput(deploySchema.pick({ deployId: true }), raw, 'keepServingModels');
      const prefix = keptModelsPrefix(deployId);
      try {
        const placed = await place(root, { bucket: buckets.backups, prefix: `${prefix}objects/` });
        await s3.send(
          new PutObjectCommand({
            Bucket: buckets.backups,
            Key: `${prefix}${KEPT_MARKER}`,
            Body: JSON.stringify({ count: placed.count, keptAt: new Date().toISOString() }),
            ContentType: 'application/json',
          }),
        );
        return { ...placed, prefix };
      } catch (err) {
        if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
        throw storeFailure('keep the serving models', err);
      }
    },

    /** The models kept by keepServingModels put back at the serving location, exactly (marker included). */
    async restoreServingModels(raw: { deployId: string }) {
      const { deployId } = parseInput(deploySchema.pick({ deployId: true }), raw, 'restoreServingModels');
      const prefix = keptModelsPrefix(deployId);
      try {
        try {
          await s3.send(new GetObjectCommand({ Bucket: buckets.backups, Key: `${prefix}${KEPT_MARKER}` }));
        } catch (err) {
          const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
          if (e.name !== 'NoSuchKey' && e.$metadata?.httpStatusCode !== 404) throw err;
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: `deployId: the serving models were never kept for ${deployId}`,
            nonRetryable: true,
          });
        }
        return await place({ bucket: buckets.backups, prefix: `${prefix}objects/` }, root);
      } catch (err) {
        if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
        throw storeFailure('restore the serving models', err);
      }
    },

    /**
     * Makes the serving location hold exactly the model's artifacts (the retraining's prefix left alone), then
     * writes the marker naming it. Resumable like every copy here.
     */
    async deployModelArtifacts(raw: { deployId: string; version: string; artifactsUri: string; workflowId: string }) {
      const input = parseInput(deploySchema, raw, 'deployModelArtifacts');
      const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.+)$/.exec(input.artifactsUri)!;
      if (bucket !== buckets.models) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidInput,
          message: `artifactsUri: ${input.artifactsUri} is not in the model bucket ${buckets.models}`,
          nonRetryable: true,
          details: [{ field: 'artifactsUri' }],
        });
      }
      try {
        if ((await listPlace(s3, { bucket, prefix })).length === 0) {
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: `no model artifacts under ${input.artifactsUri}`,
            nonRetryable: true,
          });
        }
        const placed = await place({ bucket, prefix }, root, [SERVED_MODEL_MARKER]);
        const marker: ServedModel = {
          version: input.version,
          artifactsUri: input.artifactsUri,
          deployedAt: new Date().toISOString(),
          workflowId: input.workflowId,
        };
        await s3.send(
          new PutObjectCommand({
            Bucket: buckets.models,
            Key: SERVED_MODEL_MARKER,
            Body: JSON.stringify(marker, null, 2),
            ContentType: 'application/json',
          }),
        );
        return placed;
      } catch (err) {
        if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
        throw storeFailure(`deploy model ${input.version}`, err);
      }
    },
  };
}
