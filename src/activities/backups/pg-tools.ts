/** pg_dump and pg_restore of the server's own major version, the zstd they are piped through, and their credentials. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failures';

const run = promisify(execFile);

/** Debian's (and the worker image's) layout: one directory per installed major version. */
const debianBinDir = (major: number) => `/usr/lib/postgresql/${major}/bin`;

export interface PgTool {
  path: string;
  version: string;
}

/**
 * The tool for a server of this major version. A pg_dump older than the server cannot read its catalogs, and a
 * newer one writes an archive the server's own pg_restore may refuse, so only the same major is accepted; a
 * mismatch is a deployment problem that retrying will not fix.
 */
export async function pgTool(name: 'pg_dump' | 'pg_restore', serverMajor: number, binDir?: string): Promise<PgTool> {
  const path = join(binDir ?? debianBinDir(serverMajor), name);
  const refuse = (why: string) =>
    ApplicationFailure.create({
      type: FailureType.BackupFailed,
      message: `${name} for PostgreSQL ${serverMajor}: ${why} (set POSTGRES_BIN_DIR, or install postgresql-client-${serverMajor})`,
      nonRetryable: true,
    });
  if (!existsSync(path)) throw refuse(`${path} does not exist`);
  const { stdout } = await run(path, ['--version']);
  const version = stdout.trim();
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version.replace(/^[^)]*\)/, ''))?.[1]);
  if (major !== serverMajor) throw refuse(`${path} is "${version}"`);
  return { path, version };
}

/**
 * The zstd command (Debian's `zstd` package) on the worker's PATH. A dump is piped from pg_dump straight into it,
 * so the worker handles only the compressed bytes: reading the raw dump through Node and compressing it in Node's
 * zlib cost the worker about 8 CPU seconds more per 1.7 GB (README "Database backup").
 */
export async function zstdTool(): Promise<PgTool> {
  try {
    const { stdout } = await run('zstd', ['--version']);
    return { path: 'zstd', version: stdout.trim() };
  } catch (err) {
    throw ApplicationFailure.create({
      type: FailureType.BackupFailed,
      message: `zstd could not run (${(err as Error).message}); install the zstd package on the worker`,
      nonRetryable: true,
    });
  }
}

/** The bytes zstd read, from its `-vv` summary line (`... (1668759172 B => 285071134 B, ...)`). */
export function zstdInputBytes(stderr: string): number | undefined {
  const m = /\(\s*(\d+) B =>\s*\d+ B,/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * The connection as libpq environment variables: the password goes to the child's environment, never to its
 * command line (where `ps` shows it) and never into workflow history. Nothing else of the worker's environment is
 * passed on, so a stray PG* variable cannot redirect the tool.
 */
export function libpqEnv(url: string, database?: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PGHOST: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGDATABASE: database ?? decodeURIComponent(u.pathname.replace(/^\//, '')),
    PGAPPNAME: 'aiops-runbooks-backup',
    PGCONNECT_TIMEOUT: '15',
  };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** The same server, another database: for scratch databases and the maintenance connection. */
export function urlForDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The last bytes a child wrote to stderr, for the error message. */
export function stderrTail(limit = 4000) {
  let text = '';
  return {
    push(chunk: Buffer) {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    get text() {
      return text.trim();
    },
  };
}
