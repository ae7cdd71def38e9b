/**
 * The local stack's demo operator keys: one Ed25519 key pair per demo roster person, made on first use under
 * .data/operator-keys/ (gitignored with the rest of .data), so `npm start` gives the worker a roster whose people
 * can sign decisions. A real team gives each person's public key in AIOPS_ROSTER and keeps the private keys with
 * the people.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyHex } from '../../src/config/keys';
import { DATA_DIR, ensureDir } from './paths';

export const OPERATOR_KEYS_DIR = join(DATA_DIR, 'operator-keys');

/** Where the private key (PEM, PKCS#8) of a demo roster person is kept: what AIOPS_OPERATOR_KEY_FILE names. */
export const operatorKeyFile = (id: string, dir = OPERATOR_KEYS_DIR) => join(dir, `${id}.pem`);

/** Reads each person's private key, making the ones missing; returns the roster with each public key (hex). */
export function withDemoOperatorKeys<P extends { id: string }>(
  roster: readonly P[],
  dir = OPERATOR_KEYS_DIR,
): (P & { publicKey: string })[] {
  ensureDir(dir);
  return roster.map((person) => {
    const file = operatorKeyFile(person.id, dir);
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      // wx: two starts racing keep the first key instead of one overwriting the other's.
      try {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return { ...person, publicKey: publicKeyHex(readFileSync(file, 'utf8')) };
  });
}

/** A demo roster person's private key, or undefined when the local stack made none for them. */
export function demoOperatorKey(id: string, dir = OPERATOR_KEYS_DIR): KeyObject | undefined {
  const file = operatorKeyFile(id, dir);
  return existsSync(file) ? createPrivateKey(readFileSync(file, 'utf8')) : undefined;
}
