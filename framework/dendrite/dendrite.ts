import { Agent } from 'undici';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { cryptoReady, type Keypair } from '../wallet/keypair.ts';
import {
  META_FIELDS, PROTOCOL_VERSION, STATUS, STATUS_MESSAGE, buildSynapseBody, inputObjHeaders, newUuid, nowNanos,
  parseHeaders, parsePyJson, parseResponseFields, serializeSynapseBody, serializeSynapseMeta, signRequest, signingMessage, stripPyFloats, synapseBodyHash,
  terminalInfo, toHeaders, type ParsedHeaders, type RequestOf, type ResponseOf, type SigningParams, type SynapseDef, type SynapseMeta,
} from '../protocol/index.ts';
import { classifyError, type Failure, type Phase } from './failures.ts';
import { createFramer, type StreamFraming } from './stream-framing.ts';
import { WorkerSigner, sharedSigner } from './worker-signer.ts';

export interface AxonTarget {
  ip: string;
  port: number;
  hotkey: string;
}

export interface DendriteOptions {
  /** The validator's hotkey: signs every request. */
  keypair: Keypair;
  /** Our public IP as reported in `bt_header_dendrite_ip` (default 0.0.0.0; the SDK looks it up online). */
  externalIp?: string;
  /** Self-reported `version_as_int` (default PROTOCOL_VERSION = 10002000). */
  version?: number;
  /** Keep-alive connections per axon (default 8). */
  connectionsPerOrigin?: number;
  /** Default per-call timeout (default 12 000 ms, like the SDK). */
  timeoutMs?: number;
  /** Larger response bodies are cut off and reported as 422 (default 10 MiB). */
  maxResponseBytes?: number;
  /**
   * Sign fan-outs (all targets at once, ≥ 16 of them) on two threads: this one and a worker shared by every
   * Dendrite in the process (default true). `false` signs on this thread only; a WorkerSigner uses that one.
   */
  workerSigning?: boolean | WorkerSigner;
}

export interface DendriteResponse<R> {
  target: AxonTarget;
  /** 200 and the response parsed. */
  ok: boolean;
  statusCode: number;
  statusMessage: string;
  /** zod-validated response fields. */
  response: R | null;
  roundTripMs: number;
  /** Seconds, from the axon's `bt_header_axon_process_time`. */
  axonProcessTime: number | null;
  headers: Record<string, string>;
}

export interface StreamChunk {
  data: string;
  /** ms, performance.now-based. */
  receivedAt: number;
}

