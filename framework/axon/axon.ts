import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { loggerFromEnv } from '../util/log.ts';
import { z } from 'zod';
import type { ServeAxonParams } from '../chain/types.ts';
import { UserError } from '../errors.ts';
import { defineSynapse, newUuid, PROTOCOL_VERSION, STATUS, STATUS_MESSAGE, type SynapseDef } from '../protocol/index.ts';
import { createTimedServer } from '../util/http-timeouts.ts';
import { ipAllowList } from '../util/ip-allow.ts';
import { AdmissionQueue } from './admission.ts';
import { ByteBudget } from './inflight.ts';
import { makeBlacklist } from './blacklist.ts';
import { createVerifier, resolveWireSettings } from './btauth-options.ts';
import { createBtauthPipeline } from './btauth-route.ts';
import { createAxonMetrics } from './metrics.ts';
import { NonceStore } from './nonce-store.ts';
import { resolveAxonSettings, type ResolvedAxonSettings } from './options.ts';
import { createSynapsePipeline, type Exchange, type Route } from './pipeline.ts';
import { RateLimiter, type CallerLimiter } from './rate-limiter.ts';
import { SharedLimiter } from './shared-limiter.ts';
import type { AxonMetrics } from './metrics.ts';
import { headerSafe, JSON_TYPE, sendError, terminalHeaders } from './responses.ts';
import type { AttachOptions, Axon, AxonOptions, Handler } from './types.ts';

/** The SDK's built-in ping route (`/Synapse`): no fields, answers an empty synapse. */
export const PingSynapse = defineSynapse({ name: 'Synapse', request: z.object({}), response: z.object({}) });

/** Past stopGraceMs, connections still open are closed this much later. */
const HARD_CLOSE_AFTER_MS = 2_000;
const RESERVED = new Set(['healthz', 'metrics']);

/** `/Name` or `/Name?query` → `Name`. */
function synapseName(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url.slice(1) : url.slice(1, q);
}

/** `/path?query` → `/path`. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A v10 caller sends `bt_header_*` headers; a btauth/1 caller sends `X-Bittensor-Version`. */
function isBtauthRequest(headers: IncomingMessage['headers']): boolean {
  return headers['x-bittensor-version'] !== undefined && headers['bt_header_dendrite_hotkey'] === undefined;
}

/** The per-caller limit: in-process, or shared through a store with the in-process one as its fail-open fallback. */
function createLimiter(rule: ResolvedAxonSettings['rateLimit'], hotkey: string, metrics: AxonMetrics, log: Logger): CallerLimiter | null {
  if (rule === false) return null;
  const local = new RateLimiter(rule);
  if (rule.store === undefined) {
    const refused = metrics.rateLimited.labels({ scope: 'process' });
    return {
      take(key) {
        const waitMs = local.take(key);
        if (waitMs > 0) refused.inc();
        return waitMs;
      },
    };
  }
  return new SharedLimiter({
    store: rule.store,
    rule: { perSecond: rule.perSecond, burst: rule.burst },
    local,
    hotkey,
    log,
    onRefused: (scope) => metrics.rateLimited.inc({ scope }),
    onStoreError: () => metrics.rateLimitStoreErrors.inc(),
  });
}

