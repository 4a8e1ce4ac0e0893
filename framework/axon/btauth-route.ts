import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable, pipeline } from 'node:stream';
import type { Logger } from 'pino';
import { BtauthError, btauthJson, MalformedAuth, type AuthClaim, type BtauthVerifier, type VerifiedRequest } from '../btauth/index.ts';
import { STATUS } from '../protocol/status.ts';
import type { SynapseDef } from '../protocol/synapse.ts';
import { AdmissionError, type AdmissionQueue, type Release } from './admission.ts';
import { callerClass } from './blacklist.ts';
import { BodyTooLarge, readBodyBytes, writeResponse } from './http.ts';
import type { AxonMetrics } from './metrics.ts';
import { DEFAULT_TIMEOUT_S, Exchange, guardStream, isAsyncIterable, checkedCaller, holdBudget, isPromiseLike, stageRunner, waitForHandler, type Route } from './pipeline.ts';
import type { CallerLimiter } from './rate-limiter.ts';
import { recordAnswered } from './request-log.ts';
import { BudgetExceeded, type ByteBudget } from './inflight.ts';
import { AxonReject, JSON_TYPE, rateLimited } from './responses.ts';
import type { CallerInfo, CallerInfoProvider } from './types.ts';

/** What the btauth/1 route shares with the axon (and, except the verifier, with the Synapse pipeline). */
export interface BtauthRouteDeps {
  verifier: BtauthVerifier;
  bodyLimitBytes: number;
  maxTimeoutMs: number;
  limiter: CallerLimiter | null;
  admission: AdmissionQueue;
  /** Bytes of bodies in flight, per caller and in total (shared with the Synapse path). */
  budget: ByteBudget;
  /** Callers staked below this share the low-stake admission cap. */
  lowStakeRao: bigint;
  defaultBlacklist: (hotkey: string, info: CallerInfo | undefined) => string | null;
  callers: CallerInfoProvider;
  metrics: AxonMetrics;
  log: Logger;
  inflight: Set<Exchange>;
}

export type BtauthPipeline = (req: IncomingMessage, res: ServerResponse, route: Route) => void;

/** A JSON body that is not an object the request schema accepts (→ 400). */
class BadRequest extends Error {}

interface Authed {
  claim: AuthClaim;
  body: Buffer;
}

/**
 * `POST <route>` signed with btauth/1. Stages: auth headers (shape → receiver → freshness, before the body
 * is read) → raw body (size-limited) → signature → replay → blacklist → rate limit (local, or shared in Redis) → JSON + zod → admission
 * (stake order) → handler → JSON answer, or SSE events for a streaming synapse. Each stage continues
 * synchronously unless it must wait (body, async blacklist, Redis, queue, async handler).
 */
