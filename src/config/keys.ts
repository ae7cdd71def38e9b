/** Ed25519 public keys as the roster holds them: written as PEM (what `openssl pkey -pubout` prints) or raw hex. */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** The raw public key in lowercase hex, from a private or public key (KeyObject, PEM, or already hex). */
export function publicKeyHex(key: KeyObject | string): string {
  if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key.trim())) return key.trim().toLowerCase();
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url').toString('hex');
}
