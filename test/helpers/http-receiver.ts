/** A real HTTP server on loopback that answers with scripted responses and records every request. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedResponse {
  status: number;
  body?: unknown;
  /** The request was taken (and its effect applied) but the reply is lost: the connection is reset instead. */
  loseReply?: boolean;
}

export type Responder = (request: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export class HttpReceiver {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, ScriptedResponse | Responder>();
  private server?: Server;

  route(path: string, response: ScriptedResponse | Responder): this {
    this.routes.set(path, response);
    return this;
  }

  url(path: string): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  callsTo(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        const recorded = {
          method: req.method ?? '',
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        this.requests.push(recorded);
        const scripted = this.routes.get(path);
        void Promise.resolve(
          typeof scripted === 'function'
            ? scripted(recorded)
            : (scripted ?? { status: 404, body: { error: 'no route' } }),
        ).then((response) => {
          if (res.destroyed) return;
          if (response.loseReply) {
            req.socket.resetAndDestroy();
            return;
          }
          res.writeHead(response.status, { 'content-type': 'application/json' });
          res.end(
            response.body === undefined
              ? ''
              : typeof response.body === 'string'
                ? response.body
                : JSON.stringify(response.body),
          );
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The seed's expected /ai/health response. */
export const HEALTHY_BODY = {
  status: 'healthy',
  optimization_engine: 'operational',
  recommendation_engine: 'operational',
  crisis_manager: 'operational',
  response_time_ms: 250,
  accuracy_rate: 0.92,
  availability: 0.999,
};

export const GOOD_DAILY_METRICS = {
  requests: 1200,
  response_time_ms: 1800,
  accuracy_rate: 0.91,
  availability: 0.9995,
  error_rate: 0.002,
  queue_length: 4,
};
