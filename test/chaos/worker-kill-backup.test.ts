/**
 * Worker SIGKILL at random points of a database backup's upload: the dump streams into a multipart upload, and the
 * worker process is killed a seeded share of the clean run's upload time after the upload began. Another
 * worker takes the retry after the heartbeat timeout. Counted where the effects land, in the store: exactly one
 * dump object beside its manifest, no unfinished upload of any attempt, every row of the table in the manifest.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { localPostgresAdminUrl } from '../../scripts/lib/stack';
import { backupIdFor } from '../../src/contracts/backups';
import { databaseBackup } from '../../src/workflows';
import { backupLeft, emptyPrefix, ensureBucket, withPg } from '../backup/helpers';
import {
  chaosRuns,
  chaosSuite,
  killAndResume,
  killPoints,
  loadBlobs,
  resultWithin,
  serverCheckpoint,
  tallyBackup,
} from '../helpers/chaos';
import { testConfig } from '../helpers/deps';
import { startFaultProxy } from '../helpers/fault-proxy';
import { replayOwnHistory, uniqueId } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';

const DATABASE = 'aiops_test_chaos_kill_backup';
const BUCKET = 'aiops-test-backups';
/** The heartbeat timeout (30 s), the retry's whole dump and upload, with room for a loaded machine. */
const RECOVERY_DEADLINE_MS = 240_000;
/** How long the link to the store holds each chunk the worker sends. */
const LINK_DELAY_MS = 40;

/** What the dump's heartbeat says while it uploads (src/activities/backups/dump.ts). */
interface UploadProgress {
  phase?: string;
}

describe('a worker SIGKILLed at random points of a database backup upload', () => {
  const runs = chaosRuns();
  const killPoint = killPoints();
  const suite = chaosSuite(DATABASE);
  const adminUrl = localPostgresAdminUrl(DATABASE);
  const prefix = `postgres/${DATABASE}/`;
  const rows = 80_000;
  const settings: NodeJS.ProcessEnv = { BACKUP_DATABASE_URL: adminUrl, S3_BUCKET_BACKUPS: BUCKET };
  /** How long the clean run's upload took: the kill points are shares of it. */
  let cleanUploadMs = 0;

  /**
   * When the dump's first heartbeat from the upload reached the server. The heartbeat's byte count is no finer
   * measure: the parts go up side by side and finish together, so it moves in jumps of several parts.
   */
  async function uploadBegun(handle: WorkflowHandle): Promise<number> {
    await waitUntil(
      'the upload under way',
      () => serverCheckpoint<UploadProgress>(handle),
      (at) => at?.phase === 'upload',
      120_000,
    );
    return Date.now();
  }

  /** Starts a backup on `taskQueue`; returns its handle and the folder its objects go to. */
  async function startBackup(taskQueue: string) {
    const handle = await suite.client.workflow.start(databaseBackup, {
      taskQueue,
      workflowId: uniqueId('kill-backup'),
      args: [{}],
    });
    const described = await handle.describe();
    return { handle, backupPrefix: `${prefix}${backupIdFor(described.startTime, described.runId)}/` };
  }

  suite.scenario(
    'one complete backup, no unfinished upload, every row',
    { row: 'worker SIGKILL: database backup upload (80,000 rows)', runs, timeout: 300_000 + runs * 300_000 },
    async (tally, run) => {
      const { s3 } = suite.deps;
      if (run === 0) {
        await ensureBucket(s3, BUCKET);
        await emptyPrefix(s3, BUCKET, prefix);
        await loadBlobs(adminUrl, rows);
        // The store is reached over a slow link, as a backup to a remote region is: the upload takes seconds, so the
        // kill points spread over its parts instead of all landing after a local upload's second.
        const endpoint = testConfig().s3.endpoint;
        const link = suite.own(await startFaultProxy(Number(new URL(endpoint).port)));
        link.throttle(LINK_DELAY_MS);
        settings.S3_ENDPOINT = link.via(endpoint).replace(/\/$/, '');
      }
      const taskQueue = uniqueId('kill-backup');
      const first = await suite.worker(taskQueue, settings);
      try {
        if (run === 0) {
          // A clean run first: what the store holds after a backup nobody killed, and how many bytes it stored.
          const baseline = await startBackup(taskQueue);
          const began = await uploadBegun(baseline.handle);
          assert.ok(await resultWithin(baseline.handle, RECOVERY_DEADLINE_MS, tally.notes), 'the clean backup');
          cleanUploadMs = Date.now() - began;
          const clean = await backupLeft(s3, BUCKET, prefix, baseline.backupPrefix);
          assert.deepEqual(clean.keys, [`${baseline.backupPrefix}dump-1.pgdump.zst`, clean.manifestKey]);
          await emptyPrefix(s3, BUCKET, prefix);
        }

        const { handle, backupPrefix } = await startBackup(taskQueue);
        const share = killPoint();
        let uploading: number | undefined;
        const result = await killAndResume(
          suite,
          tally,
          taskQueue,
          handle,
          first,
          async () => {
            uploading ??= await uploadBegun(handle);
            return Date.now() - uploading >= share * cleanUploadMs;
          },
          () => resultWithin(handle, RECOVERY_DEADLINE_MS, tally.notes),
          settings,
        );
        await replayOwnHistory(handle);
        const left = await backupLeft(s3, BUCKET, prefix, backupPrefix);
        const backedUp = tallyBackup(tally, left, rows);
        assert.ok(result, 'the backup completed after the kill');
        assert.deepEqual(
          { keys: left.keys, unfinished: left.unfinished, backedUp, dump: left.manifest?.key },
          {
            keys: [left.manifest?.key, left.manifestKey],
            unfinished: [],
            backedUp: rows,
            dump: `${backupPrefix}dump-${left.attempts}.pgdump.zst`,
          },
          'one complete backup of every row, nothing else left in the store',
        );
      } finally {
        await emptyPrefix(s3, BUCKET, prefix);
        if (run === runs - 1) await withPg(adminUrl, (c) => c.query('DROP TABLE IF EXISTS blobs'));
      }
    },
  );
});
