/**
 * Database backups end to end on the dev server, with the real pg_dump and pg_restore, PostgreSQL and MinIO: the
 * backup, the restore whose every table equals the source, the drill, a corrupted dump, and retention.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { createActivities } from '../../src/activities';
import {
  planRetention,
  type BackupManifest,
  type BackupSummary,
  type VerificationRecord,
} from '../../src/contracts/backups';
import { innermostCause } from '../../src/contracts/failures';
import type { OwnedDeps } from '../../src/workers/deps';
import { databaseBackup, pruneBackups, restoreDatabase, verifyBackup } from '../../src/workflows';
import { restoreStatusQuery } from '../../src/workflows/backup/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { testDatabase } from '../helpers/databases';
import { testDeps } from '../helpers/deps';
import { invalidInputNaming } from '../helpers/failures';
import { loadOptimizations } from '../helpers/maintenance';
import { pagerDutyEvents, receiverEnv, startRunbookReceiver } from '../helpers/runbook-receiver';
import type { HttpReceiver } from '../helpers/http-receiver';
import {
  devServerEnv,
  queryUntil,
  replayOwnHistory,
  testBackupWorker,
  uniqueId,
  workflowBundle,
} from '../helpers/temporal';
import { dropDatabase, emptyPrefix, ensureBucket, keysUnder, tableDigests, uploadsUnder, withPg } from './helpers';

const DB = 'aiops_test_backup';
const BUCKET = 'aiops-test-backups';
const PREFIX = `postgres/${DB}/`;
const RESTORED = 'aiops_test_backup_restored';

/** What failed the workflow: the innermost failure under the client's WorkflowFailedError (and any ActivityFailure). */
async function workflowFailure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = innermostCause(err);
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    return cause;
  }
  assert.fail('the workflow succeeded');
}

async function objectBytes(deps: OwnedDeps, Key: string): Promise<Buffer> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function manifestOf(deps: OwnedDeps, backupId: string): Promise<BackupManifest> {
  return JSON.parse((await objectBytes(deps, `${PREFIX}${backupId}/manifest.json`)).toString()) as BackupManifest;
}

/**
 * The throwaway databases left from restoring this backup (src/workflows/backup/throwaway.ts names them after it):
 * other files' drills make and drop their own meanwhile.
 */
async function throwawaysOf(backupId: string): Promise<string[]> {
  const prefix = `aiops_restore_${backupId.toLowerCase().replace(/[^a-z0-9]/g, '_')}_`;
  const { rows } = await withPg(localPostgresAdminUrl(), (c) =>
    c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]),
  );
  return rows.map((r) => r.datname);
}

