/**
 * The Alertmanager webhook receiver (seed 000 Alert Configuration: alerts start the runbook that handles them).
 * POST /alerts/alertmanager with `Authorization: Bearer <token>` and a version-4 payload:
 * - 200 once every alert in it was handed to Temporal (an alert no runbook handles is logged), 202 when none was
 *   for a runbook;
 * - 400 naming the first problem of a malformed payload, 401 without the right token;
 * - 503 when any alert could not be handed over (Temporal unreachable, say), so Alertmanager sends it again:
 *   a 2xx is never given for an alert that did not reach its workflow.
 * Re-fires of an alert already handed over are counted and delivered as one signal per flush interval, so an
 * alert re-sent every minute for a week adds a counter, not ten thousand history events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { bearerToken, readBody, sameToken } from '../http/request';
import { deliverAlert, type Delivery } from './deliver';
import { ALERT_ROUTES, routeAlert, type AlertRoute } from './routes';
import { parseWebhook, type WebhookAlert } from './webhook';

export const WEBHOOK_PATH = '/alerts/alertmanager';
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Alerts handed to Temporal at once from one webhook. */
const DELIVERY_CONCURRENCY = 32;
/** Fingerprints remembered for coalescing; the oldest are forgotten first (a forgotten one is delivered again). */
const MAX_REMEMBERED = 100_000;

export interface AlertReceiverOptions {
  client: Client;
  taskQueue: string;
  token: string;
  host: string;
  port: number;
  routes?: AlertRoute[];
  /** How often held-back re-fires are delivered. */
  refireFlushMs?: number;
  /**
   * How long one alert's hand-over may take before the webhook is answered 503; below Alertmanager's webhook
   * timeout, so it hears "try again" rather than nothing.
   */
  deliveryTimeoutMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

export interface AlertReceiver {
  url: string;
  /** Delivers held-back re-fires now (also runs every refireFlushMs). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Remembered {
  alert: WebhookAlert;
  route: AlertRoute;
  /** Re-fires received since the last delivery. */
  pending: number;
}

function authorized(req: IncomingMessage, token: string): boolean {
  return sameToken(bearerToken(req) ?? '', token);
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Runs `work` over `items`, at most `limit` at a time; every item runs even when some fail. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>) {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const jsonLog = (entry: Record<string, unknown>) =>
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'alert-receiver', ...entry })}\n`,
  );

export async function startAlertReceiver(options: AlertReceiverOptions): Promise<AlertReceiver> {
  const { client, taskQueue, token } = options;
  const routes = options.routes ?? ALERT_ROUTES;
  const log = options.log ?? jsonLog;
  const remembered = new Map<string, Remembered>();
  const timeoutMs = options.deliveryTimeoutMs ?? 8_000;
  const deliver = (alert: WebhookAlert, route: AlertRoute, firings?: number) =>
    client.withDeadline(Date.now() + timeoutMs, () => deliverAlert(client, taskQueue, alert, route, firings));
  const key = (a: WebhookAlert) => `${a.fingerprint}@${a.startsAt}`;

  const remember = (alert: WebhookAlert, route: AlertRoute) => {
    remembered.delete(key(alert));
    remembered.set(key(alert), { alert, route, pending: 0 });
    if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  };

  /** One alert of a webhook: delivered, counted as a re-fire, or logged as matching no runbook. */
  const handle = async (alert: WebhookAlert): Promise<Delivery | 'coalesced' | 'unrouted'> => {
    const route = routeAlert(alert, routes);
    if (!route) {
      log({
        level: 'info',
        msg: 'alert matches no runbook',
        alertname: alert.labels.alertname,
        fingerprint: alert.fingerprint,
      });
      return 'unrouted';
    }
    const seen = remembered.get(key(alert));
    if (alert.status === 'firing' && seen) {
      seen.pending += 1;
      return 'coalesced';
    }
    const delivery = await deliver(alert, route);
    if (alert.status === 'firing') remember(alert, route);
    else remembered.delete(key(alert));
    return delivery;
  };

  const flush = async () => {
    const due = [...remembered.values()].filter((r) => r.pending > 0);
    await eachLimited(due, DELIVERY_CONCURRENCY, async (r) => {
      const firings = r.pending;
      r.pending = 0;
      try {
        await deliver(r.alert, r.route, firings);
      } catch (err) {
        r.pending += firings; // delivered at the next flush
        log({ level: 'warn', msg: 're-fires not delivered', fingerprint: r.alert.fingerprint, error: String(err) });
      }
    });
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/healthz') return answer(res, 200, { status: 'ok' });
      if (path !== WEBHOOK_PATH) return answer(res, 404, { error: `not found; Alertmanager posts to ${WEBHOOK_PATH}` });
      if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' });
      if (!authorized(req, token)) return answer(res, 401, { error: 'missing or wrong bearer token' });
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body === undefined) return answer(res, 413, { error: `payload over ${MAX_BODY_BYTES} bytes` });
      let raw: unknown;
      try {
        raw = JSON.parse(body);
      } catch (err) {
        return answer(res, 400, { error: `payload: not JSON (${(err as Error).message})` });
      }
      const parsed = parseWebhook(raw);
      if (!parsed.ok) return answer(res, 400, { error: parsed.reason });
      const results = await eachLimited(parsed.webhook.alerts, DELIVERY_CONCURRENCY, handle);
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as unknown }] : []));
      const count = (what: string) => results.filter((r) => r.status === 'fulfilled' && r.value === what).length;
      const summary = {
        alerts: results.length,
        delivered: results.filter((r) => r.status === 'fulfilled' && typeof r.value === 'object').length,
        coalesced: count('coalesced'),
        unrouted: count('unrouted'),
        failed: failed.length,
      };
      if (failed.length > 0) {
        const first = failed[0].reason instanceof Error ? failed[0].reason.message : String(failed[0].reason);
        log({ level: 'error', msg: 'alerts not handed over; Alertmanager will retry', ...summary, error: first });
        return answer(res, 503, { error: `${failed.length} alert(s) not handed over: ${first}`, ...summary });
      }
      // Nothing in it was for a runbook: taken, logged, and nothing started.
      return answer(res, summary.unrouted === summary.alerts && summary.alerts > 0 ? 202 : 200, summary);
    })().catch((err: unknown) => {
      if (!res.headersSent) answer(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const timer = setInterval(() => void flush(), options.refireFlushMs ?? 30_000);
  timer.unref();
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}${WEBHOOK_PATH}`,
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
