/**
 * The codec server (Temporal's remote codec protocol) the Web UI and the Temporal CLI call to show payloads decoded:
 * POST .../encode and POST .../decode with `{"payloads": [{"metadata": {...base64}, "data": base64}]}`, answered in
 * the same shape. Only the last path segment selects the operation, as the protocol asks.
 * - Every POST needs the bearer token: `Authorization: Bearer <token>`, or, for a UI that cannot send that header
 *   (the dev server's UI has no login), the token as the first path segment (`/<token>/decode`); 401 otherwise.
 * - CORS for the configured origins only: a preflight (OPTIONS) from one of them is answered 204 with the methods
 *   and headers the UI sends; any other origin gets no CORS headers, so the browser refuses to read the answer.
 * Runs in the worker process on CODEC_SERVER_ADDRESS, beside the alert receiver.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { bearerToken, readBody, sameToken } from '../http/request';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface CodecServerOptions {
  codec: PayloadCodec;
  token: string;
  corsOrigins: string[];
  host: string;
  port: number;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** The operation asked for, and whether the caller holds the token (header or first path segment). */
function route(req: IncomingMessage, token: string): { operation?: 'encode' | 'decode'; authorized: boolean } {
  const segments = new URL(req.url ?? '/', 'http://codec').pathname.split('/').filter(Boolean);
  const last = segments.at(-1);
  const operation = last === 'encode' || last === 'decode' ? last : undefined;
  const bearer = bearerToken(req);
  const inPath = segments.length === 2 ? segments[0] : undefined;
  const authorized =
    (bearer !== undefined && sameToken(bearer, token)) || (inPath !== undefined && sameToken(inPath, token));
  return { operation, authorized };
}

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

function parsePayloads(body: string): JsonPayload[] | undefined {
  try {
    const parsed = JSON.parse(body) as { payloads?: unknown };
    return Array.isArray(parsed.payloads) ? (parsed.payloads as JsonPayload[]) : undefined;
  } catch {
    return undefined;
  }
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec, token, corsOrigins } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin && corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    const send = (status: number, body: Record<string, unknown>) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'OPTIONS') {
      if (!origin || !corsOrigins.includes(origin)) return void send(403, { error: 'origin not allowed' });
      res
        .writeHead(204, {
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': 'Authorization, Content-Type, X-Namespace',
          'access-control-max-age': '600',
        })
        .end();
      return;
    }
    const { operation, authorized } = route(req, token);
    if (!operation) return void send(404, { error: 'POST .../encode or .../decode' });
    if (req.method !== 'POST') return void send(405, { error: 'POST only' });
    if (!authorized) return void send(401, { error: 'a bearer token is required' });
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) return void send(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    const payloads = parsePayloads(body);
    if (!payloads) return void send(400, { error: 'body must be {"payloads": [...]}' });
    try {
      const input = payloads.map(fromJson);
      const output = operation === 'encode' ? await codec.encode(input) : await codec.decode(input);
      send(200, { payloads: output.map(toJson) });
    } catch (err) {
      // A key that is not configured, or a payload that fails authentication: say so, without the payload.
      send(422, { error: err instanceof Error ? err.message : String(err) });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
