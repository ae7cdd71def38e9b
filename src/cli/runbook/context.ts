/** What every runbook command that talks to Temporal needs: the configuration and one client, closed afterwards. */
import type { Client } from '@temporalio/client';
import { loadConfigOrExit, type AppConfig } from '../../config';
import { connectClient } from '../../client/connect';

export async function withClient<T>(run: (client: Client, config: AppConfig) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const { client, close } = await connectClient(config);
  try {
    return await run(client, config);
  } finally {
    await close();
  }
}
