/**
 * The roster's keys in tests, and a client interceptor that signs every decision a test sends, so the tests
 * written before decisions were signed send them as an operator's CLI does. A roster person whose private key the
 * local stack keeps (.data/operator-keys, matching the public key in AIOPS_ROSTER) signs with it, since the
 * stack's own worker checks against that; everyone else gets a key pair made here, and AIOPS_ROSTER in this
 * process is rewritten with its public key before any test reads the configuration.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { demoOperatorKey } from '../../scripts/lib/operator-keys';
import { decisionSigningInterceptor } from '../../src/client/sign-decision';
import { publicKeyHex } from '../../src/config/keys';

const keys = new Map<string, KeyObject>();

function stackKey(id: string, publicKey: unknown): KeyObject | undefined {
  const key = typeof publicKey === 'string' ? demoOperatorKey(id) : undefined;
  return key && publicKeyHex(key) === publicKeyHex(publicKey as string) ? key : undefined;
}

function prepareRosterKeys(): void {
  if (!process.env.AIOPS_ROSTER) return;
  const roster = JSON.parse(process.env.AIOPS_ROSTER) as { id: string; publicKey?: string }[];
  for (const person of roster) {
    const key = stackKey(person.id, person.publicKey) ?? generateKeyPairSync('ed25519').privateKey;
    keys.set(person.id, key);
    person.publicKey = publicKeyHex(key);
  }
  process.env.AIOPS_ROSTER = JSON.stringify(roster);
}
prepareRosterKeys();

/** A roster for a test's own worker, each person with the public key this process signs their decisions with. */
export function withOperatorKeys<P extends { id: string }>(roster: readonly P[]): (P & { publicKey: string })[] {
  return roster.map((person) => {
    if (!keys.has(person.id)) keys.set(person.id, generateKeyPairSync('ed25519').privateKey);
    return { ...person, publicKey: publicKeyHex(keys.get(person.id)!) };
  });
}

/** The private key of a roster person in this test process. */
export function operatorKey(id: string): KeyObject | undefined {
  return keys.get(id);
}

/**
 * Signs the decisions sent through a client with the key of their `by` (src/client/sign-decision.ts).
 * `now` is the clock the expiry counts from: a time-skipping server's runs ahead of the machine's.
 */
export function signingInterceptor(now?: () => Promise<number>): WorkflowClientInterceptor {
  return decisionSigningInterceptor((id) => keys.get(id), now);
}
