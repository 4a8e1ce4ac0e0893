import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable, pipeline } from 'node:stream';
import type { Logger } from 'pino';
import {
  nowNanos,
  parseHeaders,
  parseSynapseBody,
  ProtocolError,
  PROTOCOL_VERSION,
  signAxonStamp,
  STATUS,
  STATUS_MESSAGE,
  synapseAnswerBody,
  synapseAnswerHeaders,
  synapseBodyHash,
  terminalInfo,
  type ParsedHeaders,
  type ParsedSynapseBody,
  type SynapseAnswer,
  type SynapseDef,
  type TerminalInfo,
} from '../protocol/index.ts';
import type { Keypair } from '../wallet/keypair.ts';
import { AdmissionError, type AdmissionQueue, type Release } from './admission.ts';
import { callerClass, type CallerClass } from './blacklist.ts';
import { BodyTooLarge, readBody, writeResponse } from './http.ts';
import { BudgetExceeded, type ByteBudget, type Reservation } from './inflight.ts';
import type { AxonMetrics } from './metrics.ts';
import type { NonceStore } from './nonce-store.ts';
import type { ResolvedAxonSettings } from './options.ts';
import type { CallerLimiter } from './rate-limiter.ts';
import { recordAnswered } from './request-log.ts';
import { AxonReject, headerSafe, rateLimited, JSON_TYPE, sendError, terminalHeaders } from './responses.ts';
import type { AttachOptions, CallerInfo, CallerInfoProvider, Handler, HandlerContext } from './types.ts';
import { verifyRequestHeaders, type VerifiedCaller } from './verify.ts';

export const DEFAULT_TIMEOUT_S = 12;
/** A handler that ignores its abort signal keeps its admission slot at most this long past the deadline. */
const HUNG_HANDLER_GRACE_MS = 2_000;

export interface Route {
  def: SynapseDef;
  handler: Handler<SynapseDef>;
  opts: AttachOptions;
}

/** What the pipeline shares with the axon that owns it. */
export interface PipelineDeps {
  settings: ResolvedAxonSettings;
  keypair: Keypair;
  hotkey: string;
  axonUuid: string;
  nonces: NonceStore;
  limiter: CallerLimiter | null;
  admission: AdmissionQueue;
  /** Request-body bytes in flight, per caller and in total (reserved before a body is read). */
  budget: ByteBudget;
  defaultBlacklist: (hotkey: string, info: CallerInfo | undefined) => string | null;
  callers: CallerInfoProvider;
  metrics: AxonMetrics;
  log: Logger;
  /** Exchanges whose handler is running (the axon aborts them on stop). */
  inflight: Set<Exchange>;
}

/**
 * One request/response on a synapse route, and the handler's view of it (`HandlerContext`). The abort
 * signal is made on first use: most handlers never read it, and an AbortController per request is
 * measurable at thousands of requests per second.
 */
export class Exchange implements HandlerContext {
  readonly arrival = performance.now();
  cls: CallerClass = 'unknown';
  headers: ParsedHeaders | undefined = undefined;
  verified: VerifiedCaller | undefined = undefined;
  timeoutS = DEFAULT_TIMEOUT_S;
  caller: HandlerContext['caller'] = { hotkey: '', uid: null, stake: 0n, validatorPermit: false };
  deadline = 0;
  private controller: AbortController | undefined = undefined;
  private abortReason: unknown = undefined;
  /** Rejects the pending handler wait (set while awaiting an async handler). */
  interrupt: ((reason: unknown) => void) | undefined = undefined;
  private slot: Release | undefined = undefined;
  private running: Set<Exchange> | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: Route,
  ) {}

  /** The handler is about to run holding this admission slot. */
  hold(slot: Release, running: Set<Exchange>): void {
    this.slot = slot;
    this.running = running;
    running.add(this);
  }

  /** Give the admission slot back (once). */
  free(): void {
    const slot = this.slot;
    if (slot === undefined) return;
    this.slot = undefined;
    this.running?.delete(this);
    slot();
  }

  get synapse(): string {
    return this.route.def.name;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
      else if (this.req.socket.destroyed && !this.res.writableFinished) this.abort(new Error('client disconnected'));
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** Abort at the deadline (408) or when the caller hangs up, while a handler runs; returns the disposer. */
  watch(): () => void {
    const timer = setTimeout(
      () => this.abort(new AxonReject(STATUS.TIMEOUT, STATUS_MESSAGE.priorityTimeout(this.timeoutS))),
      Math.max(0, this.deadline - Date.now()),
    );
    const onClose = () => {
      if (!this.res.writableFinished) this.abort(new Error('client disconnected'));
    };
    this.res.once('close', onClose);
    return () => {
      clearTimeout(timer);
      this.res.off('close', onClose);
    };
  }

  /** Deadline, disconnect or shutdown: tell the handler (if it listens) and stop waiting for it. */
  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.interrupt?.(reason);
  }
}

