/**
 * The dump's upload (src/activities/backups/part-upload.ts) against MinIO: a child's output stored byte for byte
 * through a fixed set of part buffers it is read straight into, the child held back while every buffer is being
 * sent, one PutObject for output shorter than a part, and nothing left in the bucket after an abort, even one that
 * comes while a part is on its way.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { childOutputSocket, PartUpload } from '../../src/activities/backups/part-upload';
import type { OwnedDeps } from '../../src/workers/deps';
import { createS3Client } from '../../src/workers/s3-client';
import { testConfig, testDeps } from '../helpers/deps';
import { exited, waitUntil } from '../helpers/wait';
import { emptyPrefix, ensureBucket, keysUnder, uploadsUnder } from './helpers';

const BUCKET = 'aiops-test-backups';
const PREFIX = 'part-upload-test/';
const MiB = 1024 * 1024;
/** S3's smallest part. */
const PART = 5 * MiB;

/**
 * A child writing `count` 32-byte records to stdout, record i being SHA-256 of "i", in 64 KiB writes; with a pause
 * of `pauseMs` once `pauseAfter` records are out.
 */
const WRITER = `
const { createHash } = require('node:crypto');
const [count, pauseAfter, pauseMs] = process.argv.slice(1).map(Number);
let i = 0, paused = false;
function more() {
  while (i < count) {
    if (!paused && pauseMs && i >= pauseAfter) { paused = true; return setTimeout(more, pauseMs); }
    const batch = [];
    for (let j = 0; j < 2048 && i < count; j++, i++) batch.push(createHash('sha256').update(String(i)).digest());
    if (!process.stdout.write(Buffer.concat(batch))) return process.stdout.once('drain', more);
  }
}
more();
`;

function expectedDigest(count: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(createHash('sha256').update(String(i)).digest());
  return hash.digest('hex');
}

