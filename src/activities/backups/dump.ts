/**
 * Seed 002 "Database Backups": `pg_dump --exclude-table=temp_* --exclude-table=logs_* | gzip > file`, done as
 * pg_dump (custom format, of the server's major version) → the zstd command → an S3 multipart upload, with no file
 * in between and memory bounded by the part size, whatever the database's size.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import {
  DUMP_FORMAT,
  EXCLUDED_TABLE_PATTERNS,
  type BackupManifest,
  type DumpRequest,
  type TableRows,
} from '../../contracts/backups';
import { FailureType } from '../../contracts/failures';
import { postgresFailure } from '../postgres/failure';
import { childOutputSocket, PartUpload } from './part-upload';
import { libpqEnv, pgTool, stderrTail, zstdInputBytes, zstdTool } from './pg-tools';
import {
  attemptKeys,
  backupPrefix,
  dumpKey,
  startedKey,
  storeFailure,
  type BackupDeps,
  type BackupStore,
} from './store';

/**
 * Parts of 8 MiB, or larger for a database whose dump could need more than 9,000 of them (S3 allows 10,000; the
 * database's size on disk bounds its compressed dump in practice). The dump's memory is its three part buffers, so
 * the smallest part that fits keeps it smallest: 24 MiB up to a 70 GiB database.
 */
const MIN_PART_SIZE = 8 * 1024 * 1024;
export const partSizeFor = (databaseBytes: number) =>
  Math.max(MIN_PART_SIZE, Math.ceil(databaseBytes / 9000 / 1048576) * 1048576);
/** Two parts in flight while a third is filled, as lib-storage's queue of 2 did: reading seldom waits for S3. */
const PART_BUFFERS = 3;
const HEARTBEAT_EVERY_MS = 1000;

/** Every table the dump holds, counted in the dump's own snapshot; the same exclusions as pg_dump's patterns. */
async function countRows(client: Client): Promise<TableRows[]> {
  const { rows } = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
        AND c.relname NOT LIKE 'temp\\_%' AND c.relname NOT LIKE 'logs\\_%'
      ORDER BY 1, 2`,
  );
  const counted: TableRows[] = [];
  for (const { schema, table } of rows) {
    // Identifiers cannot be bound as parameters; escapeIdentifier quotes them as the server would.
    const { rows: n } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`,
    );
    counted.push({ schema, table, rows: Number(n[0].n) });
  }
  return counted;
}

