import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ZodError } from 'zod';
import { verify } from '../wallet/keypair.ts';
import { toJson, type ChainEvent } from './codec.ts';
import type { LocalChain } from './local-chain.ts';
import { ChainError, type BlockInfo } from './types.ts';
import {
  MAX_CLOCK_SKEW_MS,
  SIGNING_CONTEXT,
  clientMessageSchema,
  faucetRequestSchema,
  readMethods,
  readRequestSchema,
  signedPayloadSchema,
  signedRequestSchema,
  type ReadMethod,
  type ServerMessage,
} from './wire.ts';

export interface LocalnetServerOptions {
  chain: LocalChain;
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  /** Reported to clients in /info. */
  blockTimeMs?: number;
}

export interface LocalnetServer {
  /** `http://host:port` */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Remembers accepted (signer, nonce) pairs for the clock-skew window, so a captured request cannot be replayed. */
class ReplayGuard {
  private seen = new Map<string, number>();
  accept(key: string, now: number): boolean {
    if (this.seen.size > 10_000) for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    if (this.seen.has(key)) return false;
    this.seen.set(key, now + 2 * MAX_CLOCK_SKEW_MS);
    return true;
  }
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(toJson(body));
}

function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return send(reply, status, { ok: false, error: { code, message } });
}

function zodMessage(err: ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid request';
}

/** Serve a LocalChain over HTTP JSON (reads, signed writes, faucet) and a WebSocket (blocks, events). */
export async function startLocalnetServer(opts: LocalnetServerOptions): Promise<LocalnetServer> {
  const { chain } = opts;
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  const replay = new ReplayGuard();

  app.get('/health', async (_req, reply) => send(reply, 200, { ok: true, result: { block: (await chain.getBlock()).number } }));

  app.get('/info', async (_req, reply) =>
    send(reply, 200, { genesisHash: chain.genesisHash, head: await chain.getBlock(), blockTimeMs: opts.blockTimeMs ?? 0, devAccounts: chain.devAccounts }),
  );

  app.post('/read', async (req, reply) => {
    const parsed = readRequestSchema.safeParse(req.body);
    if (!parsed.success) return fail(reply, 400, 'InvalidRequest', zodMessage(parsed.error));
    const method: ReadMethod = parsed.data.method;
    const params = readMethods[method].params.safeParse(parsed.data.params);
    if (!params.success) return fail(reply, 400, 'InvalidRequest', zodMessage(params.error));
    try {
      const result = await dispatchRead(chain, method, params.data as Record<string, never>);
      return send(reply, 200, { ok: true, result });
    } catch (e) {
      if (e instanceof ChainError) return fail(reply, 400, e.code, e.message);
      throw e;
    }
  });

  app.post('/submit', async (req, reply) => {
    const body = signedRequestSchema.safeParse(req.body);
    if (!body.success) return fail(reply, 400, 'InvalidRequest', zodMessage(body.error));
    const { payload, signature, signer } = body.data;
    if (!verify(SIGNING_CONTEXT + payload, signature, signer)) return fail(reply, 401, 'BadProof', 'signature does not match the signer');
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return fail(reply, 400, 'InvalidRequest', 'payload is not JSON');
    }
    const p = signedPayloadSchema.safeParse(json);
    if (!p.success) return fail(reply, 400, 'InvalidRequest', zodMessage(p.error));
    if (p.data.genesisHash !== chain.genesisHash) return fail(reply, 400, 'BadProof', 'signed for another chain (genesis hash differs)');
    const now = Date.now();
    if (p.data.timestamp < now - MAX_CLOCK_SKEW_MS) return fail(reply, 400, 'Stale', 'request timestamp is too old');
    if (p.data.timestamp > now + MAX_CLOCK_SKEW_MS) return fail(reply, 400, 'Future', 'request timestamp is in the future');
    if (!replay.accept(`${signer}:${p.data.nonce}`, now)) return fail(reply, 409, 'Stale', 'replayed request (nonce already used)');
    try {
      const result = await chain.submit(signer, { call: p.data.call, args: p.data.args });
      return send(reply, 200, { ok: true, result });
    } catch (e) {
      if (e instanceof ChainError) return fail(reply, 400, e.code, e.message);
      throw e;
    }
  });

  app.post('/faucet', async (req, reply) => {
    const parsed = faucetRequestSchema.safeParse(req.body);
    if (!parsed.success) return fail(reply, 400, 'InvalidRequest', zodMessage(parsed.error));
    try {
      await chain.faucet(parsed.data.coldkey, parsed.data.amount);
      return send(reply, 200, { ok: true, result: null });
    } catch (e) {
      if (e instanceof ChainError) return fail(reply, 400, e.code, e.message);
      throw e;
    }
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    // Malformed JSON and the like arrive here; never a stack trace over the wire.
    const e = err as { statusCode?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' && e.statusCode < 500 ? e.statusCode : 500;
    void fail(reply, status, status === 500 ? 'InternalError' : 'InvalidRequest', String(e.message ?? 'error'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const live = new Set<WebSocket>();
  const push = (msg: ServerMessage) => {
    const text = toJson(msg);
    for (const ws of live) if (ws.readyState === ws.OPEN) ws.send(text);
  };
  const unsubBlocks = chain.subscribeBlocks((block: BlockInfo) => push({ type: 'block', block }));
  const unsubEvents = chain.subscribeEvents((event: ChainEvent) => push({ type: 'event', event }));

  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return ws.close(1003, 'invalid JSON');
      }
      const parsed = clientMessageSchema.safeParse(msg);
      if (!parsed.success) return ws.close(1003, 'unknown message');
      // Catch-up and going live happen in one synchronous step, so no block is missed or doubled.
      const from = parsed.data.fromBlock;
      if (from !== undefined) for (const block of chain.recentBlocks(from)) ws.send(toJson({ type: 'block', block }));
      live.add(ws);
    });
    ws.on('close', () => live.delete(ws));
    ws.on('error', () => live.delete(ws));
  });
  app.server.on('upgrade', (req, socket, head) => {
    if (!req.url || !req.url.startsWith('/ws')) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 9944 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 9944);
  const host = opts.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    wsUrl: `ws://${shownHost}:${port}/ws`,
    port,
    async close() {
      unsubBlocks();
      unsubEvents();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await app.close();
    },
  };
}

async function dispatchRead(chain: LocalChain, method: ReadMethod, p: Record<string, never>): Promise<unknown> {
  const q = p as Record<string, string & number>;
  switch (method) {
    case 'getBlock':
      return chain.getBlock();
    case 'getBalance':
      return chain.getBalance(q.coldkey);
    case 'subnetExists':
      return chain.subnetExists(q.netuid);
    case 'getHyperparameters':
      return chain.getHyperparameters(q.netuid);
    case 'getMetagraph':
      return chain.getMetagraph(q.netuid);
    case 'getUid':
      return chain.getUid(q.netuid, q.hotkey);
    case 'getEpochIndex':
      return chain.getEpochIndex(q.netuid);
    case 'getWeightCommits':
      return chain.getWeightCommits(q.netuid, q.hotkey);
    case 'getWeights':
      return chain.getWeights(q.netuid, q.uid);
    case 'getStake':
      return chain.getStake(q.netuid, q.hotkey, q.coldkey);
  }
}
