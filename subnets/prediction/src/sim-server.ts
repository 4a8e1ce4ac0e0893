import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { z } from 'zod';
import type { TapeReader } from './forecasters.ts';
import type { MarketSim, Tape } from './sim.ts';

/**
 * The simulator as a public market on 127.0.0.1: `GET /feed.json` (the JSON feed document, outcomes
 * appearing after the configured lag) for validators, `GET /tape/<asset>` (prices so far, the signal)
 * for forecasters. Demos and tests put real HTTP between the market and its users.
 */
export interface SimServer {
  url: string;
  close(): Promise<void>;
}

export async function serveSim(sim: MarketSim, opts: { now?: () => number; port?: number } = {}): Promise<SimServer> {
  const now = opts.now ?? Date.now;
  const server: Server = createServer((req, res) => {
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET') return send(405, { error: 'GET only' });
    if (path === '/feed.json') {
      void sim.feed(now()).then((doc) => send(200, doc), (e: Error) => send(500, { error: e.message }));
      return;
    }
    const m = /^\/tape\/([A-Za-z0-9]{1,16})$/.exec(path);
    if (m) {
      const tape = sim.tape(m[1]!, now());
      return tape ? send(200, tape) : send(404, { error: 'unknown asset' });
    }
    send(404, { error: 'not found' });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const tapeSchema = z.object({
  asset: z.string(), stepMs: z.number().positive(), t0: z.number(), step: z.number().int().nonnegative(),
  prices: z.array(z.number().positive()).max(1000), signal: z.number(), signalUntil: z.number(), marketVar: z.number().positive(), jumpVar: z.number().nonnegative(),
});

/** A forecaster's view of the market over HTTP (validated, cached for one step; null when unavailable). */
export function httpTapeReader(baseUrl: string): TapeReader {
  const cache = new Map<string, { at: number; tape: Tape }>();
  return async (asset) => {
    const hit = cache.get(asset);
    if (hit && Date.now() - hit.at < hit.tape.stepMs) return hit.tape;
    try {
      const res = await request(`${baseUrl}/tape/${encodeURIComponent(asset)}`, { headersTimeout: 1000, bodyTimeout: 1000 });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return null;
      }
      const tape = tapeSchema.safeParse(await res.body.json());
      if (!tape.success) return null;
      cache.set(asset, { at: Date.now(), tape: tape.data });
      return tape.data;
    } catch {
      return null;
    }
  };
}
