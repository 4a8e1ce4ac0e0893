import { z } from 'zod';
import type { RequestOf, ResponseOf, SynapseDef } from './synapse.ts';
import { PyFloat, parsePyJson, pyJsonDumps, stripPyFloats, type PyJsonOptions } from './python.ts';
import { pyTyped } from './typed.ts';
import { castTerminalInfo, terminalInfo, terminalInfoJson, terminalInfoSchema, type TerminalInfo } from './terminal.ts';
import { ProtocolError, STATUS } from './status.ts';
import { bodyHash } from './hash.ts';
import { isIndexKey } from './key-order.ts';

/** The SDK's bookkeeping fields, in `model_dump()` order (they precede the subclass's fields). */
export type SynapseMeta = {
  name: string;
  /** Seconds, a Python float. */
  timeout: number;
  total_size: number;
  header_size: number;
  dendrite: TerminalInfo;
  axon: TerminalInfo;
  computed_body_hash: string;
};

export const META_FIELDS = ['name', 'timeout', 'total_size', 'header_size', 'dendrite', 'axon', 'computed_body_hash'] as const;

/** Response fields as they sit in a body: null until the miner fills them. */
export type NullableResponseOf<S extends SynapseDef> = { [K in keyof ResponseOf<S>]: ResponseOf<S>[K] | null };
/** A whole synapse as Python's `model_dump()` gives it. */
export type SynapseBody<S extends SynapseDef> = SynapseMeta & RequestOf<S> & NullableResponseOf<S>;

export const DEFAULT_TIMEOUT_SECONDS = 12.0;

/** zod types of the meta fields, used only to print ints and floats the way Python does. */
const terminalTypes = z.object({
  status_code: z.number().int(),
  process_time: z.number(),
  port: z.number().int(),
  version: z.number().int(),
  nonce: z.bigint(),
});
const metaTypes = z.object({
  timeout: z.number(),
  total_size: z.number().int(),
  header_size: z.number().int(),
  dendrite: terminalTypes,
  axon: terminalTypes,
});

const metaSchema = z.object({
  timeout: z.union([z.number(), z.string().regex(/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/).transform(Number)]).nullish(),
  total_size: z.union([z.number().int(), z.bigint().transform(Number)]).nullish(),
  header_size: z.union([z.number().int(), z.bigint().transform(Number)]).nullish(),
  dendrite: terminalInfoSchema.nullish(),
  axon: terminalInfoSchema.nullish(),
  computed_body_hash: z.string().max(256).nullish(),
});

