/**
 * The payload codec (seed 002 Data Protection): every payload is sealed with AES-256-GCM before it reaches
 * Temporal, so history holds incident summaries, crisis descriptions, gate reasons and failure texts only as
 * ciphertext. The sealed payload's metadata names the key that sealed it; opening it takes that key from the keys
 * configured, so a rotated-out key still opens what it sealed as long as it stays configured. A payload without
 * our encoding (written before encryption, or by a client without it) passes through unchanged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import type { PayloadKey, PayloadKeysConfig } from '../config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** The payload as bytes: its metadata and data, base64 in JSON, so no protobuf type is needed to read it back. */
function serialize(payload: Payload): Buffer {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return Buffer.from(JSON.stringify({ metadata, data: Buffer.from(payload.data ?? []).toString('base64') }));
}

function deserialize(bytes: Buffer): Payload {
  const parsed = JSON.parse(bytes.toString('utf8')) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(
      Object.entries(parsed.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(parsed.data, 'base64')),
  };
}

/** Whether a payload was sealed by this codec (what the codec server and the tests look for). */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

export class PayloadKeyUnknownError extends Error {
  constructor(keyId: string, configured: string[]) {
    super(`payload sealed with key "${keyId}", which is not in PAYLOAD_KEYS (${configured.join(', ')})`);
    this.name = 'PayloadKeyUnknownError';
  }
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly active: PayloadKey;

  constructor(config: PayloadKeysConfig) {
    this.keys = new Map(config.keys.map((k) => [k.id, k.key]));
    const active = this.keys.get(config.activeKeyId);
    if (!active) throw new PayloadKeyUnknownError(config.activeKeyId, [...this.keys.keys()]);
    this.active = { id: config.activeKeyId, key: active };
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.open(payload) : payload));
  }

  private seal(payload: Payload): Payload {
    // A fresh random IV per payload: GCM must never see one (key, IV) pair twice, and 2^32 random IVs per key stay
    // far inside that bound. The key id is authenticated too, so a payload cannot be relabelled to another key.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
    cipher.setAAD(Buffer.from(this.active.id));
    const sealed = Buffer.concat([iv, cipher.update(serialize(payload)), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8(this.active.id),
        [CIPHER_METADATA]: utf8(CIPHER),
      },
      data: new Uint8Array(sealed),
    };
  }

  private open(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]) ?? '';
    const key = this.keys.get(keyId);
    if (!key) throw new PayloadKeyUnknownError(keyId, [...this.keys.keys()]);
    const sealed = Buffer.from(payload.data ?? []);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return deserialize(plain);
  }
}
