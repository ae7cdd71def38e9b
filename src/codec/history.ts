/**
 * Opens every sealed payload of a fetched history in place: what the Web UI shows through the codec server, and
 * how recorded histories are kept under test/histories/ (readable, and replayable on any machine without the
 * recording stack's keys).
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { isEncrypted } from './aes-gcm-codec';

type History = temporal.api.history.v1.IHistory;

function isPayload(value: object): value is Payload {
  const v = value as { metadata?: unknown; data?: unknown };
  return typeof v.metadata === 'object' && v.metadata !== null && v.data instanceof Uint8Array;
}

/** Every sealed payload in `node`, with a setter that puts the opened one in its place. */
function sealedPayloads(node: unknown, found: { payload: Payload; put: (p: Payload) => void }[]): void {
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
  const record = node as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = record[key];
    if (child !== null && typeof child === 'object' && !(child instanceof Uint8Array) && isPayload(child)) {
      if (isEncrypted(child)) found.push({ payload: child, put: (p) => (record[key] = p) });
    } else {
      sealedPayloads(child, found);
    }
  }
}

export async function decodeHistory<H extends History>(history: H, codec: PayloadCodec): Promise<H> {
  const found: { payload: Payload; put: (p: Payload) => void }[] = [];
  sealedPayloads(history, found);
  const opened = await codec.decode(found.map((f) => f.payload));
  found.forEach((f, i) => f.put(opened[i]));
  return history;
}
