/**
 * `npm run bench -- extract`: the retraining's training-data extract against `psql \copy` on the same rows, in the
 * same run.
 *
 *   baseline  psql -qc "\copy (<the extract's query>) TO '<file>' WITH (FORMAT csv, HEADER true)"   (from process start)
 *   ours      extractTrainingData: COPY ... TO STDOUT streamed into an S3 multipart upload on MinIO, then the
 *             manifest (called directly, from the call to the manifest written)
 *
 * Rounds alternate the order (AB, BA, ...: ABBA) after a warm-up round that is discarded. Both sides are checked
 * before any speed is reported: the file's SHA-256 and line count against the object's SHA-256 (read back from
 * S3) and the manifest's row count. This process's RSS is sampled while ours runs.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Pool } from 'pg';
import { createRetrainingActivities } from '../../src/activities/retraining';
import { extractQuery } from '../../src/activities/retraining/extract';
import { loadConfig } from '../../src/config';
import type { TrainingDataManifest } from '../../src/contracts/retraining';
import { bootstrapDatabase } from '../../src/db/bootstrap';
import { createS3Client } from '../../src/workers/s3-client';
import { localPostgresAdminUrl } from '../lib/stack';
import { exitFailed, flag, median, mib, printTable, progress, rssSampler, timeShell } from './report';

const HELP = `Usage: npm run bench -- extract [--rows N] [--rounds N]

Defaults: 5,000,000 ai_feedback rows in database aiops_bench, 2 measured rounds after a warm-up (ABBA). Needs the
stack (npm start, or npm run stack -- up) and psql on PATH. --rows 1000000 for a quick run.
`;

const say = progress('extract');
const FROM = '2026-01-01T00:00:00.000Z';
const TO = '2026-02-01T00:00:00.000Z';

async function load(admin: Client, rows: number): Promise<void> {
  await admin.query('TRUNCATE ai_feedback RESTART IDENTITY');
  await admin.query(
    `INSERT INTO ai_feedback (recommendation_id, rating, outcome, model_version, created_at)
     SELECT g, 1 + g % 5, (ARRAY['accepted', 'rejected', 'ignored'])[1 + g % 3], '2026-01-bench',
            timestamptz '2026-01-01' + make_interval(secs => (g::bigint * 2678000 / $1)::double precision)
       FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await admin.query('VACUUM ANALYZE ai_feedback');
}

const sha256File = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const rows = flag('rows', 5_000_000);
  const rounds = flag('rounds', 2);
  const config = loadConfig();
  const appUrl = new URL(config.postgres.url);
  appUrl.pathname = '/aiops_bench';
  await bootstrapDatabase({ adminUrl: localPostgresAdminUrl(), appUrl: appUrl.toString() });
  const admin = new Client({ connectionString: localPostgresAdminUrl('aiops_bench') });
  await admin.connect();
  say(`loading ${rows} rows`);
  await load(admin, rows);
  const query = extractQuery(admin, FROM, TO);
  const file = `/tmp/aiops-bench-extract-${process.pid}.csv`;

  const pool = new Pool({ connectionString: appUrl.toString(), max: 2 });
  const s3 = createS3Client(config.s3);
  const activities = createRetrainingActivities({ pool, s3, buckets: config.s3.buckets });
  const baseline: number[] = [];
  const ours: number[] = [];
  let peakRss = 0;
  let startRss = 0;

  const runBaseline = async (measured: boolean) => {
    rmSync(file, { force: true });
    const { ms } = await timeShell(
      `psql '${appUrl.toString()}' -v ON_ERROR_STOP=1 -qc "\\copy (${query}) TO '${file}' WITH (FORMAT csv, HEADER true)"`,
    );
    const lines = readFileSync(file).reduce((n, b) => (b === 10 ? n + 1 : n), 0);
    if (lines !== rows + 1) throw new Error(`psql wrote ${lines - 1} rows, not ${rows}`);
    if (measured) baseline.push(ms);
    return sha256File(file);
  };
  const runOurs = async (measured: boolean) => {
    const sampler = rssSampler();
    const t0 = performance.now();
    const manifest = (await new MockActivityEnvironment().run(activities.extractTrainingData, {
      version: '2026-01-bench',
      from: FROM,
      to: TO,
    })) as TrainingDataManifest;
    const ms = performance.now() - t0;
    const mem = sampler.stop();
    if (manifest.rows !== rows) throw new Error(`the manifest says ${manifest.rows} rows, not ${rows}`);
    // The stored object, read back from S3, must be what the manifest says.
    const h = createHash('sha256');
    const obj = await s3.send(new GetObjectCommand({ Bucket: config.s3.buckets.models, Key: manifest.key }));
    for await (const chunk of obj.Body as AsyncIterable<Buffer>) h.update(chunk);
    if (h.digest('hex') !== manifest.sha256) throw new Error('the stored object does not match its manifest');
    if (measured) {
      ours.push(ms);
      peakRss = Math.max(peakRss, mem.peakRss);
      startRss = startRss || mem.startRss;
    }
    return manifest.sha256;
  };

  for (let round = 0; round <= rounds; round++) {
    const measured = round > 0;
    const oursFirst = round % 2 === 0;
    say(
      `round ${round}${measured ? '' : ' (warm-up, discarded)'}: ${oursFirst ? 'ours, then psql' : 'psql, then ours'}`,
    );
    const [a, b] = oursFirst
      ? [await runOurs(measured), await runBaseline(measured)]
      : [await runBaseline(measured), await runOurs(measured)];
    if (a !== b) throw new Error('the two extracts differ: their SHA-256 do not match');
  }
  rmSync(file, { force: true });
  await pool.end();
  await admin.end();
  s3.destroy();

  const rate = (ms: number) => Math.round(rows / (ms / 1000));
  const spread = (v: number[]) => `${Math.round(Math.min(...v))}-${Math.round(Math.max(...v))} ms`;
  process.stdout.write(
    `${rows} rows, ${rounds} measured rounds (ABBA, warm-up discarded), ${cpus().length} cores; both outputs ` +
      'byte-identical (SHA-256)\n',
  );
  printTable([
    ['extract', 'median', 'spread', 'rows/s', 'vs psql', 'peak RSS'],
    [
      'psql \\copy to a file',
      `${Math.round(median(baseline))} ms`,
      spread(baseline),
      String(rate(median(baseline))),
      '1.00x',
      '',
    ],
    [
      'extractTrainingData to S3',
      `${Math.round(median(ours))} ms`,
      spread(ours),
      String(rate(median(ours))),
      `${(median(baseline) / median(ours)).toFixed(2)}x`,
      `${mib(peakRss)} (${mib(startRss)} before)`,
    ],
  ]);
}

main().catch(exitFailed);
