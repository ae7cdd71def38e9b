import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../../src/codec/server';
import { loadConfig } from '../../src/config';

const TOKEN = randomBytes(24).toString('base64url');
const UI = 'http://127.0.0.1:8233';
const json = (value: unknown) => {
  const p = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  };
};
const text = (p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8');

describe('the codec server over HTTP', () => {
  let server: CodecServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    const codec = new AesGcmPayloadCodec({ keys: [{ id: 'k1', key: randomBytes(32) }], activeKeyId: 'k1' });
    server = await startCodecServer({ codec, token: TOKEN, corsOrigins: [UI], host: '127.0.0.1', port: 0 });
  });
  after(() => server?.close());

  it('refuses encode and decode without the token, or with another one', async () => {
    const body = { payloads: [json('the couple anna.bride@example.com')] };
    for (const path of ['/encode', '/decode']) {
      assert.equal((await post(path, body)).status, 401);
      assert.equal((await post(path, body, { authorization: `Bearer ${TOKEN}x` })).status, 401);
      assert.equal((await post(`/wrong-token${path}`, body)).status, 401);
    }
  });

  it('encodes and decodes for a bearer token holder, under any path prefix', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const encoded = await post('/default/encode', { payloads: [json({ summary: 'anna.bride@example.com' })] }, auth);
    assert.equal(encoded.status, 200);
    const sealed = ((await encoded.json()) as { payloads: { data: string }[] }).payloads;
    assert.ok(!text(sealed[0]).includes('anna.bride'));
    const decoded = await post('/decode', { payloads: sealed }, auth);
    assert.equal(decoded.status, 200);
    const opened = ((await decoded.json()) as { payloads: { data: string }[] }).payloads;
    assert.deepEqual(JSON.parse(text(opened[0])), { summary: 'anna.bride@example.com' });
  });

  it('takes the token as the first path segment, for a Web UI that cannot send the header', async () => {
    const res = await post(`/${TOKEN}/encode`, { payloads: [json('x')] });
    assert.equal(res.status, 200);
  });

  it('answers a CORS preflight from the UI origin and refuses one from any other', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(UI);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), UI);
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    for (const h of ['authorization', 'content-type', 'x-namespace']) {
      assert.match(ok.headers.get('access-control-allow-headers') ?? '', new RegExp(h, 'i'));
    }
    const other = await preflight('https://evil.example.com');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const answered = await post('/decode', { payloads: [] }, { origin: UI, authorization: `Bearer ${TOKEN}` });
    assert.equal(answered.headers.get('access-control-allow-origin'), UI);
  });

  it('answers a malformed body with 400 and a payload it cannot open with 422', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await post('/decode', { nope: true }, auth)).status, 400);
    const foreign = {
      metadata: {
        encoding: Buffer.from('binary/encrypted').toString('base64'),
        'encryption-key-id': Buffer.from('k0').toString('base64'),
      },
      data: randomBytes(40).toString('base64'),
    };
    const res = await post('/decode', { payloads: [foreign] }, auth);
    assert.equal(res.status, 422);
    assert.match(((await res.json()) as { error: string }).error, /key "k0"/);
  });
});

describe("the stack worker's codec server", () => {
  it('is served by the worker on CODEC_SERVER_ADDRESS, with its token', async () => {
    const config = loadConfig();
    assert.ok(config.codecServer, 'the local stack sets CODEC_SERVER_ADDRESS');
    const url = `http://${config.codecServer.host}:${config.codecServer.port}`;
    const body = JSON.stringify({ payloads: [json('through the worker')] });
    const headers = { 'content-type': 'application/json' };
    const refused = await fetch(`${url}/encode`, { method: 'POST', headers, body });
    assert.equal(refused.status, 401);
    const res = await fetch(`${url}/encode`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${config.codecServer.token}` },
      body,
    });
    assert.equal(res.status, 200);
    const [sealed] = ((await res.json()) as { payloads: { data: string }[] }).payloads;
    const [opened] = await new AesGcmPayloadCodec(config.payloads).decode([
      {
        metadata: Object.fromEntries(
          Object.entries((sealed as unknown as { metadata: Record<string, string> }).metadata).map(([k, v]) => [
            k,
            new Uint8Array(Buffer.from(v, 'base64')),
          ]),
        ),
        data: new Uint8Array(Buffer.from(sealed.data, 'base64')),
      },
    ]);
    assert.equal(defaultPayloadConverter.fromPayload(opened), 'through the worker');
  });
});
