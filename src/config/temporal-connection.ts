/**
 * The one place that says how to reach the Temporal frontend: address, TLS (server CA, client certificate for
 * mTLS, server name) and API key, for the worker's NativeConnection and every client's Connection alike, so a
 * setting that works for one works for all.
 */
import { readFileSync } from 'node:fs';
import type { AppConfig } from './index';

export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

/** Reads the PEM files named in the configuration; a missing file fails here, naming the setting. */
export function temporalConnectionOptions(temporal: AppConfig['temporal']): TemporalConnectionOptions {
  const read = (file: string, variable: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${variable}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const { tls } = temporal;
  return {
    address: temporal.address,
    ...(tls && {
      tls: {
        ...(tls.serverName && { serverNameOverride: tls.serverName }),
        ...(tls.caFile && { serverRootCACertificate: read(tls.caFile, 'TEMPORAL_TLS_CA') }),
        ...(tls.certFile &&
          tls.keyFile && {
            clientCertPair: {
              crt: read(tls.certFile, 'TEMPORAL_TLS_CERT'),
              key: read(tls.keyFile, 'TEMPORAL_TLS_KEY'),
            },
          }),
      },
    }),
    ...(temporal.apiKey && { apiKey: temporal.apiKey }),
  };
}
