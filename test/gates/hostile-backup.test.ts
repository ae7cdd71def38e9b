/**
 * Hostile decisions at the gate of a restore over production (restoreDatabase, src/workflows/backup/), reached as
 * its own test reaches it: a real backup of this file's own database (pg_dump, MinIO) to restore from. The gate is
 * bombarded and sent forged decisions while it waits; none decides it or fails a workflow task, and the refusal
 * that follows leaves production as it was.
 */
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { databaseBackup, restoreDatabase } from '../../src/workflows';
import { restoreStatusQuery } from '../../src/workflows/backup/messages';
import { decideUpdate } from '../../src/workflows/gates/messages';
import { emptyPrefix, ensureBucket, withPg } from '../backup/helpers';
import { assaultGate, workflowTaskFailures } from '../helpers/hostile';
import { runbookSuite } from '../helpers/runbook-suite';
import { rejectsWithCause, replayOwnHistory, uniqueId } from '../helpers/temporal';

const DB = 'aiops_test_gates_backup';
const BUCKET = 'aiops-test-backups';

describe('the restore-over-production gate against hostile decisions', () => {
  const adminUrl = localPostgresAdminUrl(DB);
  const suite = runbookSuite(DB, () => ({ BACKUP_DATABASE_URL: adminUrl, S3_BUCKET_BACKUPS: BUCKET }));
  before(async () => {
    await ensureBucket(suite.deps.s3, BUCKET);
    await emptyPrefix(suite.deps.s3, BUCKET, `postgres/${DB}/`);
    await withPg(adminUrl, (c) => c.query('DROP TABLE IF EXISTS hostile_marker; CREATE TABLE hostile_marker (id int)'));
  });

  suite.test('restoreDatabase refuses them all, and the refusal that follows restores nothing', async () => {
    const { backupId } = await suite.env.client.workflow.execute(databaseBackup, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('hostile-backup'),
      args: [{}],
    });
    // Written after the backup: a restore over production would take it away.
    await withPg(adminUrl, (c) => c.query('INSERT INTO hostile_marker VALUES (1)'));
    const handle = await suite.env.client.workflow.start(restoreDatabase, {
      taskQueue: suite.taskQueue,
      workflowId: uniqueId('hostile-restore-prod'),
      args: [{ backupId, target: { production: true }, requestedBy: 'oncall', reason: 'hostile drill' }],
    });
    await assaultGate(suite.env, handle, { gate: 'restore-production', by: 'platform' });
    assert.equal((await handle.query(restoreStatusQuery)).step, 'awaiting-approval', 'nothing sent decided it');
    await handle.executeUpdate(decideUpdate, {
      args: [{ gate: 'restore-production', decision: 'reject', by: 'ai-lead', reason: 'restore into scratch first' }],
    });
    await rejectsWithCause(handle.result(), /^restore over production refused by ai-lead: restore into scratch first$/);
    assert.equal((await handle.query(restoreStatusQuery)).step, 'refused');
    const marker = await withPg(adminUrl, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM hostile_marker'));
    assert.equal(Number(marker.rows[0].n), 1, 'production untouched');
    assert.equal(await workflowTaskFailures(handle), 0);
    await replayOwnHistory(handle);
  });
});
