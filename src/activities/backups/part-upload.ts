/**
 * A child process's output stored as an S3 multipart upload through a fixed set of part-sized buffers, which the
 * kernel reads the output straight into and which are sent and filled again: the dump's memory is
 * `buffers × partSize` and nothing else, whatever the size of the output.
 *
 * Why not a pipe and lib-storage's Upload: Node reads a pipe into a new 64 KiB buffer per read, and Upload copies a
 * part's chunks into another new buffer per part. Each part thus left two parts' worth of garbage, freed only when
 * V8 next collected: the dump's memory was mostly that garbage, and a smaller part or fewer parts in flight did not
 * change it (README "Database backup" has the figures). A socket made with `onread` reads into the buffers we give
 * it, so the output is read with no allocation at all; a child can write to a socket as to a pipe, so the child
 * gets the other end as its stdout.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type OnReadOpts, type Socket } from 'node:net';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface PartUploadTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
}

/** Where reads go while every part buffer is being sent (reading is paused then; at most one read lands here). */
const SCRATCH_BYTES = 64 * 1024;
const HANDSHAKE_MS = 10_000;
/** How long abort() lets the parts already sent finish before it cuts them off. */
const PARTS_SETTLE_MS = 30_000;
/** Aborts sent until the upload is gone, and the pause after the first one that leaves it listed. */
const ABORT_ATTEMPTS = 5;
const ABORT_RETRY_MS = 250;

/**
 * A connected pair of sockets: `theirs` to give a child as its stdout (then closed here), `ours` reading what the
 * child writes through `onread`. Linux's abstract socket namespace needs no file (the worker's root file system is
 * read-only); a process that finds the name and connects first is refused, because ours proves itself with a
 * random token before the child is given the other end.
 */
export async function childOutputSocket(onread: OnReadOpts): Promise<{ ours: Socket; theirs: Socket }> {
  const path = `\0aiops-runbooks-${randomBytes(12).toString('hex')}`;
  const token = randomBytes(32);
  const server = createServer();
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    const accepted = new Promise<Socket>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the output socket did not connect')), HANDSHAKE_MS);
      server.on('connection', (socket) => {
        let got = Buffer.alloc(0);
        socket.on('error', () => undefined);
        const check = () => {
          for (let c: Buffer | null; (c = socket.read() as Buffer | null);) got = Buffer.concat([got, c]);
          if (got.length < token.length) return;
          socket.off('readable', check);
          if (got.length !== token.length || !got.equals(token)) return void socket.destroy();
          socket.pause();
          resolve(socket);
        };
        socket.on('readable', check);
      });
    });
    const ours = connect({ path, onread });
    ours.write(token);
    const theirs = await Promise.race([accepted, new Promise<never>((_, reject) => ours.once('error', reject))]);
    return { ours, theirs };
  } finally {
    clearTimeout(timer);
    server.close();
  }
}

/**
 * The upload: the object appears only through complete() (CompleteMultipartUpload, or one PutObject for output
 * shorter than a part); abort() ends it and removes the parts stored so far. While every buffer is being sent the
 * socket is paused, so the child is held back rather than its output buffered.
 */
export class PartUpload {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private current?: Buffer;
  private filled = 0;
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private partNumber = 0;
  private uploadId?: Promise<string>;
  private readonly parts: CompletedPart[] = [];
  private readonly sending = new Set<Promise<void>>();
  private socket?: Socket;
  private paused = false;
  private failure?: Error;
  private failed?: (err: Error) => void;
  /** Ends the PutObject or CompleteMultipartUpload under way as soon as the upload is aborted. */
  private readonly stop = new AbortController();
  /** Ends the CreateMultipartUpload and UploadParts under way, once they had PARTS_SETTLE_MS to finish. */
  private readonly stopSending = new AbortController();
  private aborting?: Promise<void>;

  /** For the output socket: the next read lands in the part being filled, at its end. */
  readonly onread: OnReadOpts = {
    buffer: () => this.nextBuffer(),
    callback: (n: number, buffer: Uint8Array) => this.received(n, buffer as Buffer),
  };

  constructor(
    private readonly s3: S3Client,
    private readonly target: PartUploadTarget,
    private readonly partSize: number,
    private readonly buffers: number,
    /** Every byte, in order, as it arrives (for the checksum and the progress). */
    private readonly onBytes: (bytes: Buffer) => void,
  ) {}

  /** Reads the socket to its end; rejects on a socket error, or as soon as a part cannot be stored. */
  read(socket: Socket): Promise<void> {
    this.socket = socket;
    return new Promise((resolve, reject) => {
      this.failed = reject;
      if (this.failure) reject(this.failure);
      socket.on('error', (err) => this.fail(err));
      socket.once('end', () => resolve());
    });
  }