export interface StreamResult<R> extends DendriteResponse<R> {
  /** The first `maxChunks` chunks (memory stays bounded; later ones still reach onChunk and the rates). */
  chunks: StreamChunk[];
  timeToFirstChunkMs: number | null;
  chunksPerSecond: number | null;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamOptions {
  timeoutMs?: number;
  onChunk?: (c: StreamChunk) => void;
  /** How many chunks `chunks` keeps (default 4096). */
  maxChunks?: number;
  framing?: StreamFraming;
  /** Turn the whole streamed text into the response object (validated by the synapse's response schema). */
  extract?: (text: string) => unknown;
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 12_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_CHUNKS = 4096;

const optionsSchema = z.object({
  externalIp: z.string().min(1).max(253).optional(),
  version: z.number().int().nonnegative().optional(),
  connectionsPerOrigin: z.number().int().min(1).max(1024).optional(),
  timeoutMs: z.number().positive().max(86_400_000).optional(),
  maxResponseBytes: z.number().int().positive().optional(),
  workerSigning: z.union([z.boolean(), z.instanceof(WorkerSigner)]).optional(),
});
/** Below this many targets a fan-out is signed on this thread (a job message costs about one signature). */
const MIN_WORKER_TARGETS = 16;
/**
 * Measured on 2 cores, 256 loopback peers: a counter shared by both threads beat a fixed half split and
 * signing everything in the worker (this thread then idles while the worker is the bottleneck); yielding
 * every 4 targets let requests leave while the rest is signed (overhead 47 → 39 ms); the flush size barely
 * mattered.
 */
const SIGN_JOB_OPTS = { shared: true, flush: 4 };
const YIELD_EVERY = 4;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
/** Targets come from the chain, i.e. from miners: checked before they reach a URL. */
const targetSchema = z.object({
  ip: z.string().refine((ip) => isIP(ip) !== 0 || HOSTNAME.test(ip), 'not an IP address or host name'),
  port: z.number().int().min(1).max(65535),
});
const validTarget = (t: AxonTarget) => targetSchema.safeParse(t).success;

class OversizeError extends Error {
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

function isKeypair(x: DendriteOptions | Keypair): x is Keypair {
  return (x as Keypair).secretKey instanceof Uint8Array && (x as Keypair).publicKey instanceof Uint8Array;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readCapped(body: Readable & { arrayBuffer?: () => Promise<ArrayBuffer> }, limit: number, declared: string | string[] | undefined): Promise<Buffer> {
  if (typeof declared === 'string' && Number(declared) > limit) throw new OversizeError(limit);
  // a declared length within the cap is enforced by undici (a longer body is a protocol error): read at once
  if (typeof declared === 'string' && /^\d+$/.test(declared) && body.arrayBuffer) return Buffer.from(await body.arrayBuffer());
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new OversizeError(limit);
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `{"message": …}` of an error body (the axon's error format), else a short snippet of the text. */
function errorMessage(body: Buffer): string | null {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return null;
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
      return (json as { message: string }).message;
    }
  } catch {
    /* not JSON */
  }
  return text.length > 0 ? text.slice(0, 512) : null;
}

/** The target-independent part of a request, computed once per distinct request object in a fan-out. */
interface Template {
  hash: string;
  /** JSON of the synapse's own fields (after the meta fields), from ", …" to the closing brace. */
  tail: string;
  inputObj: Record<string, string>;
}

interface Draft {
  target: AxonTarget;
  synapse: SynapseDef;
  tpl: Template;
  meta: SynapseMeta;
  message: string;
  signing: SigningParams;
}

interface Prepared {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Validator-side client, wire-compatible with the SDK's Dendrite: signed POST /{SynapseName} with the
 * SDK's headers and `json.dumps(model_dump())` body. Every failure of the miner (unreachable, slow, garbage,
 * oversize, error status) comes back as a result with the SDK's status code; only the caller's own mistakes
 * (a request that does not satisfy the synapse's schema, a closed dendrite) throw.
 */
export class Dendrite {
  readonly hotkey: string;
  readonly uuid: string;
  private readonly keypair: Keypair;
  private readonly externalIp: string;
  private readonly version: number;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly agent: Agent;
  private readonly signer: WorkerSigner | null;
  private closed = false;

  /** Accepts options, or just the hotkey Keypair. */
  constructor(opts: DendriteOptions | Keypair) {
    const o: DendriteOptions = isKeypair(opts) ? { keypair: opts } : opts;
    const v = optionsSchema.parse({ ...o, keypair: undefined });
    this.keypair = o.keypair;
    this.hotkey = o.keypair.ss58Address;
    this.uuid = newUuid();
    this.externalIp = v.externalIp ?? '0.0.0.0';
    this.version = v.version ?? PROTOCOL_VERSION;
    this.timeoutMs = v.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = v.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.signer = v.workerSigning === false ? null : v.workerSigning instanceof WorkerSigner ? v.workerSigning : sharedSigner();
    try {
      this.signer?.start(); // its WASM loads now rather than during the first fan-out
    } catch {
      /* no thread: fan-outs sign here */
    }
    this.agent = new Agent({
      connections: v.connectionsPerOrigin ?? 8,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      // our own per-call deadline governs; undici's timers would fire with other codes
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { timeout: 600_000 },
    });
  }

  private template<S extends SynapseDef>(synapse: S, request: RequestOf<S>): Template {
    const body = buildSynapseBody(synapse, request, { timeout: 0, dendrite: {}, axon: {} });
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!(META_FIELDS as readonly string[]).includes(k)) fields[k] = v;
    const inner = serializeSynapseBody(synapse, fields).slice(1, -1);
    return { hash: synapseBodyHash(synapse, body), tail: inner ? `, ${inner}}` : '}', inputObj: inputObjHeaders(synapse, body) };
  }

  /** Everything of a request but its signature; the nonce is taken now. */
  private draft(target: AxonTarget, synapse: SynapseDef, tpl: Template, timeoutMs: number): Draft {
    const nonce = nowNanos();
    const meta: SynapseMeta = {
      name: synapse.name,
      timeout: timeoutMs / 1000,
      total_size: 0,
      header_size: 0,
      dendrite: terminalInfo({ ip: this.externalIp, version: this.version, nonce, uuid: this.uuid, hotkey: this.hotkey }),
      axon: terminalInfo({ ip: target.ip, port: target.port, hotkey: target.hotkey }),
      computed_body_hash: '',
    };
    const signing = { nonce, dendriteHotkey: this.hotkey, axonHotkey: target.hotkey, uuid: this.uuid, bodyHash: tpl.hash };
    return { target, synapse, tpl, meta, message: signingMessage(signing), signing };
  }

  private signLocally(d: Draft): string {
    return signRequest(this.keypair, d.signing);
  }

  private finish(d: Draft, signature: string): Prepared {
    const { target, synapse, tpl, meta } = d;
    meta.dendrite.signature = signature;
    // SDK `_get_endpoint_url`: a target on our own external IP is reached locally
    const host = target.ip === this.externalIp ? '127.0.0.1' : target.ip;
    const origin = `http://${isIP(host) === 6 ? `[${host}]` : host}:${target.port}`;
    // total_size is the body's own byte size (the SDK sends Python's getsizeof; nobody checks it)
    const head = serializeSynapseMeta(meta).slice(0, -1);
    const withoutDigit = Buffer.byteLength(head) + Buffer.byteLength(tpl.tail) - 1;
    let size = withoutDigit + 1;
    while (withoutDigit + String(size).length !== size) size = withoutDigit + String(size).length;
    meta.total_size = size;
    const text = head.replace('"total_size": 0', `"total_size": ${size}`) + tpl.tail;
    const headers = { ...toHeaders(synapse, meta, { bodyHash: tpl.hash, inputObj: tpl.inputObj }), 'content-type': 'application/json' };
    return { origin, path: `/${synapse.name}`, headers, body: text };
  }

  private failure<R>(target: AxonTarget, f: Failure, started: number, headers: Record<string, string> = {}, axonProcessTime: number | null = null): DendriteResponse<R> {
    return { target, ok: false, ...f, response: null, roundTripMs: performance.now() - started, axonProcessTime, headers };
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('dendrite is closed');
  }

  private checkTimeout(timeoutMs: number): void {
    if (!(timeoutMs > 0)) throw new Error(`timeoutMs must be > 0, got ${timeoutMs}`);
  }

  /** Send one request; resolves with the outcome, never rejects for the miner's faults. */
  async call<S extends SynapseDef>(target: AxonTarget, synapse: S, request: RequestOf<S>, opts: CallOptions = {}): Promise<DendriteResponse<ResponseOf<S>>> {
    this.checkOpen();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    this.checkTimeout(timeoutMs);
    await cryptoReady();
    return this.callSigned(target, synapse, this.template(synapse, request), timeoutMs, opts.signal);
  }

  /** Draft, sign here and send; synchronous up to the request leaving. */
  private callSigned<S extends SynapseDef>(target: AxonTarget, synapse: S, tpl: Template, timeoutMs: number, signal?: AbortSignal): Promise<DendriteResponse<ResponseOf<S>>> {
    return this.callPrepared(target, synapse, timeoutMs, () => {
      const d = this.draft(target, synapse, tpl, timeoutMs);
      return this.finish(d, this.signLocally(d));
    }, signal);
  }

  private callPrepared<S extends SynapseDef>(target: AxonTarget, synapse: S, timeoutMs: number, prepare: () => Prepared, signal?: AbortSignal): Promise<DendriteResponse<ResponseOf<S>>> {
    return this.exchange(target, synapse, timeoutMs, signal, prepare, async (res, started, headers, parsed) => {
      const bytes = await readCapped(res.body, this.maxResponseBytes, res.headers['content-length']);
      const roundTripMs = performance.now() - started;
      const axonProcessTime = parsed?.axon.process_time ?? null;
      if (res.statusCode !== 200) {
        const message = errorMessage(bytes) ?? parsed?.axon.status_message ?? '';
        return { target, ok: false, statusCode: res.statusCode, statusMessage: message, response: null, roundTripMs, axonProcessTime, headers };
      }
      try {
        const response = parseResponseFields(synapse, utf8.decode(bytes));
        const statusMessage = parsed?.axon.status_message ?? STATUS_MESSAGE.success;
        return { target, ok: true, statusCode: 200, statusMessage, response, roundTripMs, axonProcessTime, headers };
      } catch (e) {
        const f = { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed((e as Error).message) };
        return { target, ok: false, ...f, response: null, roundTripMs, axonProcessTime, headers };
      }
    });
  }

  /**
   * Call many axons at once (at most `concurrency` in flight, default all). Results are in target order.
   * A request function is called once per target before any I/O; an invalid request throws then.
   */
  async forward<S extends SynapseDef>(
    targets: AxonTarget[],
    synapse: S,
    request: RequestOf<S> | ((t: AxonTarget, i: number) => RequestOf<S>),
    opts: { timeoutMs?: number; concurrency?: number } = {},
  ): Promise<Array<DendriteResponse<ResponseOf<S>>>> {
    this.checkOpen();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    this.checkTimeout(timeoutMs);
    await cryptoReady();
    // one template per distinct request object: a shared request is validated, hashed and serialized once
    const cache = new Map<unknown, Template>();
    const templates = targets.map((t, i) => {
      const r = typeof request === 'function' ? (request as (t: AxonTarget, i: number) => RequestOf<S>)(t, i) : request;
      let tpl = cache.get(r);
      if (!tpl) cache.set(r, (tpl = this.template(synapse, r)));
      return tpl;
    });
    const results = new Array<DendriteResponse<ResponseOf<S>>>(targets.length);
    const limit = Math.max(1, Math.min(opts.concurrency ?? targets.length, targets.length));
    if (limit === targets.length) {
      const signer = targets.length >= MIN_WORKER_TARGETS ? this.signer : null;
      await this.forwardAll(signer, targets, synapse, templates, timeoutMs, results);
      return results;
    }
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        results[i] = await this.callSigned(targets[i], synapse, templates[i], timeoutMs);
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    return results;
  }

  /**
   * All-at-once fan-out. With a signer, this thread and the worker take targets from one shared counter and
   * each request is sent as soon as its signature exists (the worker's are picked up between local
   * signatures); if the worker fails or stalls, this thread signs what is left. Every few targets we yield
   * to the event loop: undici writes a request on a reused keep-alive socket only from a setImmediate, so
   * without yielding nothing would leave before the whole fan-out is signed.
   */
  private async forwardAll<S extends SynapseDef>(
    signer: WorkerSigner | null, targets: AxonTarget[], synapse: S, templates: Template[], timeoutMs: number, results: Array<DendriteResponse<ResponseOf<S>>>,
  ): Promise<void> {
    const idx: number[] = [];
    const pending: Array<Promise<void>> = [];
    targets.forEach((t, i) => {
      if (validTarget(t)) idx.push(i);
      else pending.push(this.callSigned(t, synapse, templates[i], timeoutMs).then((r) => void (results[i] = r)));
    });
    const drafts = idx.map((i) => this.draft(targets[i], synapse, templates[i], timeoutMs));
    const sent = new Uint8Array(drafts.length);
    let left = drafts.length;
    const send = (k: number, signature: string) => {
      if (sent[k]) return;
      sent[k] = 1;
      left--;
      const i = idx[k];
      const prepared = this.finish(drafts[k], signature);
      pending.push(this.callPrepared(targets[i], synapse, timeoutMs, () => prepared).then((r) => void (results[i] = r)));
    };
    let next = 0;
    const job = signer?.job(this.keypair, drafts.map((d) => d.message), send, SIGN_JOB_OPTS);
    const claim = job ? job.claim : () => next++;
    let count = 0;
    for (let k = claim(); k < drafts.length; k = claim()) {
      send(k, this.signLocally(drafts[k]));
      job?.poll();
      if (++count % YIELD_EVERY === 0) await yieldToLoop();
    }
    if (job && left > 0) await withDeadline(job.done, timeoutMs).catch(() => {});
    job?.cancel();
    for (let k = 0; k < drafts.length; k++) if (!sent[k]) send(k, this.signLocally(drafts[k]));
    await Promise.all(pending);
  }

  /**
   * Call a streaming synapse and consume its body as it arrives (see StreamFraming), timestamping each chunk.
   * The response is then read from the whole text: `opts.extract(text)` if given; else the text goes into the
   * first response field that accepts it as a string (e.g. `completion`); else the text must be a JSON object
   * of the response fields.
   */
  async stream<S extends SynapseDef>(target: AxonTarget, synapse: S, request: RequestOf<S>, opts: StreamOptions = {}): Promise<StreamResult<ResponseOf<S>>> {
    const chunks: StreamChunk[] = [];
    const maxChunks = opts.maxChunks ?? DEFAULT_MAX_CHUNKS;
    let count = 0;
    let first: number | null = null;
    let last: number | null = null;
    let startedAt = 0;
    const stats = () => ({
      chunks,
      timeToFirstChunkMs: first === null ? null : first - startedAt,
      chunksPerSecond: first !== null && last !== null && count > 1 && last > first ? ((count - 1) * 1000) / (last - first) : null,
    });
    this.checkOpen();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    this.checkTimeout(timeoutMs);
    await cryptoReady();
    const tpl = this.template(synapse, request);
    const prepare = () => {
      const d = this.draft(target, synapse, tpl, timeoutMs);
      return this.finish(d, this.signLocally(d));
    };
    const base = await this.exchange(target, synapse, timeoutMs, opts.signal, prepare, async (res, started, headers, parsed) => {
      startedAt = started;
      const axonProcessTime = parsed?.axon.process_time ?? null;
      if (res.statusCode !== 200) {
        const bytes = await readCapped(res.body, this.maxResponseBytes, res.headers['content-length']);
        const message = errorMessage(bytes) ?? parsed?.axon.status_message ?? '';
        return { target, ok: false, statusCode: res.statusCode, statusMessage: message, response: null, roundTripMs: performance.now() - started, axonProcessTime, headers };
      }
      const decoder = new TextDecoder('utf-8');
      const framer = createFramer(opts.framing ?? 'raw');
      let size = 0;
      let text = '';
      const emit = (data: string, at: number) => {
        count++;
        first ??= at;
        last = at;
        const c: StreamChunk = { data, receivedAt: at };
        if (chunks.length < maxChunks) chunks.push(c);
        text += data;
        opts.onChunk?.(c);
      };
      for await (const buf of res.body as AsyncIterable<Buffer>) {
        const at = performance.now();
        size += buf.length;
        if (size > this.maxResponseBytes) throw new OversizeError(this.maxResponseBytes);
        for (const d of framer.push(decoder.decode(buf, { stream: true }))) emit(d, at);
      }
      const at = performance.now();
      for (const d of framer.push(decoder.decode())) emit(d, at);
      for (const d of framer.end()) emit(d, at);
      const roundTripMs = performance.now() - started;
      const response = streamResponse(synapse, text, opts.extract);
      if (response === null) {
        const f = { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed(`stream does not match the ${synapse.name} response schema`) };
        return { target, ok: false, ...f, response: null, roundTripMs, axonProcessTime, headers };
      }
      const statusMessage = parsed?.axon.status_message ?? STATUS_MESSAGE.success;
      return { target, ok: true, statusCode: 200, statusMessage, response, roundTripMs, axonProcessTime, headers };
    });
    return { ...base, ...stats() };
  }

  /**
   * Shared request path: validate the target, `prepare` (sign) and send, then hand the response to
   * `consume`, all under one deadline. Any error (including inside `consume`) becomes a failure result.
   * Nothing is awaited before the request is dispatched, so a caller's loop sends as it goes.
   */
  private async exchange<S extends SynapseDef>(
    target: AxonTarget,
    synapse: S,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    prepare: () => Prepared,
    consume: (
      res: { statusCode: number; headers: Record<string, string | string[] | undefined>; body: Readable },
      started: number,
      headers: Record<string, string>,
      parsed: ParsedHeaders | null,
    ) => Promise<DendriteResponse<ResponseOf<S>>>,
  ): Promise<DendriteResponse<ResponseOf<S>>> {
    if (!validTarget(target)) {
      const ip = String(target.ip).slice(0, 64);
      return this.failure(target, { statusCode: STATUS.UNAVAILABLE, statusMessage: STATUS_MESSAGE.unavailable(ip, Number(target.port), synapse.name) }, performance.now());
    }
    const prepared = prepare();
    const started = performance.now();
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    const onAbort = () => ctl.abort();
    if (signal?.aborted) ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let phase: Phase = 'connect';
    let body: Readable | null = null;
    let headers: Record<string, string> = {};
    let parsed: ParsedHeaders | null = null;
    try {
      const res = await this.agent.request({
        origin: prepared.origin, path: prepared.path, method: 'POST', headers: prepared.headers, body: prepared.body, signal: ctl.signal,
      });
      phase = 'body';
      body = res.body;
      headers = flattenHeaders(res.headers);
      try {
        parsed = parseHeaders(res.headers);
      } catch (e) {
        if (res.statusCode === 200) {
          return this.failure(target, { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed((e as Error).message) }, started, headers);
        }
      }
      return await consume(res, started, headers, parsed);
    } catch (e) {
      let f: Failure;
      if (timedOut) f = { statusCode: STATUS.TIMEOUT, statusMessage: STATUS_MESSAGE.requestTimeout(timeoutMs / 1000) };
      else if (signal?.aborted) f = { statusCode: STATUS.TIMEOUT, statusMessage: 'Request aborted by the caller' };
      else if (e instanceof OversizeError) f = { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed(e.message) };
      else f = classifyError(e, phase, target, synapse.name);
      return this.failure(target, f, started, headers, (parsed as ParsedHeaders | null)?.axon.process_time ?? null);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // an unconsumed body would pin the connection; destroying a finished stream is a no-op
      if (body && !body.readableEnded) {
        body.on('error', () => {}); // undici reports the destroy itself as an AbortError
        body.destroy();
      }
    }
  }

  /** Close all keep-alive connections; in-flight calls resolve as failures. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // the shared signer stays: other Dendrites use it, and its thread does not keep the process alive
    await this.agent.destroy();
  }
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A stuck worker must not stall a fan-out: past the deadline the caller signs locally. */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('worker signing timed out')), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function streamResponse<S extends SynapseDef>(synapse: S, text: string, extract?: (text: string) => unknown): ResponseOf<S> | null {
  if (extract) {
    try {
      const r = synapse.response.safeParse(extract(text));
      return r.success ? (r.data as ResponseOf<S>) : null;
    } catch {
      return null;
    }
  }
  for (const field of Object.keys(synapse.response.shape)) {
    const r = synapse.response.safeParse({ [field]: text });
    if (r.success) return r.data as ResponseOf<S>;
  }
  try {
    const r = synapse.response.safeParse(stripPyFloats(parsePyJson(text)));
    return r.success ? (r.data as ResponseOf<S>) : null;
  } catch {
    return null;
  }
}
