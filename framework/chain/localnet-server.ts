import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { z, type ZodError } from 'zod';
import { describeZodError, UserError } from '../errors.ts';
import { createTimedServer } from '../util/http-timeouts.ts';
import { u8aToHex, verify } from '../wallet/keypair.ts';
import { ss58PublicKey, toJson, type ChainEvent } from './codec.ts';
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
  /** Whole request (headers + body) must arrive within this, ms (default 15 000): slow bodies get 408. */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this, ms (default 5 000). */
  keepAliveTimeoutMs?: number;
  /** Most blocks replayed to a new subscriber (`fromBlock`), newest kept (default 256). */
  wsMaxCatchUpBlocks?: number;
  /** A subscriber with more than this many bytes queued (not read) is closed (default 1 MiB); it reconnects and resumes. */
  wsMaxBufferedBytes?: number;
  /** Extra routes on the same server (the CLI mounts the explorer at `/`). */
  mount?: (app: FastifyInstance) => LocalnetMount;
}

/** What a mounted extension offers back: WebSocket upgrades on its own paths, and clean-up. */
export interface LocalnetMount {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

export const LOCALNET_SERVER_DEFAULTS = {
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  wsMaxCatchUpBlocks: 256,
  wsMaxBufferedBytes: 1024 * 1024,
} as const;

const optionsSchema = z.object({
  requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(LOCALNET_SERVER_DEFAULTS.requestTimeoutMs),
  keepAliveTimeoutMs: z.number().int().min(100).max(3_600_000).default(LOCALNET_SERVER_DEFAULTS.keepAliveTimeoutMs),
  wsMaxCatchUpBlocks: z.number().int().min(0).max(100_000).default(LOCALNET_SERVER_DEFAULTS.wsMaxCatchUpBlocks),
  wsMaxBufferedBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(LOCALNET_SERVER_DEFAULTS.wsMaxBufferedBytes),
});

export interface LocalnetServer {
  /** `http://host:port` */
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  close(): Promise<void>;
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
  const checked = optionsSchema.safeParse({
    requestTimeoutMs: opts.requestTimeoutMs,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
    wsMaxCatchUpBlocks: opts.wsMaxCatchUpBlocks,
    wsMaxBufferedBytes: opts.wsMaxBufferedBytes,
  });
  if (!checked.success) throw new UserError(describeZodError(checked.error, 'localnet server options'), { hint: 'see docs/chain.md' });
  const limits = checked.data;
  // Fastify's own default turns node's request timeout off; a body trickling in would hold a socket forever.
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 2 * 1024 * 1024,
    serverFactory: (handler) =>
      createTimedServer({ requestTimeoutMs: limits.requestTimeoutMs, headersTimeoutMs: limits.requestTimeoutMs, keepAliveTimeoutMs: limits.keepAliveTimeoutMs }, handler),
  });
  const registry = new Registry();
  const wsSubscribers = new Gauge({ name: 'localnet_ws_subscribers', help: 'WebSocket subscribers receiving blocks and events', registers: [registry] });
  const wsDropped = new Counter({
    name: 'localnet_ws_dropped_subscribers_total',
    help: 'WebSocket subscribers closed by the server, by reason (slow: more than the buffered limit unread; protocol: bad or repeated subscribe)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  let droppedTotal = 0;
  const persistenceOk = new Gauge({
    name: 'localnet_persistence_ok',
    help: '1 while chain state writes succeed, 0 while they fail (writes are refused then)',
    registers: [registry],
    collect() {
      this.set(chain.persistenceError === null ? 1 : 0);
    },
  });
  void persistenceOk;

  app.get('/health', async (_req, reply) => {
    const block = (await chain.getBlock()).number;
    const persistence = chain.persistenceError;
    if (persistence !== null) return send(reply, 503, { ok: false, error: { code: 'PersistenceFailed', message: `chain state cannot be written (${persistence}); writes are refused` }, result: { block } });
    return send(reply, 200, { ok: true, result: { block, wsSubscribers: live.size, wsDropped: droppedTotal } });
  });

  app.get('/metrics', async (_req, reply) => reply.code(200).header('content-type', registry.contentType).send(await registry.metrics()));

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
    // Replay identity is the public key, not the address text (one key has many SS58 forms); persisted
    // with the call, so a restart reopens nothing.
    const key = `${u8aToHex(ss58PublicKey(signer) as Uint8Array)}:${p.data.nonce}`;
    try {
      const result = await chain.submit(signer, { call: p.data.call, args: p.data.args }, { key, expiresAt: now + 2 * MAX_CLOCK_SKEW_MS });
      return send(reply, 200, { ok: true, result });
    } catch (e) {
      if (e instanceof ChainError) return fail(reply, chainErrorStatus(e.code), e.code, e.message);
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
      if (e instanceof ChainError) return fail(reply, chainErrorStatus(e.code), e.code, e.message);
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
  const dropped = new WeakSet<WebSocket>();
  const drop = (ws: WebSocket, reason: 'slow' | 'protocol', code: number, why: string) => {
    if (dropped.has(ws)) return; // messages already received after the drop count once
    dropped.add(ws);
    live.delete(ws);
    wsSubscribers.set(live.size);
    wsDropped.inc({ reason });
    droppedTotal++;
    if (reason === 'slow') return ws.terminate(); // a close frame would only queue behind what it does not read
    ws.close(code, why);
    setTimeout(() => ws.terminate(), 1_000).unref(); // a peer that does not answer the close frame

  };
  /** Send, unless the subscriber has not read what it already has: then close it (it resumes from its last block). */
  const sendTo = (ws: WebSocket, text: string): boolean => {
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount + text.length > limits.wsMaxBufferedBytes) {
      drop(ws, 'slow', 1008, 'too slow: unread data over the limit');
      return false;
    }
    ws.send(text);
    return true;
  };
  const push = (msg: ServerMessage) => {
    const text = toJson(msg);
    for (const ws of live) sendTo(ws, text);
  };
  const unsubBlocks = chain.subscribeBlocks((block: BlockInfo) => push({ type: 'block', block }));
  const unsubEvents = chain.subscribeEvents((event: ChainEvent) => push({ type: 'event', event }));

  wss.on('connection', (ws) => {
    let subscribed = false;
    ws.on('message', (data) => {
      // one subscribe per socket: each further one would replay the catch-up again
      if (subscribed) return drop(ws, 'protocol', 1008, 'already subscribed');
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return drop(ws, 'protocol', 1003, 'invalid JSON');
      }
      const parsed = clientMessageSchema.safeParse(msg);
      if (!parsed.success) return drop(ws, 'protocol', 1003, 'unknown message');
      subscribed = true;
      // Catch-up and going live happen in one synchronous step, so no block is missed or doubled.
      const from = parsed.data.fromBlock;
      if (from !== undefined && limits.wsMaxCatchUpBlocks > 0) {
        const blocks = chain.recentBlocks(from);
        for (const block of blocks.slice(-limits.wsMaxCatchUpBlocks)) if (!sendTo(ws, toJson({ type: 'block', block }))) return;
      }
      live.add(ws);
      wsSubscribers.set(live.size);
    });
    const gone = () => {
      live.delete(ws);
      wsSubscribers.set(live.size);
    };
    ws.on('close', gone);
    ws.on('error', gone);
  });
  const mounted = opts.mount?.(app);
  app.server.on('upgrade', (req, socket, head) => {
    if (mounted?.handleUpgrade(req, socket, head)) return;
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
      mounted?.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await app.close();
    },
  };
}

/** HTTP status for a chain error: replays 409, storage trouble 503, the rest (call errors) 400. */
function chainErrorStatus(code: string): number {
  if (code === 'Stale') return 409;
  if (code === 'PersistenceFailed' || code === 'ExhaustsResources') return 503;
  return 400;
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
    case 'listSubnets':
      return chain.listSubnets();
    case 'getHyperparameters':
      return chain.getHyperparameters(q.netuid);
    case 'getMetagraph':
      return chain.getMetagraph(q.netuid, { mechid: q.mechid });
    case 'getUid':
      return chain.getUid(q.netuid, q.hotkey);
    case 'getEpochIndex':
      return chain.getEpochIndex(q.netuid);
    case 'getWeightCommits':
      return chain.getWeightCommits(q.netuid, q.hotkey, { mechid: q.mechid });
    case 'getWeights':
      return chain.getWeights(q.netuid, q.uid, { mechid: q.mechid });
    case 'getEpochSchedule':
      return chain.getEpochSchedule(q.netuid);
    case 'getStake':
      return chain.getStake(q.netuid, q.hotkey, q.coldkey);
  }
}