function describe(err: z.ZodError): string {
  const issue = err.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

/**
 * Build the body the SDK's dendrite sends: `model_dump()` after `preprocess_synapse_for_request`.
 * The request is validated (and defaulted) with `def.request`; response fields are null.
 * `required_hash_fields` is a ClassVar since SDK v7 and so is not part of the body.
 */
export function buildSynapseBody<S extends SynapseDef>(
  def: S,
  request: RequestOf<S>,
  opts: { timeout: number; dendrite: Partial<TerminalInfo>; axon: Partial<TerminalInfo> },
): SynapseBody<S> {
  const req = def.request.parse(request) as Record<string, unknown>;
  const body: Record<string, unknown> = {
    name: def.name,
    timeout: opts.timeout,
    total_size: 0,
    header_size: 0,
    dendrite: terminalInfo(opts.dendrite),
    axon: terminalInfo(opts.axon),
    computed_body_hash: '',
  };
  for (const k of Object.keys(def.request.shape)) body[k] = req[k] ?? null;
  for (const k of Object.keys(def.response.shape)) body[k] = null;
  return body as SynapseBody<S>;
}

/** Python-typed copy of a body (PyFloat markers on float fields), ready for pythonStr / pyJsonDumps. */
export function typedSynapseBody(def: SynapseDef, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const req = def.request.shape;
  const res = def.response.shape;
  const meta = metaTypes.shape as Record<string, z.ZodTypeAny>;
  for (const [k, v] of Object.entries(body)) {
    if (k in meta) out[k] = pyTyped(meta[k], v);
    else if (k in req) out[k] = pyTyped(req[k], v);
    else if (k in res) out[k] = pyTyped(res[k], v);
    else out[k] = v;
  }
  return out;
}

/**
 * `json.dumps` of the meta fields alone — byte-identical to the start of `serializeSynapseBody` — for callers
 * that prepend per-target meta to a synapse body serialized once (the dendrite's fan-out).
 */
export function serializeSynapseMeta(meta: SynapseMeta): string {
  return `{"name": ${pyJsonDumps(meta.name)}, "timeout": ${pyJsonDumps(new PyFloat(meta.timeout))}, "total_size": ${meta.total_size}, ` +
    `"header_size": ${meta.header_size}, "dendrite": ${terminalInfoJson(meta.dendrite)}, "axon": ${terminalInfoJson(meta.axon)}, ` +
    `"computed_body_hash": ${pyJsonDumps(meta.computed_body_hash)}}`;
}

/**
 * The body as bytes on the wire. Default: `json.dumps` (aiohttp's `json=`, what the dendrite sends);
 * `{ compact: true, ensureAscii: false }` gives FastAPI's JSONResponse (what the axon answers).
 */
export function serializeSynapseBody(def: SynapseDef, body: Record<string, unknown>, opts?: PyJsonOptions): string {
  return pyJsonDumps(typedSynapseBody(def, body), opts);
}

/** `Synapse.body_hash` of a body for this synapse (missing fields take their zod default, else None). */
export function synapseBodyHash(def: SynapseDef, body: Record<string, unknown>): string {
  const withDefaults: Record<string, unknown> = {};
  for (const f of def.requiredHashFields) {
    if (Object.hasOwn(body, f) && body[f] !== undefined) withDefaults[f] = body[f];
    else {
      const d = def.request.shape[f]?.safeParse(undefined);
      withDefaults[f] = d?.success ? (d.data ?? null) : null;
    }
  }
  return bodyHash(withDefaults, def.requiredHashFields, def.request);
}

const TIMEOUT_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

const unwrap = (v: unknown): unknown => (v instanceof PyFloat ? v.value : v);

/** An int meta field (total_size, header_size): null when absent, undefined when invalid. */
function metaInt(raw: unknown): number | null | undefined {
  const v = unwrap(raw);
  if (v === null || v === undefined) return null;
  if (isInt(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** metaSchema's casts without zod, straight from the body (hot path); undefined when anything is off. */
function fastMeta(def: SynapseDef, obj: Record<string, unknown>): SynapseMeta | undefined {
  const t = unwrap(obj.timeout);
  let timeout: number;
  if (typeof t === 'number' && !Number.isNaN(t)) timeout = t;
  else if (typeof t === 'string' && TIMEOUT_TEXT.test(t)) timeout = Number(t);
  else if (t === null || t === undefined) timeout = DEFAULT_TIMEOUT_SECONDS;
  else return undefined;
  const totalSize = metaInt(obj.total_size);
  const headerSize = metaInt(obj.header_size);
  if (totalSize === undefined || headerSize === undefined) return undefined;
  const d = obj.dendrite;
  const a = obj.axon;
  const dendrite = d === null || d === undefined ? terminalInfo() : castTerminalInfo(d);
  const axon = a === null || a === undefined ? terminalInfo() : castTerminalInfo(a);
  if (dendrite === undefined || axon === undefined) return undefined;
  const h = obj.computed_body_hash;
  let hash: string;
  if (typeof h === 'string' && h.length <= 256) hash = h;
  else if (h === null || h === undefined) hash = '';
  else return undefined;
  // pydantic forces name = class name
  return { name: def.name, timeout, total_size: totalSize ?? 0, header_size: headerSize ?? 0, dendrite, axon, computed_body_hash: hash };
}

function parseMeta(def: SynapseDef, raw: Record<string, unknown>, status: number): SynapseMeta {
  const fast = fastMeta(def, raw);
  if (fast !== undefined) return fast;
  const m = metaSchema.safeParse(metaOf(raw));
  if (!m.success) throw new ProtocolError(status, `invalid synapse body: ${describe(m.error)}`);
  return {
    name: def.name,
    timeout: m.data.timeout ?? DEFAULT_TIMEOUT_SECONDS,
    total_size: m.data.total_size ?? 0,
    header_size: m.data.header_size ?? 0,
    dendrite: m.data.dendrite ?? terminalInfo(),
    axon: m.data.axon ?? terminalInfo(),
    computed_body_hash: m.data.computed_body_hash ?? '',
  };
}

function asObject(json: unknown, status: number): Record<string, unknown> {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = parsePyJson(json);
    } catch (e) {
      throw new ProtocolError(status, `body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(status, 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Per object schema: its fields and whether each accepts null (asked once, not per request). */
const shapeFields = new WeakMap<z.ZodRawShape, Array<[string, boolean]>>();
function fieldsOf(shape: z.ZodRawShape): Array<[string, boolean]> {
  let f = shapeFields.get(shape);
  if (f === undefined) {
    f = Object.entries(shape).map(([k, schema]) => [k, schema.safeParse(null).success]);
    shapeFields.set(shape, f);
  }
  return f;
}

/** Copy the schema's fields (PyFloat markers dropped); a null the field does not accept counts as absent (so defaults apply, like None). */
function pickFields(shape: z.ZodRawShape, from: Record<string, unknown>, to: Record<string, unknown>): void {
  for (const [k, acceptsNull] of fieldsOf(shape)) {
    if (!Object.hasOwn(from, k)) continue;
    const v = stripPyFloats(from[k]);
    if (v === null && !acceptsNull) continue;
    to[k] = v;
  }
}

export interface ParsedSynapseBody<S extends SynapseDef> {
  meta: SynapseMeta;
  /** zod-validated request fields. */
  request: RequestOf<S>;
  /** The body as parsed (bigints, PyFloat markers kept): hash it with `synapseBodyHash(def, raw)`. */
  raw: Record<string, unknown>;
}

/**
 * Validate a request body (a parsed object, or JSON text parsed losslessly). Response fields and unknown
 * keys (e.g. a legacy `required_hash_fields`) are ignored. Throws ProtocolError(400) on garbage.
 */
export function parseSynapseBody<S extends SynapseDef>(def: S, json: unknown): ParsedSynapseBody<S> {
  const raw = asObject(json, STATUS.BAD_REQUEST);
  const meta = parseMeta(def, raw, STATUS.BAD_REQUEST);
  const req: Record<string, unknown> = {};
  pickFields(def.request.shape, raw, req);
  const parsed = def.request.safeParse(req);
  if (!parsed.success) throw new ProtocolError(STATUS.BAD_REQUEST, `invalid ${def.name} request: ${describe(parsed.error)}`);
  return { meta, request: parsed.data as RequestOf<S>, raw };
}

export interface ParsedSynapseResponse<S extends SynapseDef> {
  meta: SynapseMeta;
  /** zod-validated response fields. */
  response: ResponseOf<S>;
  raw: Record<string, unknown>;
}

/**
 * Validate a miner's 200 body: the response fields must satisfy `def.response` (a field left null that
 * the schema does not allow is invalid). Throws ProtocolError(422) on garbage.
 */
export function parseSynapseResponse<S extends SynapseDef>(def: S, json: unknown): ParsedSynapseResponse<S> {
  const raw = asObject(json, STATUS.UNPROCESSABLE);
  const meta = parseMeta(def, raw, STATUS.UNPROCESSABLE);
  return { meta, response: responseFields(def, raw), raw };
}

/**
 * Only the response fields of a miner's 200 body, zod-validated (the dendrite's hot path: the echoed request
 * and the TerminalInfos in the body are not needed). Throws ProtocolError(422) on garbage.
 */
export function parseResponseFields<S extends SynapseDef>(def: S, json: unknown): ResponseOf<S> {
  if (typeof json === 'string') {
    // Fast path: native JSON.parse, unless a response field holds an integer it would round or an object whose
    // integer-like keys it may have reordered (then the order-keeping lossless parser).
    let fast: unknown;
    try {
      fast = JSON.parse(json);
    } catch {
      fast = undefined;
    }
    if (fast !== null && typeof fast === 'object' && !Array.isArray(fast)) {
      const obj = fast as Record<string, unknown>;
      if (!Object.keys(def.response.shape).some((k) => needsLossless(obj[k]))) return responseFields(def, obj);
    }
  }
  return responseFields(def, asObject(json, STATUS.UNPROCESSABLE));
}

function needsLossless(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(needsLossless);
  if (v !== null && typeof v === 'object') {
    // JS lists integer-like keys first: if there is one, the first key is one
    const keys = Object.keys(v);
    return (keys.length > 1 && isIndexKey(keys[0] as string)) || Object.values(v).some(needsLossless);
  }
  return false;
}

function responseFields<S extends SynapseDef>(def: S, raw: Record<string, unknown>): ResponseOf<S> {
  const res: Record<string, unknown> = {};
  pickFields(def.response.shape, raw, res);
  const parsed = def.response.safeParse(res);
  if (!parsed.success) throw new ProtocolError(STATUS.UNPROCESSABLE, `invalid ${def.name} response: ${describe(parsed.error)}`);
  return parsed.data as ResponseOf<S>;
}

/** The meta fields (top-level PyFloat markers dropped; the casts read markers inside the TerminalInfos). */
function metaOf(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of META_FIELDS) {
    if (!Object.hasOwn(raw, k)) continue;
    const v = raw[k];
    out[k] = v instanceof PyFloat ? v.value : v;
  }
  return out;
}
