/**
 * The one place every operator-side Temporal client is made (the `runbook` CLI, `npm run crisis`): the address and
 * namespace from configuration. Connection security and payload encoding are connection and client options, so
 * they belong here and reach every caller at once.
 */
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';
import { dataConverter } from './data-converter';
import { temporalConnectionOptions } from '../config/temporal-connection';

export interface ConnectedClient {
  client: Client;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** How long to wait for the server before giving up (the SDK's default is 10 s). */
  connectTimeoutMs?: number;
}

export async function connectClient(
  config: Pick<AppConfig, 'temporal' | 'payloads'>,
  options: ConnectOptions = {},
): Promise<ConnectedClient> {
  const { temporal } = config;
  const connection = await Connection.connect({
    ...temporalConnectionOptions(temporal),
    connectTimeout: options.connectTimeoutMs,
  });
  return {
    client: new Client({ connection, namespace: temporal.namespace, dataConverter: dataConverter(config) }),
    close: () => connection.close(),
  };
}

/** The Temporal UI's page of one workflow run, when the UI's address is configured. */
export function workflowUiLink(
  temporal: AppConfig['temporal'],
  workflowId: string,
  runId?: string,
): string | undefined {
  if (!temporal.uiUrl) return undefined;
  const base = temporal.uiUrl.replace(/\/+$/, '');
  const run = runId ? `/${encodeURIComponent(runId)}` : '';
  return `${base}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}${run}`;
}