export type SynapsePipeline = (req: IncomingMessage, res: ServerResponse, route: Route) => void;

/**
 * The signed synapse route, on node's request/response (fastify's routing and reply would cost ~40 µs of
 * the ~300 µs budget beside a signature check). Stages in order: headers → verify → blacklist → record
 * nonce → rate limit (local, or shared in Redis) → body (size-limited) → body hash → admission → handler → SDK response.
 */
export function createSynapsePipeline(d: PipelineDeps): SynapsePipeline {
  const { settings, hotkey, axonUuid, metrics } = d;

  /** The axon's TerminalInfo for an answer: our stamp over what the request said of us (`base`). */
  function axonTerminal(status: number, message: string, ex: Exchange, base: TerminalInfo = terminalInfo()): TerminalInfo {
    const t: TerminalInfo = {
      ...base,
      status_code: status,
      status_message: message,
      process_time: (performance.now() - ex.arrival) / 1000,
      hotkey,
      uuid: axonUuid,
      version: PROTOCOL_VERSION,
    };
    if (settings.signResponses && ex.verified) {
      t.nonce = nowNanos();
      t.signature = signAxonStamp(d.keypair, { nonce: t.nonce, dendriteHotkey: ex.verified.hotkey, axonHotkey: hotkey, axonUuid });
    }
    return t;
  }

  /** The dendrite's TerminalInfo as its headers said, plus the peer address. */
  function dendriteTerminal(ex: Exchange): TerminalInfo {
    const sock = ex.req.socket;
    return { ...(ex.headers?.dendrite ?? terminalInfo()), ip: sock.remoteAddress ?? null, port: sock.remotePort ?? null };
  }

  const record = (ex: Exchange, status: number): void => recordAnswered(metrics, d.log, ex, status, 'synapse');

  function reject(ex: Exchange, status: number, message: string, extra: Record<string, string> = {}, close = false): void {
    if (ex.res.headersSent) return;
    const headers: Record<string, string> = { ...extra, name: ex.route.def.name };
    terminalHeaders('axon', axonTerminal(status, message, ex), headers);
    terminalHeaders('dendrite', dendriteTerminal(ex), headers);
    record(ex, status);
    sendError(ex.res, status, message, headers, close);
  }

  function rejectWith(ex: Exchange, e: unknown): void {
    if (e instanceof AxonReject) {
      if (e.verifyReason) metrics.verifyFailures.inc({ reason: e.verifyReason });
      return reject(ex, e.status, e.message, e.headers);
    }
    if (e instanceof BodyTooLarge) return reject(ex, 413, e.message, {}, true);
    if (e instanceof BudgetExceeded) return reject(ex, STATUS.UNAVAILABLE, e.message, { 'retry-after': '1' }, true);
    if (e instanceof ProtocolError) return reject(ex, e.status < 500 ? e.status : STATUS.BAD_REQUEST, e.message);
    if (ex.res.destroyed) return; // the caller hung up mid-body: nobody to answer
    const id = randomUUID();
    d.log.error({ err: e, errorId: id, route: ex.route.def.name }, 'axon pipeline error');
    return reject(ex, STATUS.INTERNAL_ERROR, STATUS_MESSAGE.internalError(id));
  }

  const lookupCaller = (key: string): CallerInfo | undefined => checkedCaller(d.callers, key);

  /** Headers only (the body is still unread): parse → verify → blacklist → record nonce → rate limit. */
  function admitHeaders(ex: Exchange): string | null | PromiseLike<string | null> {
    const headers = parseHeaders(ex.req.headers);
    ex.headers = headers;
    const t = headers.timeout;
    ex.timeoutS = t !== null && Number.isFinite(t) && t > 0 ? Math.min(t, settings.maxTimeoutMs / 1000) : DEFAULT_TIMEOUT_S;
    const caller = verifyRequestHeaders(headers, hotkey, d.nonces, ex.timeoutS * 1000);
    ex.verified = caller;
    const info = lookupCaller(caller.hotkey);
    ex.cls = callerClass(info);
    ex.caller = { hotkey: caller.hotkey, uid: info?.uid ?? null, stake: info?.stake ?? 0n, validatorPermit: info?.validatorPermit ?? false };
    ex.deadline = Date.now() + ex.timeoutS * 1000;
    const custom = ex.route.opts.blacklist;
    return custom ? custom(ex) : d.defaultBlacklist(caller.hotkey, info);
  }

  /** After the blacklist: record the nonce (re-checked: an await may have let a twin through). */
  function commit(ex: Exchange): void {
    const caller = ex.verified as VerifiedCaller;
    const verdict = d.nonces.checkAndCommit(caller.endpointKey, caller.nonce, ex.timeoutS * 1000);
    if (!verdict.ok) throw new AxonReject(STATUS.UNAUTHORIZED, STATUS_MESSAGE.notVerified(verdict.message), verdict.reason);
  }

  function parseBody(ex: Exchange, text: string): ParsedSynapseBody<SynapseDef> {
    const def = ex.route.def;
    const parsed = parseSynapseBody(def, text.length > 0 ? text : '{}');
    const hash = synapseBodyHash(def, parsed.raw);
    const signed = (ex.headers as ParsedHeaders).computed_body_hash;
    if (hash !== signed) {
      throw new AxonReject(STATUS.UNAUTHORIZED, STATUS_MESSAGE.notVerified(STATUS_MESSAGE.hashMismatch(signed ?? '', hash)), 'body_hash');
    }
    return parsed;
  }

  function admit(ex: Exchange): Release | Promise<Release> {
    const priority = ex.route.opts.priority ? ex.route.opts.priority(ex) : Number(ex.caller.stake);
    // per-caller and low-stake caps: a flood of slow requests cannot hold the slots a staked caller needs
    const who = { key: ex.caller.hotkey, low: ex.caller.stake < settings.admission.lowStakeRao };
    return d.admission.tryAcquire(who) ?? d.admission.acquire(priority, ex.deadline, who).catch((e: unknown) => {
      if (e instanceof AdmissionError && e.kind === 'timeout') throw new AxonReject(STATUS.TIMEOUT, STATUS_MESSAGE.priorityTimeout(ex.timeoutS));
      if (e instanceof AdmissionError) throw new AxonReject(STATUS.UNAVAILABLE, e.message);
      throw e;
    });
  }

  const { fail, step } = stageRunner(rejectWith, d.log);

  // The stages after the headers. Each goes on synchronously unless something must be waited for (an async
  // blacklist, a body still arriving, a full admission queue, an async handler): no promise per request.
  function afterBlacklist(ex: Exchange, reason: string | null): void {
    if (reason !== null) return reject(ex, STATUS.FORBIDDEN, STATUS_MESSAGE.blacklisted(reason));
    commit(ex);
    const waitMs = d.limiter ? d.limiter.take(ex.caller.hotkey) : 0;
    if (typeof waitMs === 'number') return afterLimit(ex, waitMs);
    waitMs.then((w) => step(ex, afterLimit, w), (e: unknown) => fail(ex, e));
  }

  function afterLimit(ex: Exchange, waitMs: number): void {
    if (waitMs > 0) {
      const { status, message, headers } = rateLimited(ex.caller.hotkey, waitMs);
      return reject(ex, status, message, headers);
    }
    const body = readBody(ex.req, settings.bodyLimitBytes, holdBudget(ex.res, d.budget.open(ex.caller.hotkey)));
    if (typeof body === 'string') return afterBody(ex, body);
    body.then((text) => step(ex, afterBody, text), (e: unknown) => fail(ex, e));
  }

  function afterBody(ex: Exchange, text: string): void {
    const parsed = parseBody(ex, text);
    const slot = admit(ex);
    if (!(slot instanceof Promise)) return run(ex, { parsed, release: slot });
    slot.then((release) => step(ex, run, { parsed, release }), (e: unknown) => fail(ex, e));
  }

  function run(ex: Exchange, a: { parsed: ParsedSynapseBody<SynapseDef>; release: Release }): void {
    // runHandler owns the slot from here (a hung handler keeps it a while)
    runHandler(ex, a.parsed, a.release)?.then(undefined, (e: unknown) => fail(ex, e));
  }

  /** Runs the handler; returns a promise only when the handler is async (a sync one answers without a tick). */
  function runHandler(ex: Exchange, parsed: ParsedSynapseBody<SynapseDef>, release: Release): Promise<void> | undefined {
    ex.hold(release, d.inflight);
    let result: unknown;
    try {
      result = ex.route.handler(parsed.request, ex);
    } catch (e) {
      ex.free();
      throw e;
    }
    if (!isPromiseLike(result)) return answer(ex, parsed, result);
    return waitForHandler(ex, result).then(
      (value) => answer(ex, parsed, value),
      (e: unknown) => {
        if (!ex.aborted) ex.free(); // aborted: the slot is freed when the handler settles
        throw e;
      },
    );
  }

  function answer(ex: Exchange, parsed: ParsedSynapseBody<SynapseDef>, result: unknown): undefined {
    const { route } = ex;
    if (isAsyncIterable(result)) {
      if (!route.def.streaming) {
        ex.free();
        throw new Error(`handler for ${route.def.name} returned a stream but the synapse is not streaming`);
      }
      sendStream(ex, result);
      return undefined;
    }
    ex.free();
    const out = route.def.response.safeParse(result);
    if (!out.success) {
      const issue = out.error.issues[0];
      throw new Error(`handler response fails the ${route.def.name} response schema: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
    }
    sendSuccess(ex, parsed, out.data as Record<string, unknown>);
    return undefined;
  }

  function sendSuccess(ex: Exchange, parsed: ParsedSynapseBody<SynapseDef>, response: Record<string, unknown>): void {
    const def = ex.route.def;
    const { meta, raw } = parsed;
    const answer: SynapseAnswer = {
      timeout: meta.timeout,
      total_size: meta.total_size,
      header_size: meta.header_size,
      // What the SDK echoes: the dendrite as its headers said; the axon as the request said, with our stamp.
      dendrite: dendriteTerminal(ex),
      axon: axonTerminal(STATUS.SUCCESS, STATUS_MESSAGE.success, ex, meta.axon),
      computed_body_hash: (ex.headers as ParsedHeaders).computed_body_hash ?? '',
      request: raw,
      response,
    };
    record(ex, STATUS.SUCCESS);
    writeResponse(ex.res, STATUS.SUCCESS, synapseAnswerHeaders(def, answer, headerSafe), synapseAnswerBody(def, answer), JSON_TYPE);
  }

  function sendStream(ex: Exchange, source: AsyncIterable<string | Uint8Array>): void {
    const { res } = ex;
    const headers: Record<string, string> = { name: ex.route.def.name };
    terminalHeaders('axon', axonTerminal(STATUS.SUCCESS, STATUS_MESSAGE.success, ex), headers);
    terminalHeaders('dendrite', dendriteTerminal(ex), headers);
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
    headers['content-type'] = 'text/event-stream';
    record(ex, STATUS.SUCCESS);
    res.writeHead(STATUS.SUCCESS, headers);
    const stream = Readable.from(guardStream(source, ex, d.log), { objectMode: false });
    // A handler error mid-stream ends the response abruptly (the caller sees a truncated stream).
    pipeline(stream, res, () => ex.free());
  }

  return (req, res, route) => {
    const ex = new Exchange(req, res, route);
    let blacklisted: string | null | PromiseLike<string | null>;
    try {
      blacklisted = admitHeaders(ex);
    } catch (e) {
      return fail(ex, e); // the body was not read: node drains or drops it
    }
    // Go on in a tick either way: node then has parsed a small body that came with the headers.
    if (isPromiseLike(blacklisted)) blacklisted.then((r) => step(ex, afterBlacklist, r), (e: unknown) => fail(ex, e));
    else process.nextTick(step, ex, afterBlacklist, blacklisted);
  };
}

// The body reservation lives until the response is done (parsed request, admission wait and handler
// included); a module-level listener with the reservation on the response: no closure per request.
const BUDGET = Symbol('axon body budget');
type BudgetedResponse = ServerResponse & { [BUDGET]?: Reservation };
export function holdBudget(res: ServerResponse, r: Reservation): Reservation {
  (res as BudgetedResponse)[BUDGET] = r;
  res.once('close', releaseBudget);
  return r;
}
function releaseBudget(this: BudgetedResponse): void {
  this[BUDGET]?.release();
  this[BUDGET] = undefined;
}

/** The caller's record; the provider is injected, so its answer is validated rather than trusted at runtime. */
export function checkedCaller(callers: CallerInfoProvider, key: string): CallerInfo | undefined {
  const info = callers.lookup(key);
  if (info === undefined) return undefined;
  if (typeof info.uid !== 'number' || typeof info.stake !== 'bigint' || typeof info.validatorPermit !== 'boolean') {
    throw new Error(`caller info provider returned an invalid record for ${key}`);
  }
  return info;
}

/**
 * `fail` answers with the error and never throws (it runs in ticks and promise handlers, where a throw
 * would crash the process); `step` runs one stage, and whatever it throws becomes the answer. Shared by
 * both wires' pipelines, each with its own error → answer mapping.
 */
export function stageRunner(answerError: (ex: Exchange, e: unknown) => void, log: Logger) {
  function fail(ex: Exchange, e: unknown): void {
    try {
      answerError(ex, e);
    } catch (err) {
      log.error({ err, cause: e, route: ex.route.def.name }, 'axon could not answer a failed request');
      ex.res.destroy();
    }
  }
  function step<A>(ex: Exchange, stage: (ex: Exchange, arg: A) => void, arg: A): void {
    try {
      stage(ex, arg);
    } catch (e) {
      fail(ex, e);
    }
  }
  return { fail, step };
}

/** Await an async handler until it settles or the exchange is aborted (deadline, disconnect, stop). */
export function waitForHandler(ex: Exchange, work: PromiseLike<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const unwatch = ex.watch();
    const done = () => {
      unwatch();
      ex.interrupt = undefined;
    };
    ex.interrupt = (reason) => {
      done();
      // The handler may still be running: keep its slot until it settles, but not forever.
      const free = () => ex.free();
      const grace = setTimeout(free, HUNG_HANDLER_GRACE_MS);
      grace.unref();
      Promise.resolve(work).then(free, free).finally(() => clearTimeout(grace));
      reject(reason);
    };
    work.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}

export function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

export function isAsyncIterable(x: unknown): x is AsyncIterable<string | Uint8Array> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** Pass chunks through as bytes; stop at the deadline; a handler error ends the stream abruptly (logged). */
export async function* guardStream(source: AsyncIterable<string | Uint8Array>, ex: Exchange, log: Logger): AsyncGenerator<Buffer> {
  const unwatch = ex.watch();
  try {
    for await (const chunk of source) {
      if (ex.aborted) return;
      yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } catch (e) {
    log.error({ err: e, route: ex.route.def.name }, 'streaming handler failed mid-stream');
    throw e;
  } finally {
    unwatch();
  }
}
