import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { UserError } from '../errors.ts';

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serve a prom-client registry as Prometheus text on `GET /metrics` (404 elsewhere). For processes
 * without an axon to host it, such as validators. Binds loopback unless told otherwise.
 */
export function serveMetrics(registry: Registry, opts: { port: number; host?: string }): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((ok, fail) => {
    server.once('error', (e) => fail(new UserError(`cannot serve metrics on ${host}:${opts.port}: ${e.message}`)));
    server.listen(opts.port, host, () =>
      ok({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}
