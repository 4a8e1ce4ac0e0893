import { Agent } from 'undici';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { authHeaders, bodySha256, btauthJson, buildPayload, WIRE_PROTOCOLS, type Wire, type WireProtocol, type WiredSynapse } from '../btauth/index.ts';
import { cryptoReady, schemeOf, sign, type Keypair } from '../wallet/keypair.ts';
import {
  META_FIELDS, PROTOCOL_VERSION, STATUS, STATUS_MESSAGE, buildSynapseBody, inputObjHeaders, newUuid, nowNanos,
  parseHeaders, parsePyJson, parseResponseFields, serializeSynapseBody, serializeSynapseMeta, signRequest, signingMessage, stripPyFloats, synapseBodyHash,
  terminalInfo, toHeaders, type ParsedHeaders, type RequestOf, type ResponseOf, type SigningParams, type SynapseDef, type SynapseMeta,
} from '../protocol/index.ts';
import { classifyError, type Failure, type Phase } from './failures.ts';
import { createFramer, type StreamFraming } from './stream-framing.ts';
import { Deadlines, Exchange, OversizeError } from './exchange.ts';
import { WorkerSigner, sharedSigner } from './worker-signer.ts';

export interface AxonTarget {
  ip: string;
  port: number;
  hotkey: string;
}

