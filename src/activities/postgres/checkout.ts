/**
 * A pooled connection held for several statements. While a client is checked out the pool no longer listens for
 * its 'error' event, and a connection that drops then (a server restart, a network reset) emits one: unheard, it
 * is an uncaught exception that ends the worker process with every activity it runs. The statement in flight fails
 * on its own, so the event needs no handling beyond being heard.
 */
import type { Pool, PoolClient } from 'pg';

const heard = new WeakSet<PoolClient>();
const ignore = () => undefined;

export async function checkOut(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  // Pooled clients come back: one listener each, however often they are checked out.
  if (!heard.has(client)) {
    client.on('error', ignore);
    heard.add(client);
  }
  return client;
}
