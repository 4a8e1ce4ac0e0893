import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { BlockInfo, Chain } from '../chain/types.ts';
import { HistoryRecorder, type HistoryOptions } from './history.ts';
import { listNetuids } from '../chain/list-subnets.ts';
import { subnetSummary, subnetView, weightsView } from './views.ts';

export interface ExplorerOptions {
  chain: Chain;
  history?: HistoryOptions;
  /** Close a live client whose unsent data exceeds this many bytes (it is not reading). */
  maxBufferedBytes?: number;
  /** Live clients at once. */
  maxClients?: number;
}

export interface ExplorerMount {
  /** Take a WebSocket upgrade for the live feed; false when the path is not the explorer's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  readonly history: HistoryRecorder;
  /** Live clients closed for not reading. */
  readonly droppedClients: () => number;
  close(): void;
}

export const LIVE_PATH = '/explorer/live';

const netuidParam = z.object({ netuid: z.coerce.number().int().min(0).max(65535) });
const uidQuery = z.object({ uid: z.coerce.number().int().min(0).max(65535) });

const require = createRequire(import.meta.url);
const staticDir = new URL('./static/', import.meta.url);
// Everything is served from this package and node_modules: no CDN.
const assets: Record<string, { file: string | URL; type: string }> = {
  '/': { file: new URL('index.html', staticDir), type: 'text/html; charset=utf-8' },
  '/explorer/app.js': { file: new URL('app.js', staticDir), type: 'text/javascript; charset=utf-8' },
  '/explorer/style.css': { file: new URL('style.css', staticDir), type: 'text/css; charset=utf-8' },
  '/explorer/vendor/uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/explorer/vendor/uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/**
 * Add the explorer (pages, JSON API, live feed) to a fastify app. The localnet server mounts it at `/`;
 * `startExplorer` serves it alone for any chain.
 */
export function mountExplorer(app: FastifyInstance, opts: ExplorerOptions): ExplorerMount {
  const { chain } = opts;
  const history = new HistoryRecorder(chain, opts.history);
  const cache = new Map<string, Buffer>();
  for (const [path, asset] of Object.entries(assets)) {
    app.get(path, async (_req, reply) => {
      let body = cache.get(path);
      if (!body) cache.set(path, (body = readFileSync(asset.file)));
      return reply.type(asset.type).header('cache-control', 'no-cache').send(body);
    });
  }

  const notFound = (netuid: number) => ({ ok: false, error: { code: 'SubnetNotExists', message: `subnet ${netuid} does not exist` } });
  const badRequest = { ok: false, error: { code: 'InvalidRequest', message: 'netuid and uid are integers 0..65535' } };
  // Parsed here, not thrown: the host app (localnet) keeps its own error handler.
  const parseNetuid = (params: unknown) => netuidParam.safeParse(params);

  app.get('/api/explorer/subnets', async () => {
    const block = await chain.getBlock();
    const netuids = await listNetuids(chain);
    const subnets = [];
    for (const netuid of netuids.slice(0, 256)) {
      const [mg, hp] = await Promise.all([chain.getMetagraph(netuid), chain.getHyperparameters(netuid)]);
      subnets.push(subnetSummary(mg, hp));
    }
    return { ok: true, result: { kind: chain.kind, block: block.number, subnets } };
  });

  app.get('/api/explorer/subnets/:netuid', async (req, reply) => {
    const p = parseNetuid(req.params);
    if (!p.success) return reply.code(400).send(badRequest);
    const { netuid } = p.data;
    if (!(await chain.subnetExists(netuid))) return reply.code(404).send(notFound(netuid));
    const [mg, hp] = await Promise.all([chain.getMetagraph(netuid), chain.getHyperparameters(netuid)]);
    history.follow(netuid);
    history.record(mg);
    return { ok: true, result: subnetView(mg, hp) };
  });

  app.get('/api/explorer/subnets/:netuid/weights', async (req, reply) => {
    const p = parseNetuid(req.params);
    if (!p.success) return reply.code(400).send(badRequest);
    const { netuid } = p.data;
    if (!(await chain.subnetExists(netuid))) return reply.code(404).send(notFound(netuid));
    return { ok: true, result: await weightsView(chain, await chain.getMetagraph(netuid)) };
  });

  app.get('/api/explorer/subnets/:netuid/history', async (req, reply) => {
    const p = parseNetuid(req.params);
    const q = uidQuery.safeParse(req.query);
    if (!p.success || !q.success) return reply.code(400).send(badRequest);
    const { netuid } = p.data;
    const { uid } = q.data;
    if (!(await chain.subnetExists(netuid))) return reply.code(404).send(notFound(netuid));
    history.follow(netuid);
    return { ok: true, result: history.uid(netuid, uid) };
  });

  // Live feed: one small message per block; pages re-read what they show. Slow readers are closed
  // rather than buffered without bound.
  const maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
  const maxClients = opts.maxClients ?? 256;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const clients = new Set<WebSocket>();
  let dropped = 0;
  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', () => ws.close(1008, 'the live feed takes no messages'));
  });
  const unsubscribe = chain.subscribeBlocks((block: BlockInfo) => {
    void history.onBlock(block.number);
    const text = JSON.stringify({ type: 'block', block });
    for (const ws of clients) {
      if (ws.bufferedAmount > maxBuffered) {
        dropped++;
        clients.delete(ws);
        ws.terminate();
      } else if (ws.readyState === ws.OPEN) ws.send(text);
    }
  });

  return {
    history,
    droppedClients: () => dropped,
    handleUpgrade(req, socket, head) {
      if (!req.url || req.url.split('?')[0] !== LIVE_PATH) return false;
      if (clients.size >= maxClients) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    close() {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
    },
  };
}

export interface ExplorerServer {
  readonly url: string;
  readonly port: number;
  readonly mount: ExplorerMount;
  close(): Promise<void>;
}

/** Serve the explorer alone (`subnet explorer --chain …`). */
export async function startExplorer(opts: ExplorerOptions & { host?: string; port?: number }): Promise<ExplorerServer> {
  const app = Fastify({ logger: false, requestTimeout: 30_000 });
  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err as { statusCode?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' && e.statusCode < 500 ? e.statusCode : 502;
    return reply.code(status).send({ ok: false, error: { code: status === 502 ? 'ChainUnavailable' : 'InvalidRequest', message: String(e.message ?? 'error') } });
  });
  const mount = mountExplorer(app, opts);
  app.server.on('upgrade', (req, socket, head) => {
    if (!mount.handleUpgrade(req, socket, head)) socket.destroy();
  });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 8090 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8090);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    mount,
    async close() {
      mount.close();
      await app.close();
    },
  };
}
