/**
 * What the worker's HTTP endpoints that take requests from outside (the alert receiver, the codec server) check
 * the same way: the bearer token, and a body read only up to a limit.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of a presented token with ours (digests first, so lengths never differ). */
export function sameToken(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}

/** The request's body as text, or undefined once it is over `maxBytes` (read no further). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
