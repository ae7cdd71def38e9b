import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, isEncrypted, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { ConfigError, loadConfig, type PayloadKey } from '../../src/config';

const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const payloadOf = (value: unknown) => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Parameters<typeof defaultPayloadConverter.fromPayload>[0]) =>
  defaultPayloadConverter.fromPayload(payload);

function problems(env: NodeJS.ProcessEnv): Record<string, string> {
  try {
    loadConfig({ ...process.env, ...env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return Object.fromEntries(err.problems.map((p) => [p.variable, p.message]));
  }
  assert.fail('configuration was accepted');
}

describe('the AES-256-GCM payload codec', () => {
  const summary = { summary: 'checkout down for anna.bride@example.com', reason: 'vendor cancelled' };

  it('seals a payload so that none of its text is left, and opens it again', async () => {
    const codec = new AesGcmPayloadCodec({ keys: [key('k1')], activeKeyId: 'k1' });
    const [sealed] = await codec.encode([payloadOf(summary)]);
    assert.ok(isEncrypted(sealed));
    assert.equal(Buffer.from(sealed.metadata![KEY_ID_METADATA]).toString(), 'k1');
    const raw = Buffer.from(sealed.data!).toString('latin1');
    for (const text of ['anna.bride', 'example.com', 'checkout', 'vendor']) assert.ok(!raw.includes(text), text);
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(valueOf(opened), summary);
  });

  it('uses a fresh IV for every payload: the same value never seals to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec({ keys: [key('k1')], activeKeyId: 'k1' });
    const [a, b] = await codec.encode([payloadOf(summary), payloadOf(summary)]);
    assert.notDeepEqual(Buffer.from(a.data!), Buffer.from(b.data!));
  });

  it('passes through a payload it did not seal (histories written before encryption)', async () => {
    const codec = new AesGcmPayloadCodec({ keys: [key('k1')], activeKeyId: 'k1' });
    const plain = payloadOf(summary);
    const [out] = await codec.decode([plain]);
    assert.deepEqual(valueOf(out), summary);
  });

  it('opens what a rotated-out key sealed while that key stays configured, and seals with the new one', async () => {
    const old = key('2026-01');
    const next = key('2026-07');
    const before = new AesGcmPayloadCodec({ keys: [old], activeKeyId: old.id });
    const [sealedOld] = await before.encode([payloadOf(summary)]);
    const rotated = new AesGcmPayloadCodec({ keys: [old, next], activeKeyId: next.id });
    assert.deepEqual(valueOf((await rotated.decode([sealedOld]))[0]), summary);
    const [sealedNew] = await rotated.encode([payloadOf(summary)]);
    assert.equal(Buffer.from(sealedNew.metadata![KEY_ID_METADATA]).toString(), next.id);
    const dropped = new AesGcmPayloadCodec({ keys: [next], activeKeyId: next.id });
    await assert.rejects(dropped.decode([sealedOld]), /sealed with key "2026-01", which is not in PAYLOAD_KEYS/);
  });

  it('refuses a payload whose ciphertext or key label was altered', async () => {
    const k1 = key('k1');
    const k2 = { id: 'k2', key: k1.key };
    const codec = new AesGcmPayloadCodec({ keys: [k1, k2], activeKeyId: 'k1' });
    const [sealed] = await codec.encode([payloadOf(summary)]);
    const flipped = Buffer.from(sealed.data!);
    flipped[20] ^= 1;
    await assert.rejects(codec.decode([{ ...sealed, data: new Uint8Array(flipped) }]), /authenticate/);
    // Same key bytes under another id: the id is authenticated, so relabelling is caught.
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await assert.rejects(codec.decode([relabelled]), /authenticate/);
  });
});

describe('payload key settings', () => {
  const k = () => randomBytes(32).toString('base64');

  it('is required: a worker without keys would write history in plaintext', () => {
    const env = { ...process.env };
    delete env.PAYLOAD_KEYS;
    delete env.PAYLOAD_ACTIVE_KEY_ID;
    try {
      loadConfig(env);
      assert.fail('configuration was accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.filter((p) => p.variable.startsWith('PAYLOAD')),
        [{ variable: 'PAYLOAD_KEYS', message: 'not set (required)' }],
      );
    }
  });

  it('names the problem of a malformed key list', () => {
    assert.match(problems({ PAYLOAD_KEYS: 'no-colon' }).PAYLOAD_KEYS, /id:base64-key pairs/);
    assert.match(
      problems({ PAYLOAD_KEYS: `k1:${randomBytes(16).toString('base64')}` }).PAYLOAD_KEYS,
      /"k1" must be 32 bytes/,
    );
    assert.match(problems({ PAYLOAD_KEYS: `k1:${k()},k1:${k()}` }).PAYLOAD_KEYS, /"k1" appears twice/);
  });

  it('needs the active key named when there are several, and one that is configured', () => {
    assert.match(
      problems({ PAYLOAD_KEYS: `k1:${k()},k2:${k()}`, PAYLOAD_ACTIVE_KEY_ID: '' }).PAYLOAD_ACTIVE_KEY_ID,
      /must not be empty/,
    );
    const env: NodeJS.ProcessEnv = { ...process.env, PAYLOAD_KEYS: `k1:${k()},k2:${k()}` };
    delete env.PAYLOAD_ACTIVE_KEY_ID;
    assert.throws(
      () => loadConfig(env),
      /PAYLOAD_ACTIVE_KEY_ID: not set \(required when PAYLOAD_KEYS holds several keys: k1, k2\)/,
    );
    assert.throws(
      () => loadConfig({ ...process.env, PAYLOAD_KEYS: `k1:${k()}`, PAYLOAD_ACTIVE_KEY_ID: 'k9' }),
      /PAYLOAD_ACTIVE_KEY_ID: "k9" is not one of the ids in PAYLOAD_KEYS \(k1\)/,
    );
    const one: NodeJS.ProcessEnv = { ...process.env, PAYLOAD_KEYS: `only:${k()}` };
    delete one.PAYLOAD_ACTIVE_KEY_ID;
    assert.equal(loadConfig(one).payloads.activeKeyId, 'only');
  });

  it('needs a token for a codec server, and origins that are origins', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CODEC_SERVER_ADDRESS: '127.0.0.1:0' };
    delete env.CODEC_SERVER_TOKEN;
    assert.throws(() => loadConfig(env), /CODEC_SERVER_TOKEN: not set \(required with CODEC_SERVER_ADDRESS/);
    assert.match(
      problems({ CODEC_SERVER_CORS_ORIGINS: 'http://127.0.0.1:8233/path' }).CODEC_SERVER_CORS_ORIGINS,
      /is not an origin/,
    );
  });
});