export function createAxon(opts: AxonOptions): Axon {
  const settings = resolveAxonSettings(opts);
  const wire = resolveWireSettings(opts);
  const log: Logger = opts.logger ?? loggerFromEnv().child({ name: 'axon' });
  const hotkey = opts.keypair.ss58Address;
  const axonUuid = newUuid();
  const admission = new AdmissionQueue(settings.admission);
  const metrics = createAxonMetrics(opts.metricsRegistry, admission);
  const metricsAllowed = opts.metricsAllow !== undefined ? ipAllowList(opts.metricsAllow, 'metricsAllow') : () => false;
  const routes = new Map<string, Route>();
  /** btauth/1 routes by path. */
  const paths = new Map<string, Route>();
  const inflight = new Set<Exchange>();
  const limiter = createLimiter(settings.rateLimit, hotkey, metrics, log);
  const defaultBlacklist = makeBlacklist(opts.blacklist);
  // One byte budget for both wires: bodies in flight are bounded per caller and in total before admission.
  const budget = new ByteBudget(settings.inflight);
  const verifier = createVerifier(hotkey, wire.btauth);
  const serveBtauth = createBtauthPipeline({
    verifier,
    bodyLimitBytes: settings.bodyLimitBytes,
    maxTimeoutMs: settings.maxTimeoutMs,
    limiter,
    admission,
    budget,
    lowStakeRao: settings.admission.lowStakeRao,
    defaultBlacklist,
    callers: opts.callers,
    metrics,
    log,
    inflight,
  });
  const serveSynapse = createSynapsePipeline({
    settings,
    keypair: opts.keypair,
    hotkey,
    axonUuid,
    nonces: new NonceStore({
      capacity: settings.nonce.capacity,
      maxTimeoutMs: settings.maxTimeoutMs,
      maxFutureMs: settings.nonce.maxFutureMs,
      reorderWindowMs: settings.nonce.reorderWindowMs,
    }),
    limiter,
    admission,
    budget,
    defaultBlacklist,
    callers: opts.callers,
    metrics,
    log,
    inflight,
  });
  let boundPort = 0;
  let started = false;

  // Fastify owns the server, its lifecycle and every other route (/healthz, /metrics, 404s, errors).
  // GET|POST on an attached synapse goes straight to the signed pipeline: at thousands of signed
  // requests per second per core, fastify's routing and reply path are a fifth of the non-crypto budget.
  // No fastify logger: it would build a pino child per request; the axon logs its own errors via `log`.
  const app = Fastify({
    bodyLimit: settings.bodyLimitBytes,
    return503OnClosing: true,
    // Node's request timeout (whole request, headers + body) cuts slow bodies; fastify's serverFactory
    // bypasses fastify's own timeout options, so they are set here.
    serverFactory: (fastifyHandler) =>
      createTimedServer(settings, (req: IncomingMessage, res: ServerResponse) => {
        // One port, both wires: btauth/1 when X-Bittensor-* headers say so (or it is the only wire), else v10.
        if (wire.protocols.btauth && (!wire.protocols.synapse || isBtauthRequest(req.headers))) {
          const url = req.url ?? '/';
          // a v10 request when only btauth/1 is served: answered by the btauth route with a clear refusal
          const route = req.method !== 'POST' ? undefined : (paths.get(pathOf(url)) ?? (req.headers['bt_header_dendrite_hotkey'] !== undefined ? routes.get(synapseName(url)) : undefined));
          if (route !== undefined) return serveBtauth(req, res, route);
        } else if (wire.protocols.synapse && (req.method === 'POST' || req.method === 'GET')) {
          const route = routes.get(synapseName(req.url ?? '/'));
          if (route !== undefined) return serveSynapse(req, res, route);
        }
        // The built-in routes are read-only: other methods are 405 (not 404, nor a body-parser error); the body is not read.
        const name = synapseName(req.url ?? '/');
        // /metrics for a peer outside the allow-list is an unknown route whatever the method (404, not a 405 that says it exists)
        const hidden = name === 'metrics' && !metricsAllowed(req.socket.remoteAddress);
        if (RESERVED.has(name) && !hidden && req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, name);
        fastifyHandler(req, res);
      }),
  });

  /** SDK-shaped error for requests fastify routed (unknown synapse, bad method, framework errors). */
  function reject(req: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
    const headers: Record<string, string> = {};
    terminalHeaders('axon', { status_code: status, status_message: message, process_time: reply.elapsedTime / 1000, hotkey, uuid: axonUuid, version: PROTOCOL_VERSION }, headers);
    terminalHeaders('dendrite', { ip: req.socket.remoteAddress ?? null, port: req.socket.remotePort ?? null }, headers);
    return reply.code(status).headers(headers).type(JSON_TYPE).send(JSON.stringify({ message }));
  }

  function methodNotAllowed(res: ServerResponse, name: string): void {
    const message = `Method Not Allowed: /${name} answers GET and HEAD`;
    const headers: Record<string, string> = { allow: 'GET, HEAD' };
    terminalHeaders('axon', { status_code: 405, status_message: message, hotkey, uuid: axonUuid, version: PROTOCOL_VERSION }, headers);
    metrics.record(name, 405, 'unknown', 0);
    sendError(res, 405, message, headers, true);
  }

  app.addHook('onResponse', (req, reply, done) => {
    const url = req.routeOptions.url;
    metrics.record(url === '/healthz' ? 'healthz' : url === '/metrics' ? 'metrics' : 'other', reply.statusCode, 'unknown', reply.elapsedTime / 1000, 'http');
    done();
  });

  app.get('/healthz', async (_req, reply) => reply.send({ status: 'ok', hotkey, synapses: [...routes.keys()], routes: wire.protocols.btauth ? [...paths.keys()] : [] }));
  // Off the public port unless allowed: a 404 like any unknown route, so it does not say that metrics exist.
  app.get('/metrics', async (req, reply) => {
    if (!metricsAllowed(req.socket.remoteAddress)) return reject(req, reply, STATUS.NOT_FOUND, STATUS_MESSAGE.notFound('metrics', [...routes.keys()]));
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.setNotFoundHandler((req, reply) => reject(req, reply, STATUS.NOT_FOUND, STATUS_MESSAGE.notFound(synapseName(req.url).split('/')[0] ?? '', [...routes.keys()])));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return reject(req, reply, status, headerSafe(err.message));
    const id = randomUUID();
    log.error({ err, errorId: id }, 'axon error');
    return reject(req, reply, STATUS.INTERNAL_ERROR, STATUS_MESSAGE.internalError(id));
  });

  const axon: Axon = {
    attach<S extends SynapseDef>(synapse: S, handler: Handler<S>, attachOpts: AttachOptions = {}): Axon {
      if (routes.has(synapse.name) && synapse.name !== PingSynapse.name) throw new Error(`synapse ${synapse.name} is already attached`);
      if (RESERVED.has(synapse.name)) throw new Error(`synapse name '${synapse.name}' is reserved by the axon`);
      const path = attachOpts.path ?? `/${synapse.name}`;
      if (!/^\/[A-Za-z0-9._~\-/]{0,200}$/.test(path) || RESERVED.has(path.slice(1))) throw new Error(`btauth route '${path}' must be a path like /generate and not /healthz or /metrics`);
      const existing = paths.get(path);
      if (existing !== undefined && existing.def.name !== synapse.name) throw new Error(`btauth route ${path} is already used by synapse ${existing.def.name}`);
      const route: Route = { def: synapse, handler: handler as unknown as Handler<SynapseDef>, opts: attachOpts };
      routes.set(synapse.name, route);
      paths.set(path, route);
      return axon;
    },
    async start(): Promise<void> {
      if (started) return;
      try {
        await app.listen({ host: settings.host, port: settings.port });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`axon port ${settings.port} on ${settings.host} is already in use`, { hint: 'choose another port (`--port`, or 0 for any free port)', cause: e });
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UserError(`cannot bind axon to '${settings.host}': not an address of this machine`, { hint: 'pass an IP address of this machine to --host, e.g. 0.0.0.0 or 127.0.0.1', cause: e });
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
        for (const ex of inflight) ex.abort(new Error('axon stopped'));
      }, settings.stopGraceMs);
      const hard = setTimeout(() => app.server.closeAllConnections(), settings.stopGraceMs + HARD_CLOSE_AFTER_MS);
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
