import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import type { ServeAxonParams } from '../chain/types.ts';
import { UserError } from '../errors.ts';
import { defineSynapse, newUuid, PROTOCOL_VERSION, STATUS, STATUS_MESSAGE, type SynapseDef } from '../protocol/index.ts';
import { AdmissionQueue } from './admission.ts';
import { makeBlacklist } from './blacklist.ts';
import { createAxonMetrics } from './metrics.ts';
import { NonceStore } from './nonce-store.ts';
import { resolveAxonSettings } from './options.ts';
import { createSynapsePipeline, type Exchange, type Route } from './pipeline.ts';
import { RateLimiter } from './rate-limiter.ts';
import { headerSafe, JSON_TYPE, terminalHeaders } from './responses.ts';
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

export function createAxon(opts: AxonOptions): Axon {
  const settings = resolveAxonSettings(opts);
  const log: Logger = opts.logger ?? pino({ name: 'axon' });
  const hotkey = opts.keypair.ss58Address;
  const axonUuid = newUuid();
  const admission = new AdmissionQueue(settings.admission);
  const metrics = createAxonMetrics(opts.metricsRegistry, admission);
  const routes = new Map<string, Route>();
  const inflight = new Set<Exchange>();
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
    limiter: settings.rateLimit === false ? null : new RateLimiter(settings.rateLimit),
    admission,
    defaultBlacklist: makeBlacklist(opts.blacklist),
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
    serverFactory: (fastifyHandler) =>
      createServer((req: IncomingMessage, res: ServerResponse) => {
        if (req.method === 'POST' || req.method === 'GET') {
          const route = routes.get(synapseName(req.url ?? '/'));
          if (route !== undefined) return serveSynapse(req, res, route);
        }
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

  app.addHook('onResponse', (req, reply, done) => {
    const url = req.routeOptions.url;
    metrics.record(url === '/healthz' ? 'healthz' : url === '/metrics' ? 'metrics' : 'other', reply.statusCode, 'unknown', reply.elapsedTime / 1000);
    done();
  });

  app.get('/healthz', async (_req, reply) => reply.send({ status: 'ok', hotkey, synapses: [...routes.keys()] }));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

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
