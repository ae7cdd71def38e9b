/**
 * A TCP proxy on loopback in front of one dependency (PostgreSQL, Redis, an HTTP receiver...), which a test can
 * cut: every open connection is reset and new ones are closed on arrival, as the worker sees a server that has
 * gone away, until the test restores it; or throttle: what clients send is held back, as a slow link does. The
 * dependency itself stays up for the other test files that share it.
 */
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  cut(): void;
  restore(): void;
  /** Holds each chunk a client sends for `ms`, one after another; 0 passes them on at once. Replies pass at once. */
  throttle(ms: number): void;
  /** Connections that arrived while cut and were closed: the worker kept trying. */
  refused: number;
  /** The local ports of its connections to the dependency: how the dependency (Redis's MONITOR) names a client. */
  upstreamPorts: Set<number>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<FaultProxy> {
  const open = new Set<Socket>();
  let cut = false;
  let throttleMs = 0;
  const server: Server = createServer((client) => {
    if (cut) {
      proxy.refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ port: upstreamPort, host: upstreamHost }, () => {
      proxy.upstreamPorts.add(upstream.localPort!);
    });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
    upstream.pipe(client);
    // What the client sends goes on in order, each chunk held for the throttle first (unthrottled: at once, with the
    // backpressure a pipe has).
    const held: Buffer[] = [];
    let pumping = false;
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      while (held.length && !upstream.destroyed) {
        if (throttleMs > 0) await new Promise((r) => setTimeout(r, throttleMs));
        if (!upstream.write(held.shift()!)) {
          client.pause();
          upstream.once('drain', () => client.resume());
        }
      }
      pumping = false;
    };
    client.on('data', (chunk: Buffer) => {
      held.push(chunk);
      void pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: FaultProxy = {
    port,
    refused: 0,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      cut = true;
      for (const s of open) s.resetAndDestroy();
    },
    restore() {
      cut = false;
    },
    throttle(ms: number) {
      throttleMs = ms;
    },
    upstreamPorts: new Set(),
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** How a lossy PostgreSQL proxy chooses the statements whose reply it loses. */
export interface ReplyLoss {
  /** The statement's SQL text (simple query or Parse message). */
  matches: (sql: string) => boolean;
  /** Loses the reply of every n-th matching statement. */
  every: number;
  /** At most this many replies lost. */
  limit: number;
}

export interface LossyPostgresProxy {
  via(url: string): string;
  /** Matching statements whose reply was lost after the server finished them. */
  lost: number;
  close(): Promise<void>;
}

/** Reads the length-prefixed messages of a PostgreSQL stream as they arrive; the first may be untyped (startup). */
function messageReader(untypedFirst: boolean, onMessage: (type: string, body: Buffer) => void) {
  let pending = Buffer.alloc(0);
  let untyped = untypedFirst;
  return (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const header = untyped ? 4 : 5;
      if (pending.length < header) return;
      const length = pending.readInt32BE(untyped ? 0 : 1);
      const total = length + (untyped ? 0 : 1);
      if (pending.length < total) return;
      const type = untyped ? '' : String.fromCharCode(pending[0]);
      const body = pending.subarray(header, total);
      // An SSL or GSS request is followed by another untyped message: the startup itself.
      const isRequest = untyped && length === 8;
      onMessage(type, body);
      pending = pending.subarray(total);
      untyped = isRequest;
    }
  };
}

/**
 * A proxy in front of PostgreSQL that lets chosen statements run and commit, then loses their reply: the server's
 * answer up to ReadyForQuery is swallowed and the connection reset, as when a network drops after the commit. The
 * worker sees a failed query whose effect happened, which is what its retry must be safe against. Only for
 * statements in autocommit: inside a transaction, the reset rolls the statement back.
 */
export async function startLossyPostgresProxy(upstreamPort: number, loss: ReplyLoss): Promise<LossyPostgresProxy> {
  const open = new Set<Socket>();
  let seen = 0;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ port: upstreamPort, host: '127.0.0.1' });
    open.add(client).add(upstream);
    let losing = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    const fromClient = messageReader(true, (type, body) => {
      if (type !== 'Q' && type !== 'P') return;
      // Parse: a statement name (NUL-terminated), then the SQL text; Query: the SQL text.
      const sql = (type === 'P' ? body.subarray(body.indexOf(0) + 1) : body).toString('utf8').replace(/\0.*$/s, '');
      if (!loss.matches(sql)) return;
      seen += 1;
      if (seen % loss.every === 0 && proxy.lost < loss.limit) losing = true;
    });
    client.on('data', (chunk: Buffer) => {
      fromClient(chunk);
      upstream.write(chunk);
    });
    const fromServer = messageReader(false, (type) => {
      if (losing && type === 'Z') {
        proxy.lost += 1;
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    // The client sends its next statement only after the last one's ReadyForQuery, so once a matching statement
    // has gone up, everything the server sends is its reply.
    upstream.on('data', (chunk: Buffer) => {
      if (!losing) client.write(chunk);
      fromServer(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: LossyPostgresProxy = {
    lost: 0,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** How a lossy HTTPS proxy chooses the requests whose reply it loses. */
export interface HttpReplyLoss {
  matches: (method: string, path: string) => boolean;
  /** At most this many replies lost. */
  limit: number;
  /**
   * Runs after the server applied a request whose reply is lost, before the connection is reset: what the system
   * behind the server does meanwhile (a controller reacting to the write).
   */
  afterApplied?: () => Promise<void>;
}

export interface LossyHttpsProxy {
  port: number;
  /** Every request that went through, in order. */
  requests: { method: string; path: string; status: number; lost: boolean }[];
  /** Replies lost after the server applied the request. */
  lost: number;
  close(): Promise<void>;
}

/**
 * An HTTPS proxy in front of an HTTPS server (the Kubernetes API server): it presents `tls` (the server's own
 * certificate, so clients trust it), forwards every request, and for the chosen ones lets the server apply the
 * request and answer, then resets the client's connection instead of passing the answer on. The client sees a
 * failed call whose effect happened, which is what its retry must be safe against.
 */
export async function startLossyHttpsProxy(
  upstream: URL,
  tls: { cert: Buffer; key: Buffer },
  loss: HttpReplyLoss,
): Promise<LossyHttpsProxy> {
  const server = createHttpsServer(tls, (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const lose = loss.matches(method, path) && proxy.lost < loss.limit;
    if (lose) proxy.lost += 1;
    const up = httpsRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: { ...req.headers, host: upstream.host },
        // The server's certificate is its own CA (self-signed), as the kubeconfig says.
        ca: tls.cert,
      },
      (upRes) => {
        proxy.requests.push({ method, path, status: upRes.statusCode ?? 0, lost: lose });
        if (!lose) {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          return;
        }
        upRes.resume();
        upRes.on('end', () => {
          void (loss.afterApplied?.() ?? Promise.resolve()).catch(() => undefined).finally(() => req.socket.destroy());
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: LossyHttpsProxy = {
    port: (server.address() as AddressInfo).port,
    requests: [],
    lost: 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
