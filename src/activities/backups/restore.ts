/**
 * Seed 002 "Database Recovery": `pg_restore --clean --if-exists -d <target> <backup>`, streamed from the bucket
 * (download, checksum, zstd, pg_restore in one pipe, no file), and the checks that prove a restore: the stored
 * bytes' SHA-256 and size against the manifest, then every table's row count in the restored database.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import type { BackupManifest } from '../../contracts/backups';
import { FailureType } from '../../contracts/failures';
import { postgresFailure } from '../postgres/failure';
import { libpqEnv, pgTool, stderrTail, urlForDatabase } from './pg-tools';
import { databaseOf, storeFailure, type BackupDeps, type BackupStore } from './store';

/** Marks a database this project created to restore into; only such a database is ever dropped by it. */
const SCRATCH_COMMENT = 'aiops-runbooks restore target, workflow ';
const HEARTBEAT_EVERY_MS = 1000;

export interface RestoreRequest {
  backupId: string;
  /** A database of its own (created here), or the configured database itself when `production`. */
  target: { database: string } | { production: true };
  workflowId: string;
}

export interface RestoreResult {
  backupId: string;
  database: string;
  bytes: number;
  restoreMs: number;
  pgRestoreVersion: string;
}

export interface RestoreCheck {
  ok: boolean;
  problems: string[];
  tables: { schema: string; table: string; expected: number; restored: number | null }[];
}