  /** After the socket's end: the last part, then the object is made whole. */
  async complete(): Promise<void> {
    if (this.partNumber === 0) {
      await this.s3.send(
        new PutObjectCommand({ ...this.target, Body: this.current?.subarray(0, this.filled) ?? Buffer.alloc(0) }),
        { abortSignal: this.stop.signal },
      );
      return;
    }
    if (this.current && this.filled > 0) this.send();
    while (this.sending.size) await Promise.all(this.sending);
    if (this.failure) throw this.failure;
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.target.Bucket,
        Key: this.target.Key,
        UploadId: await this.uploadId!,
        MultipartUpload: { Parts: [...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!) },
      }),
      { abortSignal: this.stop.signal },
    );
  }

  /** Stops reading and removes the upload with what it stored: nothing of it stays in the bucket. Idempotent. */
  abort(reason: Error = new Error('upload aborted')): Promise<void> {
    this.fail(reason);
    this.stop.abort(this.failure);
    this.socket?.destroy();
    return (this.aborting ??= this.removeUpload());
  }

  /**
   * A part the server is still storing when the abort lands can leave the upload listed after the abort returned
   * (MinIO did once in our CI; S3's documentation says an abort may have to be repeated for the same reason).
   * Cutting a part off on our side does not stop a server that already has its bytes, so the parts already sent
   * are let finish first, and the abort is repeated until the upload is no longer listed.
   */
  private async removeUpload(): Promise<void> {
    const cutOff = setTimeout(() => this.stopSending.abort(this.failure), PARTS_SETTLE_MS);
    try {
      await Promise.allSettled([...this.sending]);
    } finally {
      clearTimeout(cutOff);
    }
    const UploadId = await this.uploadId?.catch(() => undefined);
    if (!UploadId) return;
    const upload = { Bucket: this.target.Bucket, Key: this.target.Key, UploadId };
    for (let attempt = 1; attempt <= ABORT_ATTEMPTS; attempt++) {
      await this.s3.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
      if (await this.gone(upload)) return;
      await new Promise((resolve) => setTimeout(resolve, ABORT_RETRY_MS * attempt));
    }
  }

  /** Listed the way the retries' clean-up finds a killed attempt's uploads (src/activities/backups/store.ts). */
  private async gone(upload: { Bucket: string; Key: string; UploadId: string }): Promise<boolean> {
    try {
      const page = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: upload.Bucket, Prefix: upload.Key }));
      return !(page.Uploads ?? []).some((u) => u.UploadId === upload.UploadId);
    } catch {
      return false;
    }
  }

  /** The first failure is the one reported; reading stops at once. */
  private fail(err: Error): void {
    this.failure ??= err;
    this.failed?.(this.failure);
  }

  private nextBuffer(): Uint8Array {
    if (!this.current) {
      this.current = this.takeBuffer();
      this.filled = 0;
    }
    return this.current ? this.current.subarray(this.filled) : this.scratch;
  }

  /** A read of n bytes into the buffer nextBuffer gave; false pauses the socket (no buffer for the next read). */
  private received(n: number, buffer: Buffer): boolean {
    const bytes = buffer.subarray(0, n);
    this.onBytes(bytes);
    if (buffer.buffer === this.scratch.buffer) {
      // Read while paused for want of a buffer (the one read that follows a resume): copied into the part.
      let offset = 0;
      while (offset < n) {
        this.current ??= this.takeBuffer();
        if (!this.current) {
          // Cannot happen: reading resumes only once a buffer is free. Failing beats overwriting a part.
          this.fail(new Error('no part buffer for a read made while paused'));
          return false;
        }
        const copied = bytes.copy(this.current, this.filled, offset);
        offset += copied;
        this.filled += copied;
        if (this.filled === this.partSize) this.send();
      }
    } else {
      this.filled += n;
      if (this.filled === this.partSize) this.send();
    }
    if (this.current || this.free.length || this.allocated < this.buffers) return true;
    this.paused = true;
    return false;
  }

  private takeBuffer(): Buffer | undefined {
    if (this.free.length) return this.free.pop();
    if (this.allocated === this.buffers) return undefined;
    this.allocated += 1;
    // Not from Node's shared pool, and not zeroed: every byte sent is written first.
    return Buffer.allocUnsafeSlow(this.partSize);
  }

  private send(): void {
    const buffer = this.current!;
    const Body = buffer.subarray(0, this.filled);
    this.current = undefined;
    this.filled = 0;
    const PartNumber = ++this.partNumber;
    this.uploadId ??= this.s3
      .send(new CreateMultipartUploadCommand({ ...this.target, ChecksumAlgorithm: 'CRC32' }), {
        abortSignal: this.stopSending.signal,
      })
      .then((r) => r.UploadId!);
    const sent = (async () => {
      const UploadId = await this.uploadId!;
      const res = await this.s3.send(
        new UploadPartCommand({
          Bucket: this.target.Bucket,
          Key: this.target.Key,
          UploadId,
          PartNumber,
          Body,
          ChecksumAlgorithm: 'CRC32',
        }),
        { abortSignal: this.stopSending.signal },
      );
      this.parts.push({ PartNumber, ETag: res.ETag, ChecksumCRC32: res.ChecksumCRC32 });
    })()
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        this.sending.delete(sent);
        this.free.push(buffer);
        if (this.paused && !this.failure) {
          this.paused = false;
          this.socket?.resume();
        }
      });
    this.sending.add(sent);
  }
}
