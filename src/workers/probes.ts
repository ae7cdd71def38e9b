/**
 * The worker's HTTP endpoints for Kubernetes probes (k8s/worker-deployment.yaml), on WORKER_HEALTH_ADDRESS.
 *
 * - `/readyz`: the worker is running with its pollers polling (the backup worker has no workflow poller), and Temporal answers a call now. It turns 503 at
 *   SIGTERM (the worker is then stopping), and while Temporal is unreachable; with maxUnavailable 0 a rollout
 *   waits for a new pod to be ready before it stops an old one.
 * - `/livez`: an answer at all is the evidence: it comes from the event loop that runs the activities, so a
 *   loop blocked for longer than the probe's timeout fails it. It stays 200 while the worker drains after
 *   SIGTERM, so a draining pod is not restarted. The answer carries the loop's recent delay, for people.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { NativeConnection, Worker } from '@temporalio/worker';

/** Below the probe's timeoutSeconds (5), so a slow server gives a 503 rather than a probe timeout. */
const TEMPORAL_CHECK_TIMEOUT_MS = 3000;

export interface Probes {
  /** The address bound, with the port chosen when the configured one is 0. */
  address: { host: string; port: number };
  close(): Promise<void>;
}

type Answer = { status: number; body: Record<string, unknown> };

async function readiness(worker: Worker, connection: NativeConnection, activitiesOnly: boolean): Promise<Answer> {
  const status = worker.getStatus();
  // A worker with no workflows (the backup worker) never polls for workflow tasks.
  const polling = activitiesOnly
    ? { activity: status.activityPollerState }
    : { workflow: status.workflowPollerState, activity: status.activityPollerState };
  if (status.runState !== 'RUNNING' || Object.values(polling).some((state) => state !== 'POLLING')) {
    return { status: 503, body: { ready: false, worker: status.runState, pollers: polling } };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    // The call's deadline alone does not bound it: with the server gone, reconnecting took 6 s here.
    await Promise.race([
      connection.withDeadline(Date.now() + TEMPORAL_CHECK_TIMEOUT_MS, () =>
        connection.workflowService.getSystemInfo({}),
      ),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${TEMPORAL_CHECK_TIMEOUT_MS} ms`)),
          TEMPORAL_CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { status: 503, body: { ready: false, worker: status.runState, temporal: `unreachable: ${reason}` } };
  } finally {
    clearTimeout(timer);
  }
  return { status: 200, body: { ready: true, worker: status.runState, pollers: polling } };
}

export async function startProbes(options: {
  worker: Worker;
  connection: NativeConnection;
  host: string;
  port: number;
  activitiesOnly?: boolean;
}): Promise<Probes> {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const server: Server = createServer((req, res) => {
    const answer = async (): Promise<Answer> => {
      if (req.method !== 'GET') return { status: 405, body: { error: 'GET only' } };
      if (req.url === '/readyz') return readiness(options.worker, options.connection, options.activitiesOnly ?? false);
      if (req.url === '/livez') {
        const body = {
          alive: true,
          worker: options.worker.getState(),
          eventLoopDelayMs: { p99: Math.round(delay.percentile(99) / 1e6), max: Math.round(delay.max / 1e6) },
        };
        delay.reset(); // each answer covers the time since the last one
        return { status: 200, body };
      }
      return { status: 404, body: { error: 'not found; /readyz or /livez' } };
    };
    answer().then(
      ({ status, body }) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (err) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: { host: options.host, port },
    async close() {
      delay.disable();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