const verificationFailure = (message: string) =>
  ApplicationFailure.create({ type: FailureType.BackupVerificationFailed, message, nonRetryable: true });

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'aiops-restore' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw postgresFailure(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function createRestoreActivities(deps: BackupDeps, store: BackupStore) {
  const { s3, backups } = deps;
  const source = databaseOf(backups.databaseUrl);

  async function manifestOf(backupId: string): Promise<BackupManifest> {
    const manifest = await store.manifest(source, backupId);
    if (!manifest)
      throw ApplicationFailure.create({
        type: FailureType.TargetNotFound,
        message: `backup ${backupId} of ${source} has no manifest: it does not exist or never finished`,
        nonRetryable: true,
      });
    return manifest;
  }

  /**
   * A fresh, empty database to restore into, made idempotently: one this workflow made earlier (a retried
   * attempt's, half restored) is dropped and made again; any other database of that name is refused, so a typo
   * can never restore over somebody's data.
   */
  async function prepareScratch(database: string, workflowId: string): Promise<void> {
    if (database === source) throw verificationFailure(`${database} is the backed-up database itself`);
    await withClient(urlForDatabase(backups.databaseUrl, 'postgres'), async (c) => {
      const { rows } = await c.query<{ comment: string | null }>(
        `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
        [database],
      );
      if (rows.length > 0) {
        if (rows[0].comment !== `${SCRATCH_COMMENT}${workflowId}`)
          throw ApplicationFailure.create({
            type: FailureType.BackupFailed,
            message: `database ${database} already exists and was not made by this restore; choose another name`,
            nonRetryable: true,
          });
        await c.query(`DROP DATABASE ${c.escapeIdentifier(database)} WITH (FORCE)`);
      }
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)}`);
      // COMMENT takes no parameters; the workflow id is quoted as a literal by the client.
      await c.query(
        `COMMENT ON DATABASE ${c.escapeIdentifier(database)} IS ${c.escapeLiteral(`${SCRATCH_COMMENT}${workflowId}`)}`,
      );
    });
  }

  return {
    /**
     * Restores a backup. Into a scratch database: created first (see prepareScratch), restored without owners or
     * grants, so a role with CREATEDB is enough; safe to retry. Into production (`--clean --if-exists`): the
     * workflow calls it once, behind an approval. Either way `--single-transaction`: a restore that fails, or
     * whose bytes turn out not to match the manifest, leaves the target as it was, because pg_restore is killed
     * before it can commit.
     */
    async restoreBackup(req: RestoreRequest): Promise<RestoreResult> {
      const signal = Context.current().cancellationSignal;
      const started = performance.now();
      const manifest = await manifestOf(req.backupId);
      const production = 'production' in req.target;
      const database = 'production' in req.target ? source : req.target.database;
      const serverMajor = await withClient(backups.databaseUrl, async (c) =>
        Math.floor(
          Number((await c.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`)).rows[0].n) / 10000,
        ),
      );
      const pgRestore = await pgTool('pg_restore', serverMajor, backups.binDir);
      if (!production) await prepareScratch(database, req.workflowId);

      let body: Readable;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: manifest.bucket, Key: manifest.key }));
        body = res.Body as Readable;
      } catch (err) {
        throw storeFailure(`get ${manifest.key}`, err);
      }
      const stderr = stderrTail();
      const child = spawn(
        pgRestore.path,
        [
          '--single-transaction',
          '--exit-on-error',
          '--no-password',
          ...(production ? ['--clean', '--if-exists'] : ['--no-owner', '--no-privileges']),
          `--dbname=${database}`,
        ],
        { env: libpqEnv(backups.databaseUrl, database), stdio: ['pipe', 'ignore', 'pipe'] },
      );
      child.stderr.on('data', (c: Buffer) => stderr.push(c));
      const exited = new Promise<string | undefined>((resolve) => {
        child.on('error', (err) => resolve(`pg_restore could not start: ${err.message}`));
        child.on('close', (code, sig) =>
          resolve(code === 0 ? undefined : `pg_restore exited with ${code ?? sig}: ${stderr.text}`),
        );
      });
      // pg_restore must never see the end of its input unless every byte matched the manifest: an EOF would let it
      // commit what it had. Its stdin is ended only by the sink's final(), which runs after the checksum passed (a
      // destroyed sink leaves it open); on any error pg_restore is killed instead, and the server rolls back the
      // transaction it was in.
      const abandon = () => child.kill('SIGKILL');
      // A pg_restore that fails part-way stops reading; the rest of the object is still read and hashed, so the
      // error says whether the bytes were wrong or the restore was.
      let restoreStopped = false;
      let pending: (() => void) | undefined;
      const release = () => {
        const p = pending;
        pending = undefined;
        p?.();
      };
      child.stdin.on('error', () => {
        restoreStopped = true;
        release();
      });
      child.on('close', () => {
        restoreStopped = true;
        release();
      });
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          if (restoreStopped || child.stdin.write(chunk)) return done();
          pending = done;
          child.stdin.once('drain', release);
        },
        final(done) {
          if (!restoreStopped) child.stdin.end();
          done();
        },
      });
      let bytes = 0;
      let lastBeat = 0;
      const hash = createHash('sha256');
      let mismatch: string | undefined;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          hash.update(chunk);
          if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
            lastBeat = Date.now();
            heartbeat({ phase: 'restore', bytes, of: manifest.size });
          }
          done(null, chunk);
        },
        flush(done) {
          const sha256 = hash.digest('hex');
          if (bytes !== manifest.size || sha256 !== manifest.sha256) {
            mismatch = `${manifest.key}: ${bytes} bytes with SHA-256 ${sha256}, the manifest says ${manifest.size} bytes with ${manifest.sha256}`;
            abandon();
            done(new Error(mismatch));
          } else done();
        },
      });
      const decompress = createZstdDecompress();
      const onCancel = () => {
        abandon();
        body.destroy();
      };
      signal.addEventListener('abort', onCancel);
      try {
        await pipeline(body, meter, decompress, sink);
      } catch (err) {
        abandon();
        await exited;
        if (signal.aborted) throw signal.reason;
        if (mismatch) throw verificationFailure(`checksum mismatch: ${mismatch}`);
        if (err instanceof Error && (err as { code?: string }).code?.startsWith('ZSTD_error'))
          throw verificationFailure(`${manifest.key} is not a valid zstd stream: ${err.message}`);
        throw storeFailure(`read ${manifest.key}`, err);
      } finally {
        signal.removeEventListener('abort', onCancel);
      }
      const problem = await exited;
      if (problem) throw ApplicationFailure.create({ type: FailureType.BackupFailed, message: problem });
      return {
        backupId: req.backupId,
        database,
        bytes,
        restoreMs: Math.round(performance.now() - started),
        pgRestoreVersion: pgRestore.version,
      };
    },

    /** The proof: every table the manifest counted has exactly that many rows in the restored database. */
    async checkRestoredDatabase(req: { backupId: string; database: string }): Promise<RestoreCheck> {
      const manifest = await manifestOf(req.backupId);
      return withClient(urlForDatabase(backups.databaseUrl, req.database), async (c) => {
        const tables: RestoreCheck['tables'] = [];
        const problems: string[] = [];
        for (const t of manifest.tables) {
          const name = `${c.escapeIdentifier(t.schema)}.${c.escapeIdentifier(t.table)}`;
          const exists = await c.query('SELECT to_regclass($1) IS NOT NULL AS ok', [name]);
          let restored: number | null = null;
          if (exists.rows[0].ok) {
            restored = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
          }
          tables.push({ schema: t.schema, table: t.table, expected: t.rows, restored });
          if (restored === null) problems.push(`${t.schema}.${t.table} is missing`);
          else if (restored !== t.rows) problems.push(`${t.schema}.${t.table}: ${restored} rows, manifest ${t.rows}`);
        }
        // A smoke query the application's own reads depend on: its tables answer an ordered, indexed read.
        const { rows } = await c.query<{ ok: boolean }>(
          `SELECT to_regclass('public.wedding_optimizations') IS NOT NULL AS ok`,
        );
        if (rows[0].ok) await c.query('SELECT id FROM public.wedding_optimizations ORDER BY id DESC LIMIT 1');
        return { ok: problems.length === 0, problems, tables };
      });
    },

    /** Drops a scratch database this project made (its comment says so); any other database is refused. */
    async dropScratchDatabase(req: { database: string }): Promise<{ dropped: boolean }> {
      return withClient(urlForDatabase(backups.databaseUrl, 'postgres'), async (c) => {
        const { rows } = await c.query<{ comment: string | null }>(
          `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
          [req.database],
        );
        if (rows.length === 0) return { dropped: false };
        if (!rows[0].comment?.startsWith(SCRATCH_COMMENT) || req.database === source)
          throw ApplicationFailure.create({
            type: FailureType.NotAuthorized,
            message: `database ${req.database} was not made by a restore of this project; not dropped`,
            nonRetryable: true,
          });
        await c.query(`DROP DATABASE ${c.escapeIdentifier(req.database)} WITH (FORCE)`);
        return { dropped: true };
      });
    },
  };
}
