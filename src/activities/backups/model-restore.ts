/**
 * Seed 002 Recovery and Failover, AI Service Recovery: the models of the last known good backup put back where the
 * service reads them (the model bucket), and the serving models kept beforehand so a failed recovery can put those
 * back too. Both are mirrors made of server-side copies: the destination ends up holding exactly the source's
 * objects, the others deleted.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import {
  modelBackupPrefix,
  modelObjectHome,
  type ModelBackupManifest,
  type ModelVerificationRecord,
} from '../../contracts/backups';
import { FailureType, invalidInput } from '../../contracts/failures';
import {
  drillModelPrefix,
  parseCheckModels,
  parseDeleteDrillModels,
  parseFindModelBackup,
  parseRestoreModels,
  parseSnapshotModels,
  recoverySnapshotPrefix,
  type ModelBackupChoice,
  type ModelsPlaced,
  type ModelTarget,
} from '../../contracts/recovery';
import { createModelCatalog } from './model-catalog';
import {
  copyObject,
  copyPlace,
  deleteOthers,
  listPlace,
  S3_COPY_LIMITS,
  servingPlace,
  type CopyLimits,
  type Place,
} from './model-copy';
import { isProgress, type ModelCopyProgress } from './models';
import { storeFailure, type BackupStore } from './store';

/** Written last into a snapshot: without it the snapshot is unfinished and never restored. */
const SNAPSHOT_MARKER = 'snapshot.json';

