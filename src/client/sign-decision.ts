/**
 * Signs a decision with the operator's private key, for every front door that sends one (the CLI's approve and
 * reject, the printed payload an operator pastes into the Temporal UI, tests, the history recorder). The workflow
 * checks the signature against the roster's public key of `by` (src/contracts/decision-signature.ts).
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalDecision, DEFAULT_DECISION_LIFETIME_MS, type DecisionProof } from '../contracts/decision-signature';
import type { Decision } from '../contracts/gates';

export type SignedDecision = Decision & DecisionProof;

/** The decision as the caller means it; `by` is the roster id whose key signs. */
export type DecisionFields = Pick<Decision, 'gate' | 'decision' | 'by' | 'reason' | 'link' | 'choice'>;

export interface SignOptions {
  /** How long the signed decision stays valid; default 15 minutes, at most an hour (the workflow refuses more). */
  lifetimeMs?: number;
  /** The clock the expiry counts from: the workflow's (a time-skipping test server's) when it is not the machine's. */
  nowMs?: number;
}

/** Accepts a KeyObject or a PEM (PKCS#8) private key. */
export function operatorKey(key: KeyObject | string): KeyObject {
  const k = typeof key === 'string' ? createPrivateKey(key) : key;
  if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519')
    throw new Error('the operator key must be an Ed25519 private key');
  return k;
}

/** Returns the decision with its expiry, a fresh nonce and the signature for this workflow. */
export function signDecision(
  privateKey: KeyObject | string,
  workflowId: string,
  fields: DecisionFields,
  options: SignOptions = {},
): SignedDecision {
  const nowMs = options.nowMs ?? Date.now();
  const unsigned = {
    ...fields,
    expiresAt: new Date(nowMs + (options.lifetimeMs ?? DEFAULT_DECISION_LIFETIME_MS)).toISOString(),
    nonce: randomBytes(18).toString('base64url'),
  };
  const signature = sign(null, Buffer.from(canonicalDecision(workflowId, unsigned), 'utf8'), operatorKey(privateKey));
  return { ...unsigned, signature: signature.toString('hex') };
}

/**
 * The caller's identity for operator commands: AIOPS_OPERATOR_ID (their roster id, or `by` when the command names
 * one) and AIOPS_OPERATOR_KEY_FILE (their PEM private key); without a key file, `<id>.pem` in
 * AIOPS_OPERATOR_KEYS_DIR, which only the local stack sets (its demo roster's keys). Read when a decision is sent,
 * never at start-up: commands that decide nothing need neither.
 */
export function operatorFromEnv(env: NodeJS.ProcessEnv = process.env, by?: string): { id: string; key: KeyObject } {
  const id = by ?? env.AIOPS_OPERATOR_ID;
  if (!id) throw new Error('AIOPS_OPERATOR_ID is not set: your roster id, whose key signs the decision');
  if (env.AIOPS_OPERATOR_KEY_FILE && env.AIOPS_OPERATOR_ID && id !== env.AIOPS_OPERATOR_ID) {
    throw new Error(`the key in AIOPS_OPERATOR_KEY_FILE is ${env.AIOPS_OPERATOR_ID}'s: it cannot decide as "${id}"`);
  }
  const file =
    env.AIOPS_OPERATOR_KEY_FILE ?? (env.AIOPS_OPERATOR_KEYS_DIR ? join(env.AIOPS_OPERATOR_KEYS_DIR, `${id}.pem`) : '');
  if (!file) throw new Error('AIOPS_OPERATOR_KEY_FILE is not set: the file with your Ed25519 private key (PEM)');
  if (!existsSync(file)) throw new Error(`no private key for "${id}" at ${file}`);
  return { id, key: operatorKey(readFileSync(file, 'utf8')) };
}

function signable(arg: unknown): arg is DecisionFields {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg) || 'signature' in arg) return false;
  const d = arg as Record<string, unknown>;
  return ['gate', 'decision', 'by', 'reason'].every((f) => typeof d[f] === 'string');
}

/**
 * A client interceptor that signs each unsigned `decision` signal and `decide` update payload with the key of its
 * `by`, for clients that send decisions on behalf of people whose keys they hold (the history recorder, tests).
 * Payloads that are not a decision, or whose `by` has no key here, go as they are, and the workflow refuses them.
 */
export function decisionSigningInterceptor(
  keyFor: (id: string) => KeyObject | undefined,
  now: () => Promise<number> = async () => Date.now(),
): WorkflowClientInterceptor {
  const signed = async (workflowId: string, args: unknown[]): Promise<unknown[]> => {
    const [first, ...rest] = args;
    const key = signable(first) ? keyFor(first.by) : undefined;
    if (!signable(first) || !key) return args;
    const { gate, decision, by, reason, link, choice } = first;
    const fields: DecisionFields = {
      gate,
      decision,
      by,
      reason,
      ...(link !== undefined && { link }),
      ...(choice !== undefined && { choice }),
    };
    return [signDecision(key, workflowId, fields, { nowMs: await now() }), ...rest];
  };
  return {
    async signal(input, next) {
      if (input.signalName !== 'decision') return next(input);
      return next({ ...input, args: await signed(input.workflowExecution.workflowId, input.args) });
    },
    async startUpdate(input, next) {
      if (input.updateName !== 'decide') return next(input);
      return next({ ...input, args: await signed(input.workflowExecution.workflowId, input.args) });
    },
  };
}