export interface DendriteOptions {
  /** The validator's hotkey: signs every request. */
  keypair: Keypair;
  /**
   * Wire for synapses that do not carry their own choice (a commodity's synapse does): `btauth` (default,
   * btauth/1 of SDK v11) or `synapse` (the v10 Synapse wire).
   */
  protocol?: WireProtocol;
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

/** Per-call wire override: beats the synapse's own choice and the dendrite's default. */
export interface WireOptions {
  protocol?: WireProtocol;
  /** btauth/1 route (default: the synapse's, else `/<name>`). */
  path?: string;
}

export interface CallOptions extends WireOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamOptions extends WireOptions {
  timeoutMs?: number;
  onChunk?: (c: StreamChunk) => void;
  /** How many chunks `chunks` keeps (default 4096). */
  maxChunks?: number;
  /** v10 wire only (btauth/1 streams are SSE events, one per chunk the miner yielded). */
  framing?: StreamFraming;
  /** Turn the whole streamed text into the response object (validated by the synapse's response schema). */
  extract?: (text: string) => unknown;
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 12_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_CHUNKS = 4096;

const optionsSchema = z.object({
  protocol: z.enum(WIRE_PROTOCOLS as [WireProtocol, ...WireProtocol[]]).optional(),
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

/** btauth/1: the request body (validated, JSON) and its sha256, shared by every target. */
interface BtTemplate {
  body: string;
  hash: string;
}

/** btauth/1 requests in flight to one origin, and those waiting for a connection. */
interface Gate {
  active: number;
  waiters: Array<() => void>;
}

/** A request ready but for its signature (either wire). */
interface Signable {
  message: string;
  finish(signature: string): Prepared;
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
  private readonly protocol: WireProtocol;
  private readonly connections: number;
  private readonly gates = new Map<string, Gate>();
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
    this.protocol = v.protocol ?? 'btauth';
    this.connections = v.connectionsPerOrigin ?? 8;
    // the worker signs sr25519 only
    this.signer = v.workerSigning === false || schemeOf(o.keypair) !== 'sr25519' ? null : v.workerSigning instanceof WorkerSigner ? v.workerSigning : sharedSigner();
    try {
      this.signer?.start(); // its WASM loads now rather than during the first fan-out
    } catch {
      /* no thread: fan-outs sign here */
    }
    this.agent = new Agent({
      connections: this.connections,
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

  private signMessage(message: string): string {
    const sig = sign(this.keypair, message);
    return `0x${Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength).toString('hex')}`;
  }

  /** The wire for this call: per-call option, else the synapse's (its commodity's) choice, else our default. */
  private wireOf(synapse: SynapseDef, o: WireOptions = {}): Wire {
    const own = (synapse as WiredSynapse).wire;
    return { protocol: o.protocol ?? own?.protocol ?? this.protocol, path: o.path ?? own?.path ?? `/${synapse.name}` };
  }

  private origin(target: AxonTarget): string {
    // SDK `_get_endpoint_url`: a target on our own external IP is reached locally
    const host = target.ip === this.externalIp ? '127.0.0.1' : target.ip;
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${target.port}`;
  }

  private btTemplate<S extends SynapseDef>(synapse: S, request: RequestOf<S>): BtTemplate {
    const body = btauthJson(synapse.request.parse(request));
    return { body, hash: bodySha256(body) };
  }

  /** btauth/1: bound to the target's hotkey, a fresh nonce for every request (and so every retry). */
  private btDraft(target: AxonTarget, tpl: BtTemplate, path: string): Signable {
    const nonce = nowNanos();
    const receiver = target.hotkey;
    const message = buildPayload({ scheme: schemeOf(this.keypair), method: 'POST', target: path, bodySha256: tpl.hash, nonce, hotkey: this.hotkey, receiver });
    return {
      message,
      finish: (signature) => ({
        origin: this.origin(target),
        path,
        headers: { ...authHeaders(this.keypair, nonce, signature, receiver), 'content-type': 'application/json' },
        body: tpl.body,
      }),
    };
  }

  private v10Signable(d: Draft): Signable {
    return { message: d.message, finish: (signature) => this.finish(d, signature) };
  }

  private finish(d: Draft, signature: string): Prepared {
    const { target, synapse, tpl, meta } = d;
    meta.dendrite.signature = signature;
    const origin = this.origin(target);
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
    const wire = this.wireOf(synapse, opts);
    if (wire.protocol === 'btauth') {
      const tpl = this.btTemplate(synapse, request);
      return this.callBtauth(target, synapse, timeoutMs, () => {
        const d = this.btDraft(target, tpl, wire.path);
        return d.finish(this.signMessage(d.message));
      }, opts.signal);
    }
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
    return this.exchange(target, synapse, timeoutMs, signal, prepare, true, async (res, started, headers, parsed) => {
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

  /** btauth/1 answer: the response object as JSON (validated by the synapse's response schema), or `{message}` on error. */
  private callBtauth<S extends SynapseDef>(target: AxonTarget, synapse: S, timeoutMs: number, prepare: () => Prepared, signal?: AbortSignal): Promise<DendriteResponse<ResponseOf<S>>> {
    return this.exchange(target, synapse, timeoutMs, signal, prepare, false, async (res, started, headers) => {
      const bytes = await readCapped(res.body, this.maxResponseBytes, res.headers['content-length']);
      return btauthAnswer(target, synapse, res.statusCode, bytes, performance.now() - started, headers);
    });
  }

  /** The outcome of a fan-out's btauth/1 Exchange, mapped exactly as `exchange` + `callBtauth` map theirs. */
  private btauthOutcome<S extends SynapseDef>(target: AxonTarget, synapse: S, x: Exchange, timeoutMs: number): DendriteResponse<ResponseOf<S>> {
    const headers = flattenHeaders(x.headers);
    if (!x.timedOut && x.error === null) return btauthAnswer(target, synapse, x.statusCode, x.body, performance.now() - x.started, headers);
    let f: Failure;
    if (x.timedOut) f = { statusCode: STATUS.TIMEOUT, statusMessage: STATUS_MESSAGE.requestTimeout(timeoutMs / 1000) };
    else if (x.error instanceof OversizeError) f = { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed(x.error.message) };
    else f = classifyError(x.error, x.phase, target, synapse.name);
    return this.failure(target, f, x.started, headers);
  }

  /**
   * Call many axons at once (at most `concurrency` in flight, default all). Results are in target order.
   * A request function is called once per target before any I/O; an invalid request throws then.
   */
  async forward<S extends SynapseDef>(
    targets: AxonTarget[],
    synapse: S,
    request: RequestOf<S> | ((t: AxonTarget, i: number) => RequestOf<S>),
    opts: { timeoutMs?: number; concurrency?: number } & WireOptions = {},
  ): Promise<Array<DendriteResponse<ResponseOf<S>>>> {
    this.checkOpen();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    this.checkTimeout(timeoutMs);
    await cryptoReady();
    const wire = this.wireOf(synapse, opts);
    const bt = wire.protocol === 'btauth';
    // one template per distinct request object: a shared request is validated, hashed and serialized once
    const cache = new Map<unknown, Template | BtTemplate>();
    const templates = targets.map((t, i) => {
      const r = typeof request === 'function' ? (request as (t: AxonTarget, i: number) => RequestOf<S>)(t, i) : request;
      let tpl = cache.get(r);
      if (!tpl) cache.set(r, (tpl = bt ? this.btTemplate(synapse, r) : this.template(synapse, r)));
      return tpl;
    });
    const signable = (i: number): Signable =>
      bt ? this.btDraft(targets[i], templates[i] as BtTemplate, wire.path) : this.v10Signable(this.draft(targets[i], synapse, templates[i] as Template, timeoutMs));
    const send = (i: number, prepare: () => Prepared) =>
      bt ? this.callBtauth(targets[i], synapse, timeoutMs, prepare) : this.callPrepared(targets[i], synapse, timeoutMs, prepare);
    const signAndSend = (i: number) => send(i, () => {
      const d = signable(i);
      return d.finish(this.signMessage(d.message));
    });
    const results = new Array<DendriteResponse<ResponseOf<S>>>(targets.length);
    const limit = Math.max(1, Math.min(opts.concurrency ?? targets.length, targets.length));
    if (bt && limit === targets.length && crowded(targets, this.connections)) {
      // more requests to one origin than connections: sign each when its connection is free (fresh nonces)
      await Promise.all(targets.map((_t, i) => signAndSend(i).then((r) => void (results[i] = r))));
      return results;
    }
    if (limit === targets.length) {
      const signer = targets.length >= MIN_WORKER_TARGETS ? this.signer : null;
      if (bt) {
        await this.forwardBtauthAll(signer, targets, synapse, templates as BtTemplate[], wire.path, timeoutMs, results, signAndSend);
        return results;
      }
      await this.forwardAll(signer, targets, signable, send, signAndSend, results, timeoutMs);
      return results;
    }
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        results[i] = await signAndSend(i);
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    return results;
  }

  /**
   * btauth/1 all-at-once fan-out (a validator's round). Signed like forwardAll (this thread and the worker
   * take targets from one counter; yielding every few so requests leave while the rest is signed), but each
   * request goes straight to undici's dispatch API as an Exchange, with the body as one Buffer shared by
   * every target and a single timer for all the deadlines: this thread's per-request work is what delays
   * the last request (measured: see docs/dendrite.md). A target that is invalid, or whose origin has no
   * free connection (another call holds them), takes the per-request path instead.
   */
  private async forwardBtauthAll<S extends SynapseDef>(
    signer: WorkerSigner | null,
    targets: AxonTarget[],
    synapse: S,
    templates: BtTemplate[],
    path: string,
    timeoutMs: number,
    results: Array<DendriteResponse<ResponseOf<S>>>,
    signAndSend: (i: number) => Promise<DendriteResponse<ResponseOf<S>>>,
  ): Promise<void> {
    const slow: Array<Promise<void>> = [];
    const idx: number[] = [];
    const gates: string[] = [];
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] as AxonTarget;
      const gate = `${t.ip}:${t.port}`;
      if (validTarget(t) && this.tryEnter(gate)) {
        idx.push(i);
        gates.push(gate);
      } else slow.push(signAndSend(i).then((r) => void (results[i] = r)));
    }
    const scheme = schemeOf(this.keypair);
    const bodies = new Map<BtTemplate, Buffer>();
    const nonces = new Array<bigint>(idx.length);
    // a fresh nonce per request, bound to its own receiver
    const messages = idx.map((i, k) => {
      nonces[k] = nowNanos();
      const tpl = templates[i] as BtTemplate;
      return buildPayload({ scheme, method: 'POST', target: path, bodySha256: tpl.hash, nonce: nonces[k], hotkey: this.hotkey, receiver: (targets[i] as AxonTarget).hotkey });
    });
    let left = idx.length;
    let unsent = idx.length;
    let allSettled: () => void = () => {};
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    const deadlines = new Deadlines(timeoutMs);
    const onSettled = (x: Exchange) => {
      const i = idx[x.index] as number;
      this.leave(gates[x.index] as string);
      results[i] = this.btauthOutcome(targets[i] as AxonTarget, synapse, x, timeoutMs);
      if (--left === 0) allSettled();
    };
    const sent = new Uint8Array(idx.length);
    const dispatch = (k: number, signature: string) => {
      if (sent[k]) return;
      sent[k] = 1;
      unsent--;
      const i = idx[k] as number;
      const t = targets[i] as AxonTarget;
      const tpl = templates[i] as BtTemplate;
      let body = bodies.get(tpl);
      if (body === undefined) bodies.set(tpl, (body = Buffer.from(tpl.body)));
      const headers = authHeaders(this.keypair, nonces[k] as bigint, signature, t.hotkey);
      headers['content-type'] = 'application/json';
      const x = new Exchange(k, this.maxResponseBytes, onSettled);
      x.started = performance.now();
      deadlines.add(x);
      this.agent.dispatch({ origin: this.origin(t), path, method: 'POST', headers, body }, x);
    };
    let next = 0;
    const job = signer?.job(this.keypair, messages, dispatch, SIGN_JOB_OPTS);
    const claim = job ? job.claim : () => next++;
    let count = 0;
    for (let k = claim(); k < messages.length; k = claim()) {
      dispatch(k, this.signMessage(messages[k] as string));
      job?.poll();
      if (++count % YIELD_EVERY === 0) await yieldToLoop();
    }
    if (job && unsent > 0) await withDeadline(job.done, timeoutMs).catch(() => {});
    job?.cancel();
    for (let k = 0; k < messages.length; k++) if (!sent[k]) dispatch(k, this.signMessage(messages[k] as string));
    if (left > 0) await settled;
    deadlines.stop();
    await Promise.all(slow);
  }

  /**
   * All-at-once fan-out. With a signer, this thread and the worker take targets from one shared counter and
   * each request is sent as soon as its signature exists (the worker's are picked up between local
   * signatures); if the worker fails or stalls, this thread signs what is left. Every few targets we yield
   * to the event loop: undici writes a request on a reused keep-alive socket only from a setImmediate, so
   * without yielding nothing would leave before the whole fan-out is signed.
   */
  private async forwardAll<R>(
    signer: WorkerSigner | null,
    targets: AxonTarget[],
    signable: (i: number) => Signable,
    send: (i: number, prepare: () => Prepared) => Promise<DendriteResponse<R>>,
    signAndSend: (i: number) => Promise<DendriteResponse<R>>,
    results: Array<DendriteResponse<R>>,
    timeoutMs: number,
  ): Promise<void> {
    const idx: number[] = [];
    const pending: Array<Promise<void>> = [];
    targets.forEach((t, i) => {
      if (validTarget(t)) idx.push(i);
      else pending.push(signAndSend(i).then((r) => void (results[i] = r)));
    });
    const drafts = idx.map((i) => signable(i));
    const sent = new Uint8Array(drafts.length);
    let left = drafts.length;
    const dispatch = (k: number, signature: string) => {
      if (sent[k]) return;
      sent[k] = 1;
      left--;
      const i = idx[k];
      const prepared = drafts[k].finish(signature);
      pending.push(send(i, () => prepared).then((r) => void (results[i] = r)));
    };
    let next = 0;
    const job = signer?.job(this.keypair, drafts.map((d) => d.message), dispatch, SIGN_JOB_OPTS);
    const claim = job ? job.claim : () => next++;
    let count = 0;
    for (let k = claim(); k < drafts.length; k = claim()) {
      dispatch(k, this.signMessage(drafts[k].message));
      job?.poll();
      if (++count % YIELD_EVERY === 0) await yieldToLoop();
    }
    if (job && left > 0) await withDeadline(job.done, timeoutMs).catch(() => {});
    job?.cancel();
    for (let k = 0; k < drafts.length; k++) if (!sent[k]) dispatch(k, this.signMessage(drafts[k].message));
    await Promise.all(pending);
  }

  /**
   * Call a streaming synapse and consume its body as it arrives, timestamping each chunk (v10: see
   * StreamFraming; btauth/1: one SSE event per chunk the miner yielded). The response is then read from the
   * whole text: `opts.extract(text)` if given; else the text goes into the first response field that accepts
   * it as a string (e.g. `completion`); else the text must be a JSON object of the response fields.
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
    const wire = this.wireOf(synapse, opts);
    const bt = wire.protocol === 'btauth';
    let prepare: () => Prepared;
    if (bt) {
      const tpl = this.btTemplate(synapse, request);
      prepare = () => {
        const d = this.btDraft(target, tpl, wire.path);
        return d.finish(this.signMessage(d.message));
      };
    } else {
      const tpl = this.template(synapse, request);
      prepare = () => {
        const d = this.draft(target, synapse, tpl, timeoutMs);
        return this.finish(d, this.signLocally(d));
      };
    }
    const base = await this.exchange(target, synapse, timeoutMs, opts.signal, prepare, !bt, async (res, started, headers, parsed) => {
      startedAt = started;
      const axonProcessTime = parsed?.axon.process_time ?? null;
      if (res.statusCode !== 200) {
        const bytes = await readCapped(res.body, this.maxResponseBytes, res.headers['content-length']);
        const message = errorMessage(bytes) ?? parsed?.axon.status_message ?? '';
        return { target, ok: false, statusCode: res.statusCode, statusMessage: message, response: null, roundTripMs: performance.now() - started, axonProcessTime, headers };
      }
      const decoder = new TextDecoder('utf-8');
      const framer = createFramer(bt ? 'sse' : (opts.framing ?? 'raw'));
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
    /** v10: the answer's bt_header_* are parsed (a 200 with broken ones is a 422). */
    v10: boolean,
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
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    const onAbort = () => ctl.abort();
    if (signal?.aborted) ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // btauth/1 freshness is judged on arrival: wait for a free connection first, then take the nonce and sign
    const gate = v10 ? null : `${target.ip}:${target.port}`;
    let started = performance.now();
    let phase: Phase = 'connect';
    let body: Readable | null = null;
    let headers: Record<string, string> = {};
    let parsed: ParsedHeaders | null = null;
    let entered = false;
    try {
      if (gate !== null) {
        const wait = this.enter(gate);
        entered = true;
        if (wait) await wait;
        if (ctl.signal.aborted) throw new Error('aborted while waiting for a connection');
      }
      const prepared = prepare();
      started = performance.now();
      const res = await this.agent.request({
        origin: prepared.origin, path: prepared.path, method: 'POST', headers: prepared.headers, body: prepared.body, signal: ctl.signal,
      });
      phase = 'body';
      body = res.body;
      headers = flattenHeaders(res.headers);
      if (v10) {
        try {
          parsed = parseHeaders(res.headers);
        } catch (e) {
          if (res.statusCode === 200) {
            return this.failure(target, { statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed((e as Error).message) }, started, headers);
          }
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
      if (entered && gate !== null) this.leave(gate);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // an unconsumed body would pin the connection; destroying a finished stream is a no-op
      if (body && !body.readableEnded) {
        body.on('error', () => {}); // undici reports the destroy itself as an AbortError
        body.destroy();
      }
    }
  }

  /** A btauth/1 request slot on this origin (one per connection); undefined when one is free now. */
  private enter(key: string): Promise<void> | undefined {
    let g = this.gates.get(key);
    if (g === undefined) this.gates.set(key, (g = { active: 0, waiters: [] }));
    if (g.active < this.connections) {
      g.active++;
      return undefined;
    }
    return new Promise((resolve) => (g as Gate).waiters.push(resolve));
  }

  /** Take a btauth/1 request slot on this origin if one is free now. */
  private tryEnter(key: string): boolean {
    const g = this.gates.get(key);
    if (g === undefined) {
      this.gates.set(key, { active: 1, waiters: [] });
      return true;
    }
    if (g.active >= this.connections) return false;
    g.active++;
    return true;
  }

  /** Hand the slot to the next waiter (its count stays), or free it. */
  private leave(key: string): void {
    const g = this.gates.get(key);
    if (g === undefined) return;
    const next = g.waiters.shift();
    if (next) return next();
    if (--g.active === 0) this.gates.delete(key);
  }

  /** Close all keep-alive connections; in-flight calls resolve as failures. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // the shared signer stays: other Dendrites use it, and its thread does not keep the process alive
    await this.agent.destroy();
  }
}

/** Does any origin get more requests than it has connections? */
function crowded(targets: AxonTarget[], connections: number): boolean {
  const n = new Map<string, number>();
  for (const t of targets) {
    const k = `${t.ip}:${t.port}`;
    const c = (n.get(k) ?? 0) + 1;
    if (c > connections) return true;
    n.set(k, c);
  }
  return false;
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

/** A btauth/1 answer: the response object as JSON (validated by the synapse's response schema), or `{message}` on error. */
function btauthAnswer<S extends SynapseDef>(
  target: AxonTarget, synapse: S, statusCode: number, bytes: Buffer, roundTripMs: number, headers: Record<string, string>,
): DendriteResponse<ResponseOf<S>> {
  if (statusCode !== 200) {
    return { target, ok: false, statusCode, statusMessage: errorMessage(bytes) ?? '', response: null, roundTripMs, axonProcessTime: null, headers };
  }
  const r = parseJsonResponse(synapse, bytes);
  if (!r.ok) {
    return { target, ok: false, statusCode: STATUS.UNPROCESSABLE, statusMessage: STATUS_MESSAGE.parseFailed(r.error), response: null, roundTripMs, axonProcessTime: null, headers };
  }
  return { target, ok: true, statusCode: 200, statusMessage: STATUS_MESSAGE.success, response: r.value, roundTripMs, axonProcessTime: null, headers };
}

/** A btauth/1 JSON answer through the synapse's response schema. */
function parseJsonResponse<S extends SynapseDef>(synapse: S, bytes: Buffer): { ok: true; value: ResponseOf<S> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    return { ok: false, error: `response is not JSON: ${(e as Error).message}` };
  }
  const r = synapse.response.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: `response does not match the ${synapse.name} schema: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}` };
  }
  return { ok: true, value: r.data as ResponseOf<S> };
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