describe('a child process’s output stored through fixed part buffers', () => {
  let deps: OwnedDeps;

  before(async () => {
    deps = await testDeps();
    await ensureBucket(deps.s3, BUCKET);
    await emptyPrefix(deps.s3, BUCKET, PREFIX);
  });
  after(async () => {
    await emptyPrefix(deps.s3, BUCKET, PREFIX);
    await deps?.close();
  });

  /** The writer's output into `Key` through `buffers` part buffers; what the upload saw, and its peak of Buffers. */
  async function store(
    Key: string,
    count: number,
    buffers: number,
    pause: { after: number; ms: number } | undefined,
    s3: S3Client = deps.s3,
  ) {
    const seen = createHash('sha256');
    let seenBytes = 0;
    const upload = new PartUpload(
      s3,
      { Bucket: BUCKET, Key, ContentType: 'application/octet-stream' },
      PART,
      buffers,
      (bytes) => {
        seen.update(bytes);
        seenBytes += bytes.length;
      },
    );
    const output = await childOutputSocket(upload.onread);
    const child = spawn(
      process.execPath,
      ['-e', WRITER, String(count), String(pause?.after ?? 0), String(pause?.ms ?? 0)],
      {
        stdio: ['ignore', output.theirs, 'inherit'],
      },
    );
    output.theirs.destroy();
    const start = process.memoryUsage().arrayBuffers;
    let peak = start;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 10);
    return {
      upload,
      child,
      async done() {
        try {
          await upload.read(output.ours);
          await exited(child);
          assert.equal(child.exitCode, 0, 'the writer exited 0');
          await upload.complete();
        } finally {
          clearInterval(sampler);
          output.ours.destroy();
        }
        return { seenBytes, seen: seen.digest('hex'), buffersGrew: peak - start };
      },
    };
  }

  async function stored(Key: string): Promise<{ bytes: number; sha256: string }> {
    const res = await deps.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    const body = Buffer.from(await res.Body!.transformToByteArray());
    return { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
  }

  it(
    'stores output of several parts byte for byte, holding no more than its part buffers',
    { timeout: 120_000 },
    async () => {
      // 23 MiB and a few records: four full parts and a short fifth.
      const count = (23 * MiB) / 32 + 7;
      const Key = `${PREFIX}several.bin`;
      const result = await (await store(Key, count, 3, undefined)).done();
      const expected = expectedDigest(count);
      assert.deepEqual(await stored(Key), { bytes: count * 32, sha256: expected });
      assert.equal(result.seen, expected, 'the bytes handed to the checksum are the stored ones, in order');
      assert.equal(result.seenBytes, count * 32);
      // Three 5 MiB buffers and the 64 KiB scratch at most; lib-storage's Upload held about twice this and more.
      assert.ok(result.buffersGrew < 3 * PART + MiB, `Buffers grew by ${(result.buffersGrew / MiB).toFixed(1)} MiB`);
      assert.deepEqual(await uploadsUnder(deps.s3, BUCKET, PREFIX, [Key]), [], 'the multipart upload is complete');
    },
  );

  it(
    'with one buffer, holds the child back while each part is sent and loses no byte',
    { timeout: 120_000 },
    async () => {
      // Every part fills the only buffer: reading pauses at each, and the read after each resume lands in the
      // scratch buffer and is copied into the next part.
      const count = (12 * MiB) / 32 + 1001;
      const Key = `${PREFIX}one-buffer.bin`;
      const result = await (await store(Key, count, 1, undefined)).done();
      const expected = expectedDigest(count);
      assert.deepEqual(await stored(Key), { bytes: count * 32, sha256: expected });
      assert.equal(result.seen, expected);
      assert.ok(result.buffersGrew < PART + MiB, `Buffers grew by ${(result.buffersGrew / MiB).toFixed(1)} MiB`);
    },
  );

  it('stores output shorter than a part with one PutObject', { timeout: 60_000 }, async () => {
    const count = 3000;
    const Key = `${PREFIX}short.bin`;
    await (await store(Key, count, 3, undefined)).done();
    assert.deepEqual(await stored(Key), { bytes: count * 32, sha256: expectedDigest(count) });
    assert.deepEqual(await uploadsUnder(deps.s3, BUCKET, PREFIX, [Key]), []);
  });

  /**
   * 40 MiB of output whose child stops after `pauseAfterMiB` and is killed once the multipart upload is listed; the
   * upload is then aborted. Asserts the reading failed with the abort's reason, and the upload and object are gone.
   */
  async function abortMidway(Key: string, pauseAfterMiB: number, s3?: S3Client): Promise<void> {
    const { upload, child, done } = await store(
      Key,
      (40 * MiB) / 32,
      3,
      { after: (pauseAfterMiB * MiB) / 32, ms: 60_000 },
      s3,
    );
    const finished = done();
    finished.catch(() => undefined);
    await waitUntil(
      'the multipart upload begun',
      () => uploadsUnder(deps.s3, BUCKET, PREFIX, [Key]),
      (u) => u.length === 1,
      60_000,
    );
    child.kill('SIGKILL');
    await upload.abort(new Error('cancelled by the test'));
    await assert.rejects(finished, /cancelled by the test/);
    assert.deepEqual(await uploadsUnder(deps.s3, BUCKET, PREFIX, [Key]), [], 'the upload and its parts are gone');
    assert.ok(!(await keysUnder(deps.s3, BUCKET, PREFIX)).includes(Key), 'no object was made');
  }

  it('an aborted upload leaves neither an object nor an unfinished upload', { timeout: 120_000 }, async () => {
    // Two parts' worth, then the child waits: the abort comes while the upload holds stored parts.
    await abortMidway(`${PREFIX}aborted.bin`, 11);
  });

  it('an abort lets the parts already sent finish before it removes the upload', { timeout: 120_000 }, async () => {
    // Every UploadPart reaches the server 1.5 s late, so the abort comes while one is on its way. A part cut off on
    // our side may still be stored by a server that has its bytes, after the abort; so none may be cut off.
    const s3 = createS3Client(testConfig().s3);
    const events: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'AbortMultipartUploadCommand') events.push('abort');
        if (context.commandName !== 'UploadPartCommand') return next(args);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        try {
          const out = await next(args);
          events.push('part stored');
          return out;
        } catch (err) {
          events.push(`part failed: ${(err as Error).name}`);
          throw err;
        }
      },
      { step: 'finalizeRequest', name: 'latePart' },
    );
    try {
      await abortMidway(`${PREFIX}aborted-in-flight.bin`, 6, s3);
      assert.deepEqual(events.slice(0, 2), ['part stored', 'abort'], 'the part on its way was stored, then aborted');
      assert.ok(!events.some((e) => e.startsWith('part failed')), events.join(', '));
    } finally {
      s3.destroy();
    }
  });
});
