/**
 * The worker and the clients reach Temporal over TLS with a client certificate (mTLS), configured by
 * TEMPORAL_TLS_CA / TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_SERVER_NAME through the one
 * connection-options function. The Temporal CLI's dev server (v1.5.1) has no TLS flags, so the test puts a
 * TLS-terminating proxy written here in front of the stack's dev server: it demands a client certificate signed
 * by the test's CA and pipes the decrypted HTTP/2 stream to the server. Certificates are made with openssl.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../src/config/temporal-connection';
import { NativeConnection } from '@temporalio/worker';
import { createWorker } from '../../src/workers/worker';
import { dataConverter } from '../../src/client/data-converter';
import { incidentResponse } from '../../src/workflows';
import { incidentStatusQuery, incidentWorkflowId } from '../../src/workflows/incident/messages';
import { testConfig, testDeps } from '../helpers/deps';
import { queryUntil, quietRuntime, uniqueId } from '../helpers/temporal';

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, all P-256, valid a day. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=aiops test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const name of ['server', 'client']) {
    openssl(
      'req',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? 'localhost' : 'aiops-worker'}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
}

/** Every piped connection, destroyed when the test ends so the proxy closes at once. */
const piped = new Set<{ destroy(): void }>();

/** Terminates TLS (client certificate required) and pipes each connection to the plaintext server. */
function tlsProxy(dir: string, upstream: { host: string; port: number }): Promise<TlsServer> {
  const server = createTlsServer(
    {
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const up = netConnect(upstream.port, upstream.host);
      piped.add(socket).add(up);
      socket.pipe(up).pipe(socket);
      const close = () => {
        socket.destroy();
        up.destroy();
      };
      socket.on('error', close);
      up.on('error', close);
    },
  );
  server.on('tlsClientError', () => undefined);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('Temporal over TLS with a client certificate', () => {
  let dir: string;
  let proxy: TlsServer;
  let settings: NodeJS.ProcessEnv;

  before(async () => {
    quietRuntime();
    dir = mkdtempSync(join(tmpdir(), 'aiops-tls-'));
    makeCertificates(dir);
    const [host, port] = (process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233').split(':');
    proxy = await tlsProxy(dir, { host, port: Number(port) });
    settings = {
      TEMPORAL_ADDRESS: `127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
      TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'client.key'),
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TASK_QUEUE: uniqueId('tls'),
      WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
      WORKER_METRICS_ADDRESS: '127.0.0.1:0',
      ALERT_RECEIVER_ADDRESS: '127.0.0.1:0',
    };
  });
  after(async () => {
    const closed = new Promise((r) => proxy?.close(r));
    for (const s of piped) s.destroy();
    await closed;
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'runs the worker and a client through it: a workflow started by the client answers its query',
    { timeout: 120_000 },
    async () => {
      const config = testConfig(settings);
      assert.ok(config.temporal.tls?.certFile, 'the settings turn TLS on');
      const deps = await testDeps(settings);
      // The worker's connection as src/workers/main.ts makes it.
      const workerConnection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
      const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
      try {
        const worker = await createWorker(config, deps, { connection: workerConnection });
        const client = new Client({
          connection,
          namespace: config.temporal.namespace,
          dataConverter: dataConverter(config),
        });
        await worker.runUntil(async () => {
          const fingerprint = uniqueId('tls');
          const handle = await client.workflow.start(incidentResponse, {
            taskQueue: config.temporal.taskQueue,
            workflowId: incidentWorkflowId(fingerprint),
            args: [{ severity: 'P3', service: 'ai-gateway-service', summary: 'tls drill', fingerprint }],
          });
          const status = await queryUntil(handle, incidentStatusQuery, (s) => s.step === 'acknowledge', 60_000);
          assert.equal(status.step, 'acknowledge');
          await handle.terminate('tls drill over');
        });
      } finally {
        await connection.close();
        await workerConnection.close();
        await deps.close();
      }
    },
  );

  it(
    'refuses a client without the client certificate, and one that does not speak TLS',
    { timeout: 60_000 },
    async () => {
      const noCert = testConfig({ ...settings, TEMPORAL_TLS_CERT: undefined, TEMPORAL_TLS_KEY: undefined });
      assert.equal(noCert.temporal.tls?.certFile, undefined);
      await assert.rejects(Connection.connect({ ...temporalConnectionOptions(noCert.temporal), connectTimeout: '5s' }));
      await assert.rejects(Connection.connect({ address: settings.TEMPORAL_ADDRESS!, connectTimeout: '5s' }));
    },
  );
});