export function createDumpActivities(deps: BackupDeps, store: BackupStore) {
  const { s3, backups } = deps;
  return {
    /**
     * One database backup. The dump and the row counts read one exported snapshot, so the manifest's counts are
     * exactly the dump's. Nothing that looks complete is left by a failed or killed attempt: the dump object only
     * appears when CompleteMultipartUpload is called, which happens only after pg_dump exited 0, and the backup
     * only counts once its manifest exists, which is written after the dump object was checked. Safe to retry:
     * each attempt writes its own dump object under the backup's prefix, aborts the multipart uploads an earlier
     * attempt left there, and, once its own manifest is written, deletes the other attempts' objects.
     */
    async dumpDatabase(req: DumpRequest): Promise<BackupManifest> {
      const info = activityInfo();
      const signal = Context.current().cancellationSignal;
      const startedAt = new Date();
      const client = new Client({ connectionString: backups.databaseUrl, application_name: 'aiops-backup-snapshot' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        const { rows } = await client.query<{
          snapshot: string;
          at: Date;
          database: string;
          version: string;
          num: number;
          bytes: string;
        }>(
          `SELECT pg_export_snapshot() AS snapshot, statement_timestamp() AS at, current_database() AS database,
                  current_setting('server_version') AS version, current_setting('server_version_num')::int AS num,
                  pg_database_size(current_database()) AS bytes`,
        );
        const snap = rows[0];
        const pgDump = await pgTool('pg_dump', Math.floor(snap.num / 10000), backups.binDir);
        const prefix = backupPrefix(snap.database, req.backupId);
        const Key = dumpKey(prefix, info.attempt);
        await store
          .abortUploadsUnder(prefix, attemptKeys(prefix, info.attempt))
          .catch((err) => Promise.reject(storeFailure('abort uploads', err)));
        await store.putJson(startedKey(prefix), { workflowId: req.workflowId, attempt: info.attempt, startedAt });

        const zstd = await zstdTool();
        let storedBytes = 0;
        let lastBeat = 0;
        const hash = createHash('sha256');
        const upload = new PartUpload(
          s3,
          { Bucket: store.Bucket, Key, ContentType: 'application/zstd' },
          partSizeFor(Number(snap.bytes)),
          PART_BUFFERS,
          (bytes) => {
            storedBytes += bytes.length;
            hash.update(bytes);
            if (Date.now() - lastBeat < HEARTBEAT_EVERY_MS) return;
            lastBeat = Date.now();
            heartbeat({ phase: 'upload', key: Key, storedBytes });
          },
        );
        // zstd writes into a socket whose other end reads straight into the part buffers (part-upload.ts).
        const output = await childOutputSocket(upload.onread);
        const stderr = stderrTail();
        const child = spawn(
          pgDump.path,
          [
            '--format=custom',
            // Compressed as a whole by zstd below: pg_dump 15's own compression is gzip only, and slower.
            '--compress=0',
            `--snapshot=${snap.snapshot}`,
            ...EXCLUDED_TABLE_PATTERNS.map((p) => `--exclude-table=${p}`),
            '--no-password',
          ],
          { env: libpqEnv(backups.databaseUrl, snap.database), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stderr.on('data', (c: Buffer) => stderr.push(c));
        // pg_dump writes straight into zstd; -vv for the exact byte counts of its summary line, and zstd's own
        // frame checksum as well as our SHA-256, so a decoder stops at the damaged frame, not at the end.
        const zstdErr = stderrTail();
        const compressor = spawn(zstd.path, [`-${req.compressionLevel}`, '-c', '-vv', '--no-progress', '--check'], {
          stdio: [child.stdout, output.theirs, 'pipe'],
        });
        // Our copies of pg_dump's pipe and of zstd's end of the socket are closed: only the children hold them, so
        // each reader sees the end of its input when its writer exits.
        child.stdout.destroy();
        output.theirs.destroy();
        compressor.stderr!.on('data', (c: Buffer) => zstdErr.push(c));
        const ended = (proc: ReturnType<typeof spawn>, name: string, tail: { text: string }) =>
          new Promise<string | undefined>((resolve) => {
            proc.on('error', (err) => resolve(`${name} could not start: ${err.message}`));
            proc.on('close', (code, sig) =>
              resolve(code === 0 ? undefined : `${name} exited with ${code ?? sig}: ${tail.text}`),
            );
          });
        const exited = Promise.all([ended(child, 'pg_dump', stderr), ended(compressor, 'zstd', zstdErr)]).then(
          ([dumpProblem, zstdProblem]) => dumpProblem ?? zstdProblem,
        );
        // Counted beside the dump on the exporting connection, which must stay open until pg_dump has the snapshot.
        const counting = countRows(client);
        counting.catch(() => undefined);

        const killBoth = () => {
          child.kill('SIGKILL');
          compressor.kill('SIGKILL');
        };
        const stop = () => {
          killBoth();
          void upload.abort(new Error('cancelled'));
        };
        signal.addEventListener('abort', stop);
        try {
          // The object is completed only once both processes' exits say the dump is whole: a dump cut short
          // (pg_dump killed, the database gone) ends zstd's output early too, and its upload is aborted.
          await upload.read(output.ours);
          const problem = await exited;
          if (problem) throw new Error(problem);
          await upload.complete();
        } catch (err) {
          killBoth();
          await upload.abort(err as Error);
          if (signal.aborted) throw signal.reason;
          const problem = await exited;
          if (problem) throw ApplicationFailure.create({ type: FailureType.BackupFailed, message: problem });
          throw storeFailure(`upload ${Key}`, err);
        } finally {
          signal.removeEventListener('abort', stop);
          output.ours.destroy();
        }

        const dumpBytes = zstdInputBytes(zstdErr.text);
        if (dumpBytes === undefined) throw new Error(`zstd did not report the bytes it read: ${zstdErr.text}`);
        const tables = await counting;
        const head = await s3.send(new HeadObjectCommand({ Bucket: store.Bucket, Key }));
        if (head.ContentLength !== storedBytes)
          throw new Error(`${Key} holds ${head.ContentLength} bytes, ${storedBytes} were sent`);
        const manifest: BackupManifest = {
          manifestVersion: 1,
          backupId: req.backupId,
          database: snap.database,
          bucket: store.Bucket,
          key: Key,
          format: DUMP_FORMAT,
          compression: { algorithm: 'zstd', level: req.compressionLevel },
          size: storedBytes,
          sha256: hash.digest('hex'),
          dumpBytes,
          pgDumpVersion: pgDump.version,
          serverVersion: snap.version,
          excluded: [...EXCLUDED_TABLE_PATTERNS],
          tables,
          snapshotAt: snap.at.toISOString(),
          startedAt: startedAt.toISOString(),
          completedAt: new Date().toISOString(),
          workflowId: req.workflowId,
        };
        await store.putJson(`${prefix}manifest.json`, manifest);
        // Earlier attempts' leftovers: completed dump objects no manifest names, uploads a killed attempt began, and
        // the mark that an attempt began.
        const stale: string[] = [];
        for await (const k of store.keysUnder(prefix))
          if (/\/dump-\d+\.pgdump\.zst$/.test(k) && k !== Key) stale.push(k);
        await store.deleteKeys([...stale, startedKey(prefix)]);
        await store.abortUploadsUnder(prefix, attemptKeys(prefix, info.attempt));
        await client.query('COMMIT');
        return manifest;
      } catch (err) {
        if (err instanceof ApplicationFailure || signal.aborted) throw err;
        throw (err as { code?: unknown }).code ? postgresFailure(err) : storeFailure('backup', err);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