describe('database backups with pg_dump, MinIO and pg_restore', () => {
  let env: TestWorkflowEnvironment;
  let receiver: HttpReceiver;
  let deps: OwnedDeps;
  let workers: Worker[] = [];
  let running: Promise<unknown>;
  let appUrl: string;
  const adminUrl = localPostgresAdminUrl(DB);
  const taskQueue = uniqueId('backup');

  before(async () => {
    env = await devServerEnv();
    appUrl = await testDatabase(DB);
    receiver = await startRunbookReceiver();
    deps = await testDeps({
      DATABASE_URL: appUrl,
      BACKUP_DATABASE_URL: adminUrl,
      S3_BUCKET_BACKUPS: BUCKET,
      ...receiverEnv(receiver),
    });
    await ensureBucket(deps.s3, BUCKET);
    await emptyPrefix(deps.s3, BUCKET, PREFIX);
    await dropDatabase(localPostgresAdminUrl(), RESTORED);
    const pool = new Pool({ connectionString: appUrl, max: 2 });
    await loadOptimizations(pool, 20_000);
    await pool.end();
    // The seed's exclusions, next to a table of the operator's own in another schema.
    await withPg(adminUrl, async (c) => {
      await c.query(`DROP TABLE IF EXISTS temp_import, logs_requests, ops.notes; DROP SCHEMA IF EXISTS ops`);
      await c.query(`CREATE TABLE temp_import AS SELECT g AS id FROM generate_series(1, 500) g`);
      await c.query(`CREATE TABLE logs_requests AS SELECT g AS id, 'GET /' AS line FROM generate_series(1, 700) g`);
      await c.query(
        `CREATE SCHEMA ops; CREATE TABLE ops.notes AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 300) g`,
      );
    });
    const activities = createActivities(deps);
    workers = [
      await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
      }),
      (await testBackupWorker(env.nativeConnection, taskQueue, activities))!,
    ];
    running = Promise.all(workers.map((w) => w.run()));
  });

  after(async () => {
    for (const w of workers) w.shutdown();
    await running;
    await dropDatabase(localPostgresAdminUrl(), RESTORED).catch(() => undefined);
    await deps?.close();
    await receiver?.stop();
    await env?.teardown();
  });

  const start = <A extends unknown[], R>(wf: (...args: A) => Promise<R>, args: A, id = uniqueId(wf.name)) =>
    env.client.workflow.start(wf, { taskQueue, workflowId: id, args });

  let backupId: string;

  it('dumps with pg_dump through zstd into one S3 object with a manifest of sizes, checksum, versions and row counts', async () => {
    const handle = await start(databaseBackup, [{}]);
    const result = await handle.result();
    backupId = result.backupId;
    const manifest = await manifestOf(deps, backupId);
    const stored = await objectBytes(deps, manifest.key);

    assert.equal(manifest.size, stored.length);
    assert.equal(manifest.sha256, createHash('sha256').update(stored).digest('hex'));
    assert.equal(stored.readUInt32LE(0), 0xfd2fb528, 'a zstd frame');
    assert.equal(manifest.format, 'pg_dump-custom+zstd');
    assert.match(manifest.pgDumpVersion, /^pg_dump \(PostgreSQL\) 15\./);
    assert.match(manifest.serverVersion, /^15\./);
    assert.ok(manifest.dumpBytes > manifest.size, 'compressed');
    assert.ok(manifest.snapshotAt <= manifest.completedAt);
    // The audit log is left out: the workflow under test writes to it after the dump.
    const source = await tableDigests(adminUrl);
    const expected = Object.entries(source)
      .filter(([name]) => !/^public\.(temp_|logs_|audit_log$)/.test(name))
      .map(([name, d]) => [name, d.rows]);
    assert.deepEqual(
      manifest.tables
        .filter((t) => t.table !== 'audit_log')
        .map((t) => [`${t.schema}.${t.table}`, t.rows])
        .sort(),
      expected.sort(),
      'every table but the excluded ones, counted',
    );
    assert.equal(manifest.tables.find((t) => t.table === 'wedding_optimizations')?.rows, 20_000);
    assert.deepEqual(await keysUnder(deps.s3, BUCKET, `${PREFIX}${backupId}/`), [
      `${PREFIX}${backupId}/dump-1.pgdump.zst`,
      `${PREFIX}${backupId}/manifest.json`,
    ]);
    assert.deepEqual(await uploadsUnder(deps.s3, BUCKET, PREFIX, [manifest.key]), []);
    assert.equal(result.size, manifest.size);
    await replayOwnHistory(handle);
  });

  it('restores it with pg_restore into a new database whose every table equals the source, excluded ones aside', async () => {
    const handle = await start(restoreDatabase, [
      { backupId, target: { database: RESTORED }, requestedBy: 'oncall', reason: 'test' },
    ]);
    const result = await handle.result();
    assert.equal(result.ok, true, result.problems.join('; '));
    const source = await tableDigests(adminUrl);
    const restored = await tableDigests(localPostgresAdminUrl(RESTORED));
    for (const excluded of ['public.temp_import', 'public.logs_requests']) delete source[excluded];
    // The audit log has grown since (the workflows under test write to it); the restored one is the manifest's.
    const manifest = await manifestOf(deps, backupId);
    assert.equal(restored['public.audit_log'].rows, manifest.tables.find((t) => t.table === 'audit_log')?.rows);
    delete source['public.audit_log'];
    delete restored['public.audit_log'];
    assert.deepEqual(restored, source);
    // A second restore into the same name is refused: that database is not this run's to replace.
    const again = await workflowFailure(
      start(restoreDatabase, [
        { backupId, target: { database: RESTORED }, requestedBy: 'oncall', reason: 'again' },
      ]).then((h) => h.result()),
    );
    assert.equal(again.type, 'BackupFailed');
    assert.match(again.message, /already exists and was not made by this restore/);
  });

  it('proves the newest backup in a restore drill, records it beside the manifest and drops the scratch database', async () => {
    const handle = await start(verifyBackup, [{}]);
    const result = await handle.result();
    assert.equal(result.backupId, backupId);
    assert.equal(result.ok, true);
    assert.deepEqual(result.alerts, []);
    assert.equal(result.newestVerified?.backupId, backupId);
    const record = JSON.parse(
      (await objectBytes(deps, `${PREFIX}${backupId}/verification.json`)).toString(),
    ) as VerificationRecord;
    assert.equal(record.ok, true);
    assert.deepEqual(await throwawaysOf(backupId), []);
    // The daily checklist's "verify backup completion" reads the drill's record.
    const latest = await createActivities(deps).latestBackup();
    assert.equal(latest.key, `${PREFIX}${backupId}/`);
    assert.equal(latest.verifiedAt, record.verifiedAt);
    assert.ok(latest.ageHours! < 1, `${latest.ageHours} h`);
    await replayOwnHistory(handle);
  });

  it('fails the drill of a corrupted dump with a checksum error, pages the escalation chain and records the failure', async () => {
    const corrupt = await (await start(databaseBackup, [{}])).result();
    const manifest = await manifestOf(deps, corrupt.backupId);
    const bytes = await objectBytes(deps, manifest.key);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await deps.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: manifest.key, Body: bytes }));
    const paged = receiver.requests.length;

    const handle = await start(verifyBackup, [{ backupId: corrupt.backupId }]);
    const failure = await workflowFailure(handle.result());
    assert.equal(failure.type, 'BackupVerificationFailed');
    assert.match(
      failure.message,
      new RegExp(`backup ${corrupt.backupId} failed its restore drill: .*(checksum mismatch|zstd)`),
    );
    const triggers = pagerDutyEvents(receiver, paged).filter((e) => e.event_action === 'trigger');
    assert.ok(
      triggers.some((e) => e.payload?.summary.includes(`backup ${corrupt.backupId}`)),
      JSON.stringify(triggers),
    );
    const record = JSON.parse(
      (await objectBytes(deps, `${PREFIX}${corrupt.backupId}/verification.json`)).toString(),
    ) as VerificationRecord;
    assert.equal(record.ok, false);
    assert.match(record.problems.join(' '), /checksum mismatch|zstd/);
    // Newer, but not proven: the checklist still reports the backup that was.
    assert.equal((await createActivities(deps).latestBackup()).key, `${PREFIX}${backupId}/`);
    // The restore never got as far as a database left behind.
    assert.deepEqual(await throwawaysOf(corrupt.backupId), []);
    await replayOwnHistory(handle);
  });

  it('restores over production only after a person approves at the gate', async () => {
    const workflowId = uniqueId('restore-prod');
    const handle = await start(
      restoreDatabase,
      [{ backupId, target: { production: true }, requestedBy: 'oncall', reason: 'test of the gate' }],
      workflowId,
    );
    await queryUntil(handle, restoreStatusQuery, (s) => s.step === 'awaiting-approval', 30_000);
    // Rows written after the backup: the restore puts the database back as the backup had it.
    await withPg(adminUrl, (c) => c.query(`INSERT INTO ops.notes VALUES (9999, 'after the backup')`));
    await assert.rejects(
      handle.executeUpdate(decideUpdate, {
        args: [{ gate: 'restore-production', decision: 'approve', by: 'devops', reason: 'not mine to decide' }],
      }),
    );
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'restore-production', decision: 'approve', by: 'ai-lead', reason: 'checked' }],
    });
    const result = await handle.result();
    assert.equal(result.production, true);
    assert.equal(result.approvedBy, 'ai-lead');
    assert.equal(result.ok, true, result.problems.join('; '));
    const notes = await withPg(adminUrl, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM ops.notes'));
    assert.equal(Number(notes.rows[0].n), 300);
    await replayOwnHistory(handle);
  });

  it('refuses bad input naming the field', async () => {
    const bad = await workflowFailure(start(databaseBackup, [{ compressionLevel: 40 }]).then((h) => h.result()));
    assert.ok(invalidInputNaming('compressionLevel')(bad), bad.message);
    const target = await workflowFailure(
      start(restoreDatabase, [{ target: { database: 'Bad-Name' }, requestedBy: 'x', reason: 'y' } as never]).then((h) =>
        h.result(),
      ),
    );
    assert.equal(target.type, 'InvalidInput');
    assert.match(target.message, /^target/);
  });
});