export function createBtauthPipeline(d: BtauthRouteDeps): BtauthPipeline {
  const { metrics, verifier } = d;

  const record = (ex: Exchange, status: number): void => recordAnswered(metrics, d.log, ex, status, 'btauth');

  function reject(ex: Exchange, status: number, error: string, message: string, extra: Record<string, string> = {}, close = false): void {
    if (ex.res.headersSent) return;
    record(ex, status);
    writeResponse(ex.res, status, extra, JSON.stringify({ error, message }), JSON_TYPE, close);
  }

  /** The error → answer mapping of btauth/1 (JSON `{error, message}`). */
  function answerError(ex: Exchange, e: unknown): void {
    if (e instanceof BtauthError) {
      metrics.verifyFailures.inc({ reason: `btauth_${e.kind}` });
      return reject(ex, e.status, e.kind, e.message);
    }
    if (e instanceof AxonReject) return reject(ex, e.status, e.status === STATUS.FORBIDDEN ? 'forbidden' : 'rejected', e.message, e.headers);
    if (e instanceof BodyTooLarge) return reject(ex, 413, 'too_large', e.message, {}, true);
    if (e instanceof BudgetExceeded) return reject(ex, STATUS.UNAVAILABLE, 'busy', e.message, { 'retry-after': '1' }, true);
    if (e instanceof BadRequest) return reject(ex, STATUS.BAD_REQUEST, 'bad_request', e.message);
    if (ex.res.destroyed) return; // the caller hung up mid-body
    const id = randomUUID();
    d.log.error({ err: e, errorId: id, route: ex.route.def.name }, 'axon btauth route error');
    return reject(ex, STATUS.INTERNAL_ERROR, 'internal', `Internal Server Error #${id}`);
  }
  const { fail, step } = stageRunner(answerError, d.log);

  function readStage(ex: Exchange, claim: AuthClaim): void {
    // Reserved against the claimed hotkey: the body is hashed into what is signed, so it is read before
    // the signature check; the reservation lives until the response closes.
    const body = readBodyBytes(ex.req, d.bodyLimitBytes, holdBudget(ex.res, d.budget.open(claim.hotkey)));
    if (body instanceof Promise) body.then((b) => step(ex, signatureStage, { claim, body: b }), (e: unknown) => fail(ex, e));
    else signatureStage(ex, { claim, body });
  }

  function signatureStage(ex: Exchange, a: Authed): void {
    verifier.checkSignature(a.claim, ex.req.method ?? 'POST', ex.req.url ?? '/', a.body);
    const v = verifier.recordNonce(a.claim);
    if (!isPromiseLike(v)) return authorize(ex, v, a.body);
    (v as Promise<VerifiedRequest>).then(
      (ok) => step(ex, (x: Exchange, r: VerifiedRequest) => authorize(x, r, a.body), ok),
      (e: unknown) => {
        if (e instanceof BtauthError) return fail(ex, e);
        d.log.error({ err: e }, 'btauth nonce store failed');
        fail(ex, new AxonReject(STATUS.UNAVAILABLE, 'Service unavailable: replay protection store is unreachable'));
      },
    );
  }

  function authorize(ex: Exchange, v: VerifiedRequest, body: Buffer): void {
    const info = checkedCaller(d.callers, v.hotkey);
    ex.cls = callerClass(info);
    ex.caller = { hotkey: v.hotkey, uid: info?.uid ?? null, stake: info?.stake ?? 0n, validatorPermit: info?.validatorPermit ?? false };
    const custom = ex.route.opts.blacklist;
    const reason = custom ? custom(ex) : d.defaultBlacklist(v.hotkey, info);
    if (!isPromiseLike(reason)) return afterBlacklist(ex, reason, body);
    (reason as Promise<string | null>).then((r) => step(ex, (x: Exchange, rr: string | null) => afterBlacklist(x, rr, body), r), (e: unknown) => fail(ex, e));
  }

  function afterBlacklist(ex: Exchange, reason: string | null, body: Buffer): void {
    if (reason !== null) throw new AxonReject(STATUS.FORBIDDEN, `Forbidden: ${reason}`);
    const waitMs = d.limiter ? d.limiter.take(ex.caller.hotkey) : 0;
    if (typeof waitMs === 'number') return afterLimit(ex, waitMs, body);
    waitMs.then((w) => step(ex, (x: Exchange, ww: number) => afterLimit(x, ww, body), w), (e: unknown) => fail(ex, e));
  }

  function afterLimit(ex: Exchange, waitMs: number, body: Buffer): void {
    const hotkey = ex.caller.hotkey;
    if (waitMs > 0) {
      const { status, message, headers } = rateLimited(hotkey, waitMs);
      return reject(ex, status, 'rate_limited', message, headers);
    }
    const request = parseRequest(ex.route.def, body);
    const priority = ex.route.opts.priority ? ex.route.opts.priority(ex) : Number(ex.caller.stake);
    // per-caller and low-stake caps, as on the Synapse path
    const who = { key: hotkey, low: ex.caller.stake < d.lowStakeRao };
    const slot =
      d.admission.tryAcquire(who) ??
      d.admission.acquire(priority, ex.deadline, who).catch((e: unknown) => {
        if (e instanceof AdmissionError && e.kind === 'timeout') throw new AxonReject(STATUS.TIMEOUT, `Request timeout: queued past ${ex.timeoutS}s`);
        if (e instanceof AdmissionError) throw new AxonReject(STATUS.UNAVAILABLE, e.message);
        throw e;
      });
    if (!(slot instanceof Promise)) return run(ex, request, slot);
    slot.then((release) => step(ex, (x: Exchange, r: Release) => run(x, request, r), release), (e: unknown) => fail(ex, e));
  }

  function run(ex: Exchange, request: Record<string, unknown>, release: Release): void {
    ex.hold(release, d.inflight);
    let result: unknown;
    try {
      result = ex.route.handler(request, ex);
    } catch (e) {
      ex.free();
      throw e;
    }
    if (!isPromiseLike(result)) return answer(ex, result);
    waitForHandler(ex, result).then(
      (value) => step(ex, answer, value),
      (e: unknown) => {
        if (!ex.aborted) ex.free(); // aborted: the slot is freed when the handler settles
        fail(ex, e);
      },
    );
  }

  function answer(ex: Exchange, result: unknown): void {
    const def = ex.route.def;
    if (isAsyncIterable(result)) {
      if (!def.streaming) {
        ex.free();
        throw new Error(`handler for ${def.name} returned a stream but the synapse is not streaming`);
      }
      return sendEvents(ex, result);
    }
    ex.free();
    const out = def.response.safeParse(result);
    if (!out.success) {
      const issue = out.error.issues[0];
      throw new Error(`handler response fails the ${def.name} response schema: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`);
    }
    record(ex, STATUS.SUCCESS);
    writeResponse(ex.res, STATUS.SUCCESS, {}, btauthJson(out.data), JSON_TYPE);
  }

  function sendEvents(ex: Exchange, source: AsyncIterable<string | Uint8Array>): void {
    record(ex, STATUS.SUCCESS);
    ex.res.writeHead(STATUS.SUCCESS, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const events = ex.route.opts.streamFraming === 'sse' ? source : sseEvents(source);
    const stream = Readable.from(guardStream(events, ex, d.log), { objectMode: false });
    pipeline(stream, ex.res, () => ex.free());
  }

  return (req, res, route) => {
    const ex = new Exchange(req, res, route);
    const t = route.opts.timeoutMs;
    ex.timeoutS = (t !== undefined && t > 0 ? Math.min(t, d.maxTimeoutMs) : Math.min(DEFAULT_TIMEOUT_S * 1000, d.maxTimeoutMs)) / 1000;
    ex.deadline = Date.now() + ex.timeoutS * 1000;
    let claim: AuthClaim;
    try {
      if (req.headers['bt_header_dendrite_hotkey'] !== undefined) {
        throw new MalformedAuth('this axon does not serve the v10 Synapse wire (protocols.synapse is off): sign requests with btauth/1');
      }
      claim = verifier.checkHeaders(req.headers);
    } catch (e) {
      return fail(ex, e); // the body was not read: node drains or drops it
    }
    // go on in a tick: node then has parsed a small body that came with the headers
    process.nextTick(step, ex, readStage, claim);
  };
}

function parseRequest(def: SynapseDef, body: Buffer): Record<string, unknown> {
  let json: unknown;
  try {
    json = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest('request body is not valid JSON');
  }
  const r = def.request.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BadRequest(`request does not match the ${def.name} schema: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data as Record<string, unknown>;
}

/** Each handler chunk as one Server-Sent Event (`data:` per line); the client's SSE framing gets the chunks back. */
async function* sseEvents(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text.length === 0) continue;
    yield `data: ${text.split(/\r\n|\n|\r/).join('\ndata: ')}\n\n`;
  }
}
