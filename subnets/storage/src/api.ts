import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError, type Gateway } from './gateway.ts';

/**
 * The gateway's user API, plain HTTP on 127.0.0.1 by default (the `storage` CLI talks to it):
 *   POST /objects?name=N (body = bytes) → {id, size, placed}   GET /objects → [{id, name, size, createdAt}]
 *   GET /objects/ID → bytes                                     DELETE /objects/ID → {deleted}
 * Bodies are bounded by the gateway's maxObjectBytes before anything is buffered past it.
 */
const ID = /^[0-9a-f]{32}$/;
const STATUS: Record<GatewayError['code'], number> = { too_large: 413, not_found: 404, no_miners: 503, unavailable: 503, corrupt: 502 };

function readBounded(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > limit) {
        reject(new GatewayError('too_large', `object exceeds the ${limit}-byte limit`));
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export async function serveGatewayApi(gw: Gateway, opts: { host?: string; port?: number } = {}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, body: unknown) => {
      res.statusCode = code;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    void (async () => {
      const m = /^\/objects(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return send(404, { error: 'unknown path' });
      const id = m[1];
      if (id !== undefined && !ID.test(id)) return send(400, { error: 'object ids are 32 hex characters' });
      if (req.method === 'POST' && !id) {
        const name = (url.searchParams.get('name') ?? 'object').slice(0, 255);
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > gw.params.maxObjectBytes) return send(413, { error: `object of ${declared} bytes exceeds the ${gw.params.maxObjectBytes}-byte limit` });
        return send(201, await gw.put(await readBounded(req, gw.params.maxObjectBytes), name));
      }
      if (req.method === 'GET' && !id) return send(200, gw.list().map((o) => ({ id: o.id, name: o.name, size: o.size, createdAt: o.createdAt })));
      if (req.method === 'GET' && id) {
        const data = await gw.get(id);
        res.setHeader('content-type', 'application/octet-stream');
        return void res.end(data);
      }
      if (req.method === 'DELETE' && id) {
        await gw.remove(id);
        return send(200, { deleted: id });
      }
      send(405, { error: 'method not allowed' });
    })().catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (e instanceof GatewayError) send(STATUS[e.code], { error: e.message });
      else send(500, { error: `internal error: ${(e as Error).message}` });
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 8095, opts.host ?? '127.0.0.1', r));
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.address}:${a.port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
