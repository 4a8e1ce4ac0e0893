import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import type { ServeAxonParams } from '../chain/types.ts';
import { UserError } from '../errors.ts';
import {
  defineSynapse,
  newUuid,
  nowNanos,
  parseHeaders,
  parseSynapseBody,
  ProtocolError,
  PROTOCOL_VERSION,
  serializeSynapseBody,
  signAxonStamp,
  STATUS,
  STATUS_MESSAGE,
  synapseBodyHash,
  toHeaders,
  type ParsedHeaders,
  type ParsedSynapseBody,
  type SynapseDef,
  type TerminalInfo,
} from '../protocol/index.ts';
import { AdmissionError, AdmissionQueue, type Release } from './admission.ts';
import { callerClass, makeBlacklist, type CallerClass } from './blacklist.ts';
import { createAxonMetrics } from './metrics.ts';
import { NonceStore } from './nonce-store.ts';
import { resolveAxonSettings } from './options.ts';
import { RateLimiter } from './rate-limiter.ts';
import { AxonReject, headerSafe, sendError, terminalHeaders } from './responses.ts';
import type { AttachOptions, Axon, AxonOptions, CallerInfo, Handler, HandlerContext } from './types.ts';
import { verifyRequestHeaders, type VerifiedCaller } from './verify.ts';

/** The SDK's built-in ping route (`/Synapse`): no fields, answers an empty synapse. */
export const PingSynapse = defineSynapse({ name: 'Synapse', request: z.object({}), response: z.object({}) });

const DEFAULT_TIMEOUT_S = 12;
/** A handler that ignores its abort signal keeps its admission slot at most this long past the deadline. */
const HUNG_HANDLER_GRACE_MS = 2_000;
const RESERVED = new Set(['healthz', 'metrics']);

type StatefulRequest = FastifyRequest & { axonState: RequestState | null };

interface Route {
  def: SynapseDef;
  handler: Handler<SynapseDef>;
  opts: AttachOptions;
}

/** Per-request pipeline state, filled in as the request passes each stage. */
interface RequestState {
  routeLabel: string;
  arrival: number;
  cls: CallerClass;
  route?: Route;
  headers?: ParsedHeaders;
  caller?: VerifiedCaller;
  ctx?: HandlerContext;
  abort?: AbortController;
  timeoutS: number;
}

