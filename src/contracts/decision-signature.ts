/**
 * What binds a decision to the person who made it: an Ed25519 signature, by the key the roster holds for the
 * signer, over the decision's fields, the workflow it is for, an expiry and a nonce. Pure code, used inside
 * workflows (the update validator checks it): verification is `@noble/curves`, pure JavaScript with no Node
 * module and no randomness, so it runs in the workflow sandbox; signing (src/client/sign-decision.ts) uses
 * node:crypto.
 */
import { ed25519 } from '@noble/curves/ed25519';
import type { Decision } from './gates';

/** The fields a signature adds to a decision. */
export interface DecisionProof {
  /** ISO time after which the decision is refused (at most MAX_DECISION_LIFETIME_MS after it is checked). */
  expiresAt: string;
  /** Random, once per decision: a workflow refuses a nonce it has seen until the decision it came with expires. */
  nonce: string;
  /** Ed25519 signature over `canonicalDecision`, hex. */
  signature: string;
}

/**
 * How long a signed decision may stay valid: long enough to paste a printed payload into the Temporal UI, short
 * enough that the nonces a workflow keeps stay few.
 */
export const MAX_DECISION_LIFETIME_MS = 60 * 60_000;
/** What `runbook approve|reject` and the signing helper use when not told otherwise. */
export const DEFAULT_DECISION_LIFETIME_MS = 15 * 60_000;

const HEX_KEY = /^[0-9a-f]{64}$/;
const HEX_SIGNATURE = /^[0-9a-f]{128}$/;
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const ENCODING_VERSION = 'aiops-decision-v1';

/** A roster public key as the workflow keeps it: the raw 32-byte Ed25519 key in lowercase hex. */
export function isPublicKeyHex(value: unknown): value is string {
  return typeof value === 'string' && HEX_KEY.test(value);
}

/**
 * The exact bytes signed: a JSON array in a fixed order, so signer and verifier cannot disagree on field order
 * or on an absent field. The workflow ID keeps a decision from being replayed at another workflow's gate of the
 * same name; link and choice are covered so an intercepted approval cannot be turned into another choice.
 */
export function canonicalDecision(
  workflowId: string,
  d: Decision & Pick<DecisionProof, 'expiresAt' | 'nonce'>,
): string {
  return JSON.stringify([
    ENCODING_VERSION,
    workflowId,
    d.gate,
    d.decision,
    d.by,
    d.reason,
    d.link ?? '',
    d.choice ?? '',
    d.expiresAt,
    d.nonce,
  ]);
}

/**
 * Why a decision's proof fields cannot hold at `nowMs` whoever signed it, or undefined: a signature, a nonce and an
 * expiry, well formed, not expired, and not claiming a life longer than the limit. Never throws, whatever was sent.
 */
export function proofFieldsProblem(d: Decision & Partial<DecisionProof>, nowMs: number): string | undefined {
  if (typeof d.signature !== 'string' || !HEX_SIGNATURE.test(d.signature))
    return 'signature: required, the decision signed with your key (128 hex characters)';
  if (typeof d.nonce !== 'string' || !NONCE.test(d.nonce)) return 'nonce: required, 16-64 characters [A-Za-z0-9_-]';
  const expires = typeof d.expiresAt === 'string' ? Date.parse(d.expiresAt) : NaN;
  if (Number.isNaN(expires)) return 'expiresAt: required, an ISO time';
  if (expires <= nowMs) return `expiresAt: the decision expired at ${d.expiresAt}; sign it again`;
  if (expires - nowMs > MAX_DECISION_LIFETIME_MS)
    return `expiresAt: at most ${MAX_DECISION_LIFETIME_MS / 60_000} minutes ahead`;
  return undefined;
}

/**
 * Why a decision's proof does not hold at `nowMs`, or undefined when it does: its fields hold (above) and the
 * signature verifies under `publicKeyHex`, the roster's key of `by`. Never throws, whatever was sent.
 */
export function proofProblem(
  workflowId: string,
  d: Decision & Partial<DecisionProof>,
  publicKeyHex: string | undefined,
  nowMs: number,
): string | undefined {
  const fields = proofFieldsProblem(d, nowMs);
  if (fields) return fields;
  if (!isPublicKeyHex(publicKeyHex)) return `by: "${d.by}" has no public key on the roster`;
  let valid = false;
  try {
    const message = new TextEncoder().encode(
      canonicalDecision(workflowId, d as Decision & Pick<DecisionProof, 'expiresAt' | 'nonce'>),
    );
    valid = ed25519.verify(d.signature!, message, publicKeyHex);
  } catch {
    valid = false;
  }
  return valid ? undefined : `signature: does not verify under the roster key of "${d.by}"`;
}