export function createModelRestoreActivities(
  deps: { s3: S3Client; buckets: { models: string; backups: string }; copyLimits?: CopyLimits },
  store: BackupStore,
) {
  const { s3, buckets } = deps;
  const limits = deps.copyLimits ?? S3_COPY_LIMITS;
  const serving: Place = servingPlace(buckets.models);
  const catalog = createModelCatalog(s3, store);

  /**
   * Where the models are placed: the serving location, or a drill's scratch folder. The serving bucket is never a
   * drill's: a mirror into any folder of it would change what the service reads.
   */
  function placeOf(target: ModelTarget | undefined): Place {
    if (!target) return serving;
    const bucket = target.bucket ?? buckets.backups;
    if (bucket === buckets.models)
      throw invalidInput('target.bucket', `${bucket} is the serving model bucket; a drill restores elsewhere`);
    return { bucket, prefix: target.prefix };
  }

  /** What differs between a place and a model backup's manifest (keys and sizes); empty when they match. */
  async function differences(manifest: ModelBackupManifest, place: Place): Promise<string | undefined> {
    const now = new Map((await listPlace(s3, place)).map((o) => [o.key, o.size]));
    const wrong = manifest.objects.filter((o) => now.get(o.key) !== o.size).map((o) => o.key);
    if (!wrong.length && now.size === manifest.count) return undefined;
    return `${now.size} objects for ${manifest.count}${wrong.length ? `; wrong or missing: ${wrong.slice(0, 5).join(', ')}` : ''}`;
  }

  /**
   * Makes `to` hold exactly the objects of `from`: copies resume after the key heartbeated by an earlier attempt,
   * and deleting what the source lacks comes last, so a retry at any point ends the same.
   */
  async function mirror(from: Place, to: Place): Promise<ModelsPlaced> {
    const signal = Context.current().cancellationSignal;
    const checkpoint = activityInfo().heartbeatDetails as unknown;
    const progress: ModelCopyProgress = isProgress(checkpoint) ? { ...checkpoint } : { lastKey: '', copied: 0 };
    await copyPlace(s3, from, to, {
      startAfter: progress.lastKey || undefined,
      signal,
      limits,
      copied: (key) => {
        progress.lastKey = key;
        progress.copied++;
        heartbeat(progress);
      },
    });
    const source = await listPlace(s3, from);
    const deleted = await deleteOthers(s3, to, new Set(source.map((o) => o.key)));
    return { count: source.length, copied: progress.copied, deleted };
  }

  /**
   * Makes `to` hold exactly a model backup's objects, each copied from where the manifest says its bytes are (the
   * backup's folder or the earlier backup it shares them with). An object `to` holds already at the same size and
   * ETag is left as it is, so a restore over the serving models copies only what differs. Resumes after the key
   * heartbeated by an earlier attempt; deleting what the backup lacks comes last.
   */
  async function placeBackup(manifest: ModelBackupManifest, to: Place): Promise<ModelsPlaced> {
    const signal = Context.current().cancellationSignal;
    const checkpoint = activityInfo().heartbeatDetails as unknown;
    const progress: ModelCopyProgress = isProgress(checkpoint) ? { ...checkpoint } : { lastKey: '', copied: 0 };
    const there = new Map((await listPlace(s3, to)).map((o) => [o.key, o]));
    const objects = [...manifest.objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const o of objects) {
      if (progress.lastKey && o.key <= progress.lastKey) continue;
      if (signal.aborted) throw signal.reason;
      const held = there.get(o.key);
      if (!held || held.size !== o.size || held.etag !== o.etag) {
        await copyObject(
          s3,
          { bucket: store.Bucket, key: modelObjectHome(manifest.backupId, o), size: o.size },
          { bucket: to.bucket, key: `${to.prefix}${o.key}` },
          limits,
        );
        progress.copied++;
      }
      progress.lastKey = o.key;
      heartbeat(progress);
    }
    const deleted = await deleteOthers(s3, to, new Set(objects.map((o) => o.key)));
    return { count: objects.length, copied: progress.copied, deleted };
  }

  return {
    /**
     * The model backup to recover from: the one named, or the newest whose manifest was written (a backup without
     * one never finished), by the time in the manifest. Its ConfigMap comes from the YAML saved beside it.
     */
    async findModelBackup(raw: { backupId?: string } = {}): Promise<ModelBackupChoice> {
      const { backupId } = parseFindModelBackup(raw);
      try {
        const newest = backupId ? await catalog.manifestOf(backupId) : await catalog.newest();
        if (!newest) {
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: backupId
              ? `backupId: model backup ${backupId} does not exist or never finished`
              : `no complete model backup in ${store.Bucket}/models/`,
            nonRetryable: true,
          });
        }
        let configMap: ModelBackupChoice['configMap'];
        if (newest.configMap) {
          const res = await s3.send(new GetObjectCommand({ Bucket: store.Bucket, Key: newest.configMap.key }));
          const doc = parse(await res.Body!.transformToString()) as { data?: Record<string, string> };
          configMap = { name: newest.configMap.name, data: doc.data ?? {} };
        }
        return {
          backupId: newest.backupId,
          prefix: newest.prefix,
          count: newest.count,
          totalBytes: newest.totalBytes,
          createdAt: newest.createdAt,
          configMap,
        };
      } catch (err) {
        throw storeFailure('find model backup', err);
      }
    },

    /**
     * The serving models (or a drill's, with `target`) copied to recovery/<recoveryId>/ with a marker written last;
     * safe to repeat. A drill's snapshot says so in its marker, which is what lets the drill delete it afterwards.
     */
    async snapshotServingModels(raw: {
      recoveryId: string;
      target?: ModelTarget;
    }): Promise<ModelsPlaced & { prefix: string }> {
      const { recoveryId, target } = parseSnapshotModels(raw);
      const prefix = recoverySnapshotPrefix(recoveryId);
      const from = placeOf(target);
      try {
        const placed = await mirror(from, { bucket: store.Bucket, prefix: `${prefix}objects/` });
        await store.putJson(`${prefix}${SNAPSHOT_MARKER}`, {
          count: placed.count,
          takenAt: new Date().toISOString(),
          ...(target && { drillTarget: from }),
        });
        return { ...placed, prefix };
      } catch (err) {
        if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
        throw storeFailure('snapshot serving models', err);
      }
    },

    /**
     * Makes the serving location hold exactly the objects of a model backup or a finished snapshot, then checks it
     * against the backup's manifest (keys and sizes). An unfinished snapshot is refused: restoring it would delete
     * serving models it never copied.
     */
    async restoreModels(raw: { fromPrefix: string; target?: ModelTarget }): Promise<ModelsPlaced> {
      const { fromPrefix, target } = parseRestoreModels(raw);
      const dest = placeOf(target);
      try {
        const isSnapshot = fromPrefix.startsWith('recovery/');
        const manifest = isSnapshot
          ? undefined
          : await store.getJson<ModelBackupManifest>(`${fromPrefix}manifest.json`);
        const complete = isSnapshot
          ? (await store.getJson(`${fromPrefix}${SNAPSHOT_MARKER}`)) !== undefined
          : manifest !== undefined;
        if (!complete) {
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: `fromPrefix: ${fromPrefix} is not a finished ${isSnapshot ? 'snapshot' : 'model backup'}`,
            nonRetryable: true,
          });
        }
        const placed = manifest
          ? await placeBackup(manifest, dest)
          : await mirror({ bucket: store.Bucket, prefix: `${fromPrefix}objects/` }, dest);
        const differ = manifest && (await differences(manifest, dest));
        if (differ) {
          throw ApplicationFailure.create({
            type: FailureType.BackupVerificationFailed,
            message: `${target ? 'restored' : 'serving'} models differ from backup ${manifest!.backupId}: ${differ}`,
            nonRetryable: true,
          });
        }
        return placed;
      } catch (err) {
        if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
        throw storeFailure(`restore models from ${fromPrefix}`, err);
      }
    },
    /**
     * A drill's validation: the models in its scratch folder are exactly the backup's (keys and sizes, from the
     * manifest), read back from the store rather than taken from what the restore reported. The outcome is written
     * beside the backup (verification.json): a model backup a drill has restored is a verified one, which is what
     * lets retention give up older ones.
     */
    async checkRestoredModels(raw: { backupId: string; target: ModelTarget }): Promise<{ count: number }> {
      const { backupId, target } = parseCheckModels(raw);
      const place = placeOf(target);
      try {
        const manifest = await catalog.manifestOf(backupId);
        if (!manifest) {
          throw ApplicationFailure.create({
            type: FailureType.TargetNotFound,
            message: `backupId: model backup ${backupId} does not exist or never finished`,
            nonRetryable: true,
          });
        }
        const differ = await differences(manifest, place);
        const record: ModelVerificationRecord = {
          backupId,
          ok: !differ,
          verifiedAt: new Date().toISOString(),
          target: `${place.bucket}/${place.prefix}`,
        };
        await store.putJson(`${modelBackupPrefix(backupId)}verification.json`, record);
        if (differ) {
          throw ApplicationFailure.create({
            type: FailureType.ValidationFailed,
            message: `models in ${place.bucket}/${place.prefix} differ from backup ${backupId}: ${differ}`,
            nonRetryable: true,
          });
        }
        return { count: manifest.count };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw storeFailure(`check models in ${place.prefix}`, err);
      }
    },

    /**
     * Deletes a drill's model folder and the snapshot its recovery took, in the backup bucket. A snapshot is
     * deleted only when its marker says a drill took it: a production recovery's snapshot is never touched here.
     * Safe to retry: what is gone is not an error.
     */
    async deleteDrillModels(raw: { drillId: string; recoveryId?: string }): Promise<{ deletedObjects: number }> {
      const { drillId, recoveryId } = parseDeleteDrillModels(raw);
      try {
        const keys: string[] = [];
        for await (const k of store.keysUnder(drillModelPrefix(drillId))) keys.push(k);
        if (recoveryId) {
          const prefix = recoverySnapshotPrefix(recoveryId);
          const marker = await store.getJson<{ drillTarget?: Place }>(`${prefix}${SNAPSHOT_MARKER}`);
          if (marker && !marker.drillTarget)
            throw invalidInput('recoveryId', `${prefix} is a production recovery's snapshot, not a drill's`);
          const snapshot: string[] = [];
          for await (const k of store.keysUnder(prefix)) snapshot.push(k);
          // The marker last: until then the snapshot still reads as a drill's, so a retry may finish the job.
          keys.push(
            ...snapshot.filter((k) => !k.endsWith(SNAPSHOT_MARKER)),
            ...snapshot.filter((k) => k.endsWith(SNAPSHOT_MARKER)),
          );
        }
        await store.deleteKeys(keys);
        return { deletedObjects: keys.length };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        throw storeFailure(`delete drill ${drillId} models`, err);
      }
    },
  };
}
