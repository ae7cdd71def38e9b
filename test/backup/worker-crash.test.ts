import { dataConverter } from '../../src/client/data-converter';
import { loadConfig } from '../../src/config';
/**
 * A worker SIGKILLed while the dump is being uploaded: the retry on a second worker leaves exactly one complete
 * backup (its own dump object and manifest), no incomplete multipart upload, and row counts equal to the source.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { createActivities } from '../../src/activities';
import { backupIdFor, type BackupManifest } from '../../src/contracts/backups';
import type { OwnedDeps } from '../../src/workers/deps';
import { databaseBackup } from '../../src/workflows';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import {
  devServerEnv,
  replayOwnHistory,
  uniqueId,
  workflowBundle,
  sealingClient,
  withTestBackupWorker,
} from '../helpers/temporal';
import { exited, waitUntil } from '../helpers/wait';
import { emptyPrefix, ensureBucket, keysUnder, tableDigests, uploadsUnder, withPg } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');
const DB = 'aiops_test_backup_crash';
const BUCKET = 'aiops-test-backups';
const PREFIX = `postgres/${DB}/`;

describe('a worker killed during a database backup', () => {
  let env: TestWorkflowEnvironment;
  let deps: OwnedDeps;
  let settings: NodeJS.ProcessEnv;
  const adminUrl = localPostgresAdminUrl(DB);
  const children: ChildProcess[] = [];

  before(async () => {
    env = await devServerEnv();
    settings = { DATABASE_URL: await testDatabase(DB), BACKUP_DATABASE_URL: adminUrl, S3_BUCKET_BACKUPS: BUCKET };
    deps = await testDeps(settings);
    await ensureBucket(deps.s3, BUCKET);
    await emptyPrefix(deps.s3, BUCKET, PREFIX);
    // About 150 MB of hex, which zstd halves: several 8 MiB parts, so the kill lands between the first part and
    // the last.
    await withPg(adminUrl, async (c) => {
      await c.query('DROP TABLE IF EXISTS blobs');
      await c.query(
        `CREATE TABLE blobs AS
           SELECT g AS id, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 32) i) AS data
             FROM generate_series(1, 150000) g`,
      );
    });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await deps?.close();
    await env?.teardown();
  });

  it(
    'leaves exactly one complete backup and no incomplete multipart upload after the retry',
    { timeout: 240_000 },
    async () => {
      const taskQueue = uniqueId('backup-crash');
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'test', 'helpers', 'maintenance-worker.js')], {
        env: {
          ...process.env,
          ...settings,
          TEMPORAL_TASK_QUEUE: taskQueue,
          TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        },
        stdio: 'ignore',
      });
      children.push(child);
      const handle = await sealingClient(env).workflow.start(databaseBackup, {
        taskQueue,
        workflowId: uniqueId('backup-crash'),
        args: [{}],
      });
      // The first part is in the store once the multipart upload exists: kill the worker then. Its key is known
      // from the run: the backup id is the workflow's start time and run id.
      const described = await handle.describe();
      const firstKey = `${PREFIX}${backupIdFor(described.startTime, described.runId)}/dump-1.pgdump.zst`;
      const begun = await waitUntil(
        'a multipart upload of the first attempt',
        () => uploadsUnder(deps.s3, BUCKET, PREFIX, [firstKey]),
        (u) => u.length > 0,
        60_000,
      );
      child.kill('SIGKILL');
      await exited(child);
      assert.match(begun[0].Key, /\/dump-1\.pgdump\.zst$/);
      const atKill = await keysUnder(deps.s3, BUCKET, PREFIX);
      assert.ok(!atKill.some((k) => k.endsWith('/manifest.json')), `no manifest yet: ${atKill.join(', ')}`);
      assert.ok(!atKill.some((k) => k.endsWith('.pgdump.zst')), 'no dump object looks complete');
      // The mark that lets the retention run find the attempt's folder, should no retry ever complete it.
      assert.ok(
        atKill.some((k) => k.endsWith('/started.json')),
        `the attempt is marked begun: ${atKill.join(', ')}`,
      );

      // A second worker takes the retry once the server notices the first is gone (the heartbeat timeout).
      const activities = createActivities(deps);
      const sealing = { dataConverter: dataConverter(loadConfig()) };
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
        ...sealing,
      });
      const result = await worker.runUntil(
        withTestBackupWorker(env.nativeConnection, taskQueue, activities, () => handle.result(), sealing),
      );
      await replayOwnHistory(handle);

      const prefix = `${PREFIX}${result.backupId}/`;
      assert.deepEqual(await keysUnder(deps.s3, BUCKET, PREFIX), [
        `${prefix}dump-2.pgdump.zst`,
        `${prefix}manifest.json`,
      ]);
      const manifest = JSON.parse(
        await (
          await deps.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}manifest.json` }))
        ).Body!.transformToString(),
      ) as BackupManifest;
      const stored = Buffer.from(
        await (
          await deps.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: manifest.key }))
        ).Body!.transformToByteArray(),
      );
      assert.deepEqual(
        await uploadsUnder(deps.s3, BUCKET, PREFIX, [firstKey, manifest.key]),
        [],
        'the killed attempt’s upload was aborted',
      );
      assert.equal(manifest.key, `${prefix}dump-2.pgdump.zst`);
      assert.equal(manifest.size, stored.length);
      assert.equal(manifest.sha256, createHash('sha256').update(stored).digest('hex'));
      assert.ok(manifest.size > 3 * 8 * 1024 * 1024, `${manifest.size} bytes: a multipart upload`);
      const source = await tableDigests(adminUrl);
      assert.equal(manifest.tables.find((t) => t.table === 'blobs')?.rows, source['public.blobs'].rows);
      assert.equal(source['public.blobs'].rows, 150_000);
    },
  );
});