describe('backup retention', () => {
  const day = (n: number) => new Date(Date.UTC(2026, 10, 25) - n * 86_400_000);
  const id = (d: Date) =>
    `${d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-abc`;
  /** One backup a day for `days` days at 01:00, newest first; `verified` says which days' drills passed. */
  const daily = (days: number, verified: (n: number) => boolean): BackupSummary[] =>
    Array.from({ length: days }, (_, n) => {
      const at = new Date(day(n).getTime() + 3_600_000);
      return {
        backupId: id(at),
        prefix: `p/${n}/`,
        complete: true,
        snapshotAt: at.toISOString(),
        size: 1,
        ...(verified(n) && { verification: { ok: true, verifiedAt: at.toISOString() } }),
      };
    });

  it('keeps the newest of each of N days, M ISO weeks and K months and deletes the rest when a newer one is verified', () => {
    const backups = daily(100, () => true);
    const plan = planRetention(backups, { daily: 7, weekly: 4, monthly: 3 }, day(0));
    const kept = plan.keep.map((k) => k.backupId);
    for (let n = 0; n < 7; n++) assert.ok(kept.includes(backups[n].backupId), `day ${n}`);
    // 2026-11-25 is a Wednesday: the weeks' newest are today, last Sunday (n=3), and the Sundays before.
    for (const n of [10, 17]) assert.ok(kept.includes(backups[n].backupId), `week of day ${n}`);
    // Months: November (today), October's last day (n=25), September's last day (n=56).
    for (const n of [25, 56]) assert.ok(kept.includes(backups[n].backupId), `month of day ${n}`);
    assert.equal(kept.length, 7 + 2 + 2);
    assert.equal(plan.delete.length, 100 - kept.length);
  });

  it('deletes nothing while no newer backup is verified, and drops abandoned attempts only then', () => {
    const unverified = daily(30, () => false);
    const abandoned: BackupSummary = { backupId: id(day(5)), prefix: 'x/', complete: false };
    const none = planRetention([...unverified, abandoned], { daily: 3, weekly: 0, monthly: 0 }, day(0));
    assert.deepEqual(none.delete, []);
    // Only day 20 passed its drill: what is older than it may go, what is newer stays.
    const some = planRetention(
      daily(30, (n) => n === 20),
      { daily: 3, weekly: 0, monthly: 0 },
      day(0),
    );
    const deleted = some.delete.map((d) => d.backupId);
    assert.equal(deleted.length, 9);
    assert.ok(
      some.keep.some((k) => k.backupId === daily(30, () => false)[20].backupId && k.why.includes('newest verified')),
    );
  });

  it('prunes the bucket by the manifests, deleting each backup whole', { timeout: 120_000 }, async () => {
    const env = await devServerEnv();
    const database = 'aiops_test_backup_retention';
    const deps = await testDeps({
      BACKUP_DATABASE_URL: localPostgresAdminUrl(database),
      S3_BUCKET_BACKUPS: BUCKET,
      BACKUP_KEEP_DAILY: '3',
      BACKUP_KEEP_WEEKLY: '1',
      BACKUP_KEEP_MONTHLY: '1',
    });
    const prefix = `postgres/${database}/`;
    try {
      await ensureBucket(deps.s3, BUCKET);
      await emptyPrefix(deps.s3, BUCKET, prefix);
      // Newest written first: the objects' modification times say the opposite of the manifests' snapshot times.
      const backups = daily(12, (n) => n === 1);
      for (const b of backups) {
        const p = `${prefix}${b.backupId}/`;
        await deps.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${p}dump-1.pgdump.zst`, Body: 'x' }));
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `${p}manifest.json`,
            Body: JSON.stringify({ backupId: b.backupId, snapshotAt: b.snapshotAt, size: 1 }),
          }),
        );
        if (b.verification)
          await deps.s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: `${p}verification.json`,
              Body: JSON.stringify(b.verification),
            }),
          );
      }
      // A backup whose every attempt failed with S3 away: the mark it began with, and an upload never completed.
      const abandoned = id(new Date(day(2).getTime() + 2 * 3_600_000));
      const abandonedDump = `${prefix}${abandoned}/dump-1.pgdump.zst`;
      await deps.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${abandoned}/started.json`, Body: '{"attempt":4}' }),
      );
      await deps.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: abandonedDump }));
      assert.equal((await uploadsUnder(deps.s3, BUCKET, prefix, [abandonedDump])).length, 1);
      const taskQueue = uniqueId('retention');
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createActivities(deps),
      });
      const result = await worker.runUntil(
        env.client.workflow.execute(pruneBackups, {
          taskQueue,
          workflowId: uniqueId('prune-backups'),
          args: [{ now: day(0).toISOString() }],
        }),
      );
      // Days 0-2 (daily), day 1 newest verified; week and month are today's. The nine older than day 2 go, and the
      // abandoned attempt with its upload.
      assert.deepEqual(result.deleted.sort(), [...backups.slice(3).map((b) => b.backupId), abandoned].sort());
      assert.deepEqual(await uploadsUnder(deps.s3, BUCKET, prefix, [abandonedDump]), []);
      const left = await keysUnder(deps.s3, BUCKET, prefix);
      assert.deepEqual(
        [...new Set(left.map((k) => k.slice(prefix.length).split('/')[0]))].sort(),
        backups
          .slice(0, 3)
          .map((b) => b.backupId)
          .sort(),
      );
    } finally {
      await deps.close();
      await env.teardown();
    }
  });
});
