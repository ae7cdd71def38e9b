/**
 * A local stand-in for the WedSync AI service's operational endpoints (seed 002: /ai/health, /ai/metrics/daily,
 * /ai/errors/recent), so the runbooks have a service to check on a laptop. Its numbers come from the demo
 * database; availability is not measured here and is reported as the SLO value. It also accepts the crisis
 * protocol's calls and the Slack and PagerDuty notifications, writing each to a JSON-lines file so a person
 * can see what the runbooks sent. Point WEDSYNC_*, SLACK_WEBHOOK_URL and PAGERDUTY_EVENTS_URL at the real
 * services to use those instead.
 */

/** POST endpoints the local stack stands in for; each call is appended to the received-calls file. */
const POST_ROUTES = new Set([
  '/alerts/emergency',
  '/crisis/manual-mode/enable',
  '/crisis/notify-couple',
  '/crisis/emergency-planners/deploy',
  '/crisis/vendor-network/activate',
  '/crisis/executive-escalation',
  '/crisis/communication/begin',
  '/hooks/slack',
  '/pagerduty/v2/enqueue',
  '/ai/fallback/enable',
  '/ai/fallback/disable',
]);
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Pool } from 'pg';
import type { AddressInfo } from 'node:net';
import { DemoConditions } from './demo-conditions';
import { ScrollUniversityContent } from './demo-scrolluniversity-content';
import { scrollUniversityDemo, type ScrollUniversityDemoOptions } from './demo-scrolluniversity';
import { wedsyncLoad, type WedSyncLoadDemoOptions } from './demo-wedsync-load';
import { wedsyncOutageDemo, type WedsyncOutageDemoOptions } from './demo-wedsync-outage';

export interface DemoApi {
  url: string;
  close(): Promise<void>;
}

/**
 * Where the demo services look for what the runbooks did to them (a restart of ScrollUniversity's gateway, the
 * scale of WedSync's AI engines, a restart of WedSync's optimization engine).
 */
export type DemoApiOptions = ScrollUniversityDemoOptions & WedSyncLoadDemoOptions & WedsyncOutageDemoOptions;

/** Port 0 takes a free port (tests run a demo API of their own, so their conditions are theirs alone). */
export async function startDemoApi(
  databaseUrl: string,
  port: number,
  receivedCallsFile: string,
  options: DemoApiOptions = {},
): Promise<DemoApi> {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const conditions = new DemoConditions();
  const load = wedsyncLoad(conditions, options);
  pool.on('error', () => undefined);
  /**
   * In memory: whether the rule-based fallback is on (seed 002 `POST /ai/fallback/enable`). /ai/health answers 503
   * while the optimization engine is switched `down` or `failing` (`POST /_local/conditions`), so the fallback watch
   * can be seen to act; a restart of the engine clears that unless it was set sticky (demo-wedsync-outage.ts).
   */
  const state = { fallbackEnabled: false };
  const outage = wedsyncOutageDemo(conditions, options);
  const onPost: Record<string, (body: string) => void> = {
    '/ai/fallback/enable': () => void (state.fallbackEnabled = true),
    '/ai/fallback/disable': () => void (state.fallbackEnabled = false),
  };

  const accuracy = async () => {
    const { rows } = await pool.query<{ rate: string | null }>(
      `SELECT avg(CASE WHEN outcome = 'accepted' THEN 1.0 ELSE 0.0 END) AS rate
         FROM ai_feedback WHERE created_at > now() - interval '24 hours'`,
    );
    return rows[0].rate === null ? undefined : Number(Number(rows[0].rate).toFixed(4));
  };

  const routes: Record<string, () => Promise<unknown>> = {
    '/ai/health': async () => {
      const engine = await outage.engine();
      if (engine === 'down' || engine === 'failing') throw new Error(`AI service ${engine} (POST /_local/conditions)`);
      const started = performance.now();
      const accuracyRate = await accuracy();
      return {
        status: 'healthy',
        optimization_engine: 'operational',
        recommendation_engine: 'operational',
        crisis_manager: 'operational',
        response_time_ms: Math.round(performance.now() - started),
        accuracy_rate: accuracyRate,
        availability: 0.9995,
      };
    },
    '/ai/metrics/daily': async () => {
      const { rows } = await pool.query<{ requests: string; failed: string; queued: string }>(
        `SELECT count(*) AS requests,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE status = 'pending' AND created_at > now() - interval '1 hour') AS queued
           FROM wedding_optimizations WHERE created_at > now() - interval '24 hours'`,
      );
      const requests = Number(rows[0].requests);
      return {
        requests,
        // `slow` on ai-optimization-engine until the engines are scaled up (demo-wedsync-load.ts).
        response_time_ms: await load.responseTimeMs(),
        accuracy_rate: await accuracy(),
        availability: 0.9995,
        error_rate: requests === 0 ? 0 : Number((Number(rows[0].failed) / requests).toFixed(4)),
        queue_length: Number(rows[0].queued),
      };
    },
    '/ai/fallback/status': async () => ({ enabled: state.fallbackEnabled }),
    '/ai/errors/recent': async () => ({ errors: [{ message: 'vendor availability API timeout', count: 3 }] }),
  };
  // Each company's endpoints are a module of their own, registered here.
  for (const module of [scrollUniversityDemo(conditions, options), outage]) {
    Object.assign(routes, module.get);
    Object.assign(onPost, module.post);
  }

  const scrollUniversityContent = new ScrollUniversityContent(conditions);
  const server: Server = createServer((req, res) => {
    if (scrollUniversityContent.serve(req, res)) return;
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(conditions.metrics());
      return;
    }
    if (path === '/_local/conditions') {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(conditions.all()));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString());
        } catch {
          body = undefined;
        }
        const problem = conditions.set(body);
        res
          .writeHead(problem ? 400 : 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(problem ? { error: problem } : conditions.all()));
      });
      return;
    }
    if (req.method === 'POST' && (POST_ROUTES.has(path) || Object.hasOwn(onPost, path))) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        onPost[path]?.(body);
        appendFileSync(
          receivedCallsFile,
          `${JSON.stringify({ at: new Date().toISOString(), path, idempotencyKey: req.headers['idempotency-key'], body })}\n`,
        );
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
      });
      return;
    }
    const route = routes[path];
    if (req.method !== 'GET' || !route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    route().then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (err: Error) =>
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'down', error: err.message })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
