import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { UserError } from '../errors.ts';
import { createTimedServer } from '../util/http-timeouts.ts';
import { ipAllowList } from '../util/ip-allow.ts';

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export interface ServeMetricsOptions {
  port: number;
  host?: string;
  /** Only these peers (IPs or CIDR ranges) may read it; others get 403. Default: anyone who can reach `host`. */
  allow?: readonly string[];
  /** A request must arrive whole within this, ms (default 10 000). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms (default 5 000). */
  keepAliveTimeoutMs?: number;
  /** Any connection without traffic for this long is closed, ms (default 30 000; covers sockets that never send a request). */
  idleTimeoutMs?: number;
}

export const METRICS_SERVER_DEFAULTS = { requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 30_000 } as const;

/**
 * Serve a prom-client registry as Prometheus text on `GET /metrics` (HEAD too; other methods 405, like the
 * axon; 404 elsewhere). For processes without an axon to host it, such as validators. Binds loopback
 * unless told otherwise; `allow` narrows who may read it when bound wider. Slow requests and idle sockets are
 * closed (see ServeMetricsOptions).
 */
export function serveMetrics(registry: Registry, opts: ServeMetricsOptions): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  const allowed = opts.allow !== undefined ? ipAllowList(opts.allow) : null;
  const requestTimeoutMs = opts.requestTimeoutMs ?? METRICS_SERVER_DEFAULTS.requestTimeoutMs;
  const server = createTimedServer(
    {
      requestTimeoutMs,
      headersTimeoutMs: requestTimeoutMs,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? METRICS_SERVER_DEFAULTS.keepAliveTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs ?? METRICS_SERVER_DEFAULTS.idleTimeoutMs,
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // the body (if any) is not read: close rather than leave it in the keep-alive stream
        res.writeHead(405, { allow: 'GET, HEAD', connection: 'close' }).end();
        return;
      }
      if (allowed && !allowed(req.socket.remoteAddress)) {
        res.writeHead(403, { connection: 'close' }).end();
        return;
      }
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => res.writeHead(500).end(),
      );
    },
  );
  return new Promise((ok, fail) => {
    server.once('error', (e) => fail(new UserError(`cannot serve metrics on ${host}:${opts.port}: ${e.message}`)));
    server.listen(opts.port, host, () =>
      ok({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      }),
    );
  });
}