export function createAxon(opts: AxonOptions): Axon {
  const settings = resolveAxonSettings(opts);
  const log: Logger = opts.logger ?? pino({ name: 'axon' });
  const hotkey = opts.keypair.ss58Address;
  const axonUuid = newUuid();
  const metrics = createAxonMetrics(opts.metricsRegistry);
  const nonces = new NonceStore({ capacity: settings.nonce.capacity, maxTimeoutMs: settings.maxTimeoutMs, maxFutureMs: settings.nonce.maxFutureMs,
    reorderWindowMs: settings.nonce.reorderWindowMs,
  });
  const limiter = settings.rateLimit === false ? null : new RateLimiter(settings.rateLimit);
  const admission = new AdmissionQueue(settings.admission);
  admission.onChange = (running, waiting) => {
    metrics.inflight.set(running);
    metrics.queueDepth.set(waiting);
  };
  const defaultBlacklist = makeBlacklist(opts.blacklist);
  const routes = new Map<string, Route>();
  // Pipeline state rides on the request (a fastify decoration keeps the object's shape stable; a WeakMap
  // entry per request costs GC work).
  const states = {
    get: (req: FastifyRequest): RequestState | undefined => (req as StatefulRequest).axonState ?? undefined,
    set: (req: FastifyRequest, st: RequestState): void => {
      (req as StatefulRequest).axonState = st;
    },
  };
  const inflight = new Set<AbortController>();
  let boundPort = 0;
  let started = false;

  // No fastify logger: it would build a pino child per request; the axon logs its own errors via `log`.
  const app = Fastify({
    bodyLimit: settings.bodyLimitBytes,
    return503OnClosing: true,
  });

  // Keep the body as text: the body hash must see ints and floats exactly as sent (parsePyJson is lossless).
  app.decorateRequest('axonState', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  /** TerminalInfo the axon reports about itself for a given outcome. */
  function axonTerminal(status: number, message: string, st: RequestState | undefined): Partial<TerminalInfo> {
    const t: Partial<TerminalInfo> = {
      status_code: status,
      status_message: message,
      process_time: st ? (performance.now() - st.arrival) / 1000 : 0,
      hotkey,
      uuid: axonUuid,
      version: PROTOCOL_VERSION,
    };
    if (settings.signResponses && st?.caller) {
      t.nonce = nowNanos();
      t.signature = signAxonStamp(opts.keypair, { nonce: t.nonce, dendriteHotkey: st.caller.hotkey, axonHotkey: hotkey, axonUuid });
    }
    return t;
  }

  function dendriteTerminal(req: FastifyRequest, st: RequestState | undefined): Partial<TerminalInfo> {
    return { ...(st?.headers?.dendrite ?? {}), ip: req.socket.remoteAddress ?? null, port: req.socket.remotePort ?? null };
  }

  function reject(req: FastifyRequest, reply: FastifyReply, status: number, message: string, extra: Record<string, string> = {}): FastifyReply {
    const st = states.get(req);
    const headers: Record<string, string> = { ...extra };
    if (st?.route) headers.name = st.route.def.name;
    terminalHeaders('axon', axonTerminal(status, message, st), headers);
    terminalHeaders('dendrite', dendriteTerminal(req, st), headers);
    return sendError(reply, status, message, headers);
  }

  function rejectWith(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
    if (e instanceof AxonReject) {
      if (e.verifyReason) metrics.verifyFailures.inc({ reason: e.verifyReason });
      return reject(req, reply, e.status, e.message, e.headers);
    }
    if (e instanceof ProtocolError) return reject(req, reply, e.status < 500 ? e.status : STATUS.BAD_REQUEST, e.message);
    const id = randomUUID();
    log.error({ err: e, errorId: id, route: states.get(req)?.routeLabel }, 'axon pipeline error');
    return reject(req, reply, STATUS.INTERNAL_ERROR, STATUS_MESSAGE.internalError(id));
  }

  /** Stage 1 (headers only, before the body is read): parse → verify → blacklist → record nonce → rate limit. */
  async function onRequest(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const name = (req.params as { synapse?: string }).synapse ?? '';
    const route = routes.get(name);
    const st: RequestState = { routeLabel: route ? name : 'other', arrival: performance.now(), cls: 'unknown', timeoutS: DEFAULT_TIMEOUT_S };
    states.set(req, st);
    if (!route) return reject(req, reply, STATUS.NOT_FOUND, STATUS_MESSAGE.notFound(name, [...routes.keys()]));
    st.route = route;
    try {
      const headers = parseHeaders(req.headers);
      st.headers = headers;
      const t = headers.timeout;
      st.timeoutS = t !== null && Number.isFinite(t) && t > 0 ? Math.min(t, settings.maxTimeoutMs / 1000) : DEFAULT_TIMEOUT_S;
      const caller = verifyRequestHeaders(headers, hotkey, nonces, st.timeoutS * 1000);
      st.caller = caller;
      const info = lookupCaller(caller.hotkey);
      st.cls = callerClass(info);
      const abort = new AbortController();
      st.abort = abort;
      st.ctx = {
        caller: { hotkey: caller.hotkey, uid: info?.uid ?? null, stake: info?.stake ?? 0n, validatorPermit: info?.validatorPermit ?? false },
        synapse: route.def.name,
        deadline: Date.now() + st.timeoutS * 1000,
        signal: abort.signal,
      };
      const reason = route.opts.blacklist ? await route.opts.blacklist(st.ctx) : defaultBlacklist(caller.hotkey, info);
      if (reason !== null) return reject(req, reply, STATUS.FORBIDDEN, STATUS_MESSAGE.blacklisted(reason));
      // Re-check while recording: an await above may have let a concurrent request with this nonce through.
      const verdict = nonces.checkAndCommit(caller.endpointKey, caller.nonce, st.timeoutS * 1000);
      if (!verdict.ok) throw new AxonReject(STATUS.UNAUTHORIZED, STATUS_MESSAGE.notVerified(verdict.message), verdict.reason);
      const waitMs = limiter ? limiter.take(caller.hotkey) : 0;
      if (waitMs > 0) {
        return reject(req, reply, 429, `Too Many Requests: rate limit exceeded for ${caller.hotkey}, retry in ${waitMs} ms`, {
          'retry-after': String(Math.ceil(waitMs / 1000)),
        });
      }
      return undefined;
    } catch (e) {
      return rejectWith(req, reply, e);
    }
  }

  function lookupCaller(key: string): CallerInfo | undefined {
    const info = opts.callers.lookup(key);
    // The provider is injected: validate its answer rather than trust its types at runtime.
    if (info === undefined) return undefined;
    if (typeof info.uid !== 'number' || typeof info.stake !== 'bigint' || typeof info.validatorPermit !== 'boolean') {
      throw new Error(`caller info provider returned an invalid record for ${key}`);
    }
    return info;
  }

  /** Stage 2 (body read, size-limited by fastify): body hash → parse → admission → handler → response. */
  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const st = states.get(req);
    if (!st?.route || !st.ctx || !st.abort || !st.headers) return reject(req, reply, STATUS.INTERNAL_ERROR, 'pipeline state missing');
    const { route, ctx, abort, headers } = st;
    let release: Release | undefined;
    try {
      const text = typeof req.body === 'string' && req.body.length > 0 ? req.body : '{}';
      const parsed = parseSynapseBody(route.def, text);
      const hash = synapseBodyHash(route.def, parsed.raw);
      if (hash !== headers.computed_body_hash) {
        throw new AxonReject(STATUS.UNAUTHORIZED, STATUS_MESSAGE.notVerified(STATUS_MESSAGE.hashMismatch(headers.computed_body_hash ?? '', hash)), 'body_hash');
      }
      const priority = route.opts.priority ? route.opts.priority(ctx) : Number(ctx.caller.stake);
      try {
        release = await admission.acquire(priority, ctx.deadline);
      } catch (e) {
        if (e instanceof AdmissionError && e.kind === 'timeout') throw new AxonReject(STATUS.TIMEOUT, STATUS_MESSAGE.priorityTimeout(st.timeoutS));
        if (e instanceof AdmissionError) throw new AxonReject(STATUS.UNAVAILABLE, e.message);
        throw e;
      }
      return await runHandler(req, reply, st, route, ctx, abort, parsed, release);
    } catch (e) {
      release?.();
      return rejectWith(req, reply, e);
    }
  }

  async function runHandler(
    req: FastifyRequest,
    reply: FastifyReply,
    st: RequestState,
    route: Route,
    ctx: HandlerContext,
    abort: AbortController,
    parsed: ParsedSynapseBody<SynapseDef>,
    release: Release,
  ): Promise<FastifyReply> {
    inflight.add(abort);
    const timer = setTimeout(() => abort.abort(new AxonReject(STATUS.TIMEOUT, STATUS_MESSAGE.priorityTimeout(st.timeoutS))), Math.max(0, ctx.deadline - Date.now()));
    // A caller that hangs up no longer needs the answer.
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
    };
    reply.raw.once('close', onClose);
    let streaming = false;
    const work = Promise.resolve().then(() => route.handler(parsed.request, ctx));
    const free = () => {
      clearTimeout(timer);
      inflight.delete(abort);
      release();
    };
    try {
      const result = await raceAbort(work, abort.signal);
      if (isAsyncIterable(result)) {
        if (!route.def.streaming) throw new Error(`handler for ${route.def.name} returned a stream but the synapse is not streaming`);
        streaming = true;
        return sendStream(req, reply, st, result, abort.signal, free);
      }
      const out = route.def.response.safeParse(result);
      if (!out.success) {
        const issue = out.error.issues[0];
        throw new Error(`handler response fails the ${route.def.name} response schema: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
      }
      return sendSuccess(req, reply, st, route.def, parsed, out.data as Record<string, unknown>);
    } catch (e) {
      if (abort.signal.aborted && abort.signal.reason instanceof AxonReject) throw abort.signal.reason;
      throw e;
    } finally {
      if (!streaming) {
        reply.raw.off('close', onClose);
        if (abort.signal.aborted) {
          // The handler may still be running: keep its slot until it settles, but not forever.
          const grace = setTimeout(free, HUNG_HANDLER_GRACE_MS);
          grace.unref();
          work.then(free, free).finally(() => clearTimeout(grace));
        } else free();
      }
    }
  }

  function sendSuccess(
    req: FastifyRequest,
    reply: FastifyReply,
    st: RequestState,
    def: SynapseDef,
    parsed: ParsedSynapseBody<SynapseDef>,
    response: Record<string, unknown>,
  ): FastifyReply {
    const headers = st.headers as ParsedHeaders;
    const { meta, raw } = parsed;
    const body: Record<string, unknown> = {
      name: def.name,
      timeout: meta.timeout,
      total_size: meta.total_size,
      header_size: meta.header_size,
      dendrite: { ...meta.dendrite, ...dendriteTerminal(req, st) },
      axon: { ...meta.axon, ...axonTerminal(STATUS.SUCCESS, STATUS_MESSAGE.success, st) },
      computed_body_hash: headers.computed_body_hash ?? '',
    };
    for (const k of Object.keys(def.request.shape)) body[k] = Object.hasOwn(raw, k) ? raw[k] : null;
    for (const k of Object.keys(def.response.shape)) body[k] = response[k] ?? null;
    const outHeaders = toHeaders(def, body as never, { bodyHash: headers.computed_body_hash ?? '' });
    for (const k of Object.keys(outHeaders)) outHeaders[k] = headerSafe(outHeaders[k] as string);
    return reply
      .code(STATUS.SUCCESS)
      .headers(outHeaders)
      .type('application/json')
      .send(serializeSynapseBody(def, body, { compact: true, ensureAscii: false }));
  }

  function sendStream(
    req: FastifyRequest,
    reply: FastifyReply,
    st: RequestState,
    source: AsyncIterable<string | Uint8Array>,
    signal: AbortSignal,
    free: () => void,
  ): FastifyReply {
    const headers: Record<string, string> = { name: (st.route as Route).def.name };
    terminalHeaders('axon', axonTerminal(STATUS.SUCCESS, STATUS_MESSAGE.success, st), headers);
    terminalHeaders('dendrite', dendriteTerminal(req, st), headers);
    reply.raw.once('close', free);
    const stream = Readable.from(guardStream(source, signal, log, st.routeLabel), { objectMode: false });
    return reply
      .code(STATUS.SUCCESS)
      .headers({ ...headers, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
      .type('text/event-stream')
      .send(stream);
  }

  app.addHook('onResponse', (req, reply, done) => {
    const st = states.get(req);
    const url = req.routeOptions.url;
    const label = st?.routeLabel ?? (url === '/healthz' ? 'healthz' : url === '/metrics' ? 'metrics' : 'other');
    metrics.record(label, reply.statusCode, st?.cls ?? 'unknown', reply.elapsedTime / 1000);
    done();
  });

  app.get('/healthz', async (_req, reply) => reply.send({ status: 'ok', hotkey, synapses: [...routes.keys()] }));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.route({ method: ['GET', 'POST'], url: '/:synapse', onRequest, handler: handle });

  app.setNotFoundHandler((req, reply) => {
    const name = (req.url.split('?')[0] ?? '').replace(/^\/+/, '').split('/')[0] ?? '';
    return reject(req, reply, STATUS.NOT_FOUND, STATUS_MESSAGE.notFound(name, [...routes.keys()]));
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return reject(req, reply, 413, `Payload Too Large: request body exceeds ${settings.bodyLimitBytes} bytes`);
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reject(req, reply, status, headerSafe(err.message));
    return rejectWith(req, reply, err);
  });

  const axon: Axon = {
    attach<S extends SynapseDef>(synapse: S, handler: Handler<S>, attachOpts: AttachOptions = {}): Axon {
      if (routes.has(synapse.name) && synapse.name !== PingSynapse.name) throw new Error(`synapse ${synapse.name} is already attached`);
      if (RESERVED.has(synapse.name)) throw new Error(`synapse name '${synapse.name}' is reserved by the axon`);
      routes.set(synapse.name, { def: synapse, handler: handler as unknown as Handler<SynapseDef>, opts: attachOpts });
      return axon;
    },
    async start(): Promise<void> {
      if (started) return;
      try {
        await app.listen({ host: settings.host, port: settings.port });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`axon port ${settings.port} on ${settings.host} is already in use`, { hint: 'choose another --axon.port (or 0 for any free port)', cause: e });
        if (code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new UserError(`cannot bind axon to ${settings.host}:${settings.port} (${code})`, { hint: 'check the bind host and port', cause: e });
        throw e;
      }
      started = true;
      const addr = app.server.address();
      boundPort = typeof addr === 'object' && addr !== null ? addr.port : settings.port;
      log.info({ hotkey, host: settings.host, port: boundPort, synapses: [...routes.keys()] }, 'axon listening');
      const advertised = axon.info().ip;
      if (advertised === '0.0.0.0' || advertised === '::') {
        log.warn({ advertised }, 'axon has no externalIp: info() advertises an unspecified address; set externalIp before serving on chain');
      }
    },
    async stop(): Promise<void> {
      if (!started) return;
      started = false;
      admission.close();
      // Let running handlers finish, then abort whatever is left (e.g. long streams). Connections that
      // finished a response during shutdown stay keep-alive, so keep closing idle ones; after a further
      // grace, close everything.
      const closing = app.close();
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      const grace = setTimeout(() => {
        for (const a of inflight) a.abort(new Error('axon stopped'));
      }, settings.stopGraceMs);
      const hard = setTimeout(() => app.server.closeAllConnections(), settings.stopGraceMs + HUNG_HANDLER_GRACE_MS);
      try {
        await closing;
      } finally {
        clearInterval(sweep);
        clearTimeout(grace);
        clearTimeout(hard);
      }
    },
    get port(): number {
      return boundPort;
    },
    hotkey,
    info(): ServeAxonParams {
      const ip = settings.externalIp ?? settings.host;
      return { version: PROTOCOL_VERSION, ip, port: settings.externalPort ?? (boundPort || settings.port), ipType: isIP(ip) === 6 ? 6 : 4, protocol: 4 };
    },
    metrics: metrics.registry,
  };
  axon.attach(PingSynapse, () => ({}));
  return axon;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<string | Uint8Array> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** Resolve with the work, or reject with the signal's reason once it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Pass chunks through as bytes; stop at the deadline; a handler error ends the stream abruptly (logged). */
async function* guardStream(source: AsyncIterable<string | Uint8Array>, signal: AbortSignal, log: Logger, route: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) {
      if (signal.aborted) return;
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    log.error({ err: e, route }, 'streaming handler failed mid-stream');
    throw e;
  }
}
