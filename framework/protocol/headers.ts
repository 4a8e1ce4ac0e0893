import { z } from 'zod';
import type { SynapseDef } from './synapse.ts';
import { PyFloat, pyFloatRepr } from './python.ts';
import { typedField } from './typed.ts';
import { CASTS, TERMINAL_FIELDS, castFloat, castSafeInt, terminalInfo, terminalInfoSchema, type TerminalInfo } from './terminal.ts';
import { ProtocolError, STATUS } from './status.ts';
import { synapseBodyHash } from './body.ts';

export type HeaderSource = {
  name: string;
  timeout: number;
  dendrite: Partial<TerminalInfo> | null;
  axon: Partial<TerminalInfo> | null;
  total_size?: number;
};

const HEADER_KEYS = {
  axon: TERMINAL_FIELDS.map((k) => `bt_header_axon_${k}`),
  dendrite: TERMINAL_FIELDS.map((k) => `bt_header_dendrite_${k}`),
};

/**
 * `bt_header_{side}_{field}` for every non-null TerminalInfo field (the SDK's `to_headers` shape), string
 * values passed through `clean` (numbers print header-safe). Returns their byte size (keys and values before
 * cleaning), the part `header_size` counts.
 */
export function terminalInfoHeaders(side: 'axon' | 'dendrite', t: Partial<TerminalInfo> | null, out: Record<string, string>, clean: (v: string) => string = (v) => v): number {
  if (!t) return 0;
  const keys = HEADER_KEYS[side];
  let size = 0;
  for (let i = 0; i < TERMINAL_FIELDS.length; i++) {
    const v = t[TERMINAL_FIELDS[i] as keyof TerminalInfo];
    if (v === null || v === undefined) continue;
    const key = keys[i] as string;
    if (typeof v === 'string') {
      size += key.length + Buffer.byteLength(v);
      out[key] = clean(v);
    } else {
      const text = TERMINAL_FIELDS[i] === 'process_time' ? pyFloatRepr(Number(v)) : String(v); // ASCII
      size += key.length + text.length;
      out[key] = text;
    }
  }
  return size;
}

/** JSON of an empty instance of the value's Python type (`json.dumps(value.__class__())`). */
function emptyInstanceJson(value: unknown): string {
  if (typeof value === 'string') return '""';
  if (typeof value === 'boolean') return 'false';
  if (value instanceof PyFloat) return '0.0';
  if (typeof value === 'number') return Number.isInteger(value) ? '0' : '0.0';
  if (typeof value === 'bigint') return '0';
  if (Array.isArray(value)) return '[]';
  return '{}';
}

/** `bt_header_input_obj_<field>` for each required (no-default) non-null request field: base64 of an empty instance. */
export function inputObjHeaders(def: SynapseDef, body: Record<string, unknown>): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [field, key] of requiredFieldKeys(def)) {
    const value = body[field];
    if (value === null || value === undefined) continue;
    h[key] = emptyInputObj(typedField(def.request, field, value));
  }
  return h;
}

/** The `bt_header_input_obj_*` value for a (typed) field value: base64 of its empty instance's JSON. */
export function emptyInputObj(typedValue: unknown): string {
  return EMPTY_B64[emptyInstanceJson(typedValue)] as string;
}

/** base64 of each possible emptyInstanceJson result (computed once, not per request). */
const EMPTY_B64: Record<string, string> = Object.fromEntries(['""', 'false', '0.0', '0', '[]', '{}'].map((j) => [j, Buffer.from(j).toString('base64')]));

/** Per synapse: [field, header name] of its required request fields (`isOptional()` runs a parse: too slow per request). */
const requiredFieldsCache = new WeakMap<SynapseDef['request'], Array<[string, string]>>();
function requiredFieldKeys(def: SynapseDef): Array<[string, string]> {
  let out = requiredFieldsCache.get(def.request);
  if (out === undefined) {
    out = Object.entries(def.request.shape)
      .filter(([, schema]) => !schema.isOptional())
      .map(([field]) => [field, `bt_header_input_obj_${field}`]);
    requiredFieldsCache.set(def.request, out);
  }
  return out;
}

/**
 * `Synapse.to_headers()`: `name`, `timeout`, `bt_header_axon_*` and `bt_header_dendrite_*` for every
 * non-None TerminalInfo field, `bt_header_input_obj_<field>` for each required (no-default) non-null request
 * field, then `header_size`, `total_size` and `computed_body_hash`, in the SDK's order. `header_size` is the
 * byte size of the preceding headers (the SDK sends Python's `sys.getsizeof`, which nobody checks).
 */
export function toHeaders(
  def: SynapseDef,
  body: HeaderSource & Record<string, unknown>,
  opts: { bodyHash?: string; inputObj?: Record<string, string> } = {},
): Record<string, string> {
  const h: Record<string, string> = { name: def.name, timeout: pyFloatRepr(body.timeout) };
  terminalInfoHeaders('axon', body.axon, h);
  terminalInfoHeaders('dendrite', body.dendrite, h);
  Object.assign(h, opts.inputObj ?? inputObjHeaders(def, body));
  let size = 0;
  for (const [k, v] of Object.entries(h)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  h.header_size = String(size);
  h.total_size = String(body.total_size ?? 0);
  h.computed_body_hash = opts.bodyHash ?? synapseBodyHash(def, body);
  return h;
}

export interface ParsedHeaders {
  name: string | null;
  timeout: number | null;
  header_size: number | null;
  total_size: number | null;
  computed_body_hash: string | null;
  axon: TerminalInfo;
  dendrite: TerminalInfo;
  /** Decoded `bt_header_input_obj_*` values (empty instances; undecodable ones are skipped, as in the SDK). */
  inputObj: Record<string, unknown>;
}

export type HeaderBag = Record<string, string | readonly string[] | undefined> | Headers;

type TopFields = Pick<ParsedHeaders, 'name' | 'timeout' | 'header_size' | 'total_size' | 'computed_body_hash'>;
const TOP_CASTS: Record<keyof TopFields, [(v: unknown) => unknown, string]> = {
  name: [(v) => (typeof v === 'string' && v.length <= 256 ? v : undefined), 'expected a name'],
  timeout: [castFloat, 'expected a float'],
  header_size: [castSafeInt, 'expected an integer'],
  total_size: [castSafeInt, 'expected an integer'],
  computed_body_hash: [(v) => (typeof v === 'string' && v.length <= 256 ? v : undefined), 'expected a hash'],
};

/** The plain (non-TerminalInfo) headers, cast like the SDK's validators. Hand-rolled in zod: it runs per request. */
const topSchema: z.ZodType<TopFields, z.ZodTypeDef, Record<string, string>> = z.record(z.string()).transform((src, ctx) => {
  const out: TopFields = { name: null, timeout: null, header_size: null, total_size: null, computed_body_hash: null };
  for (const k of Object.keys(TOP_CASTS) as Array<keyof TopFields>) {
    const v = src[k];
    if (v === undefined) continue;
    const [cast, message] = TOP_CASTS[k];
    const c = cast(v);
    if (c === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message });
      return z.NEVER;
    }
    (out as Record<string, unknown>)[k] = c;
  }
  return out;
});

const AXON_PREFIX = 'bt_header_axon_';
const DENDRITE_PREFIX = 'bt_header_dendrite_';
const INPUT_PREFIX = 'bt_header_input_obj_';
const UPPER = /[A-Z]/;

function decodeInputObj(raw: Array<[string, string]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of raw) {
    try {
      out[field] = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      /* the SDK logs and skips undecodable input objects */
    }
  }
  return out;
}

/**
 * `Synapse.from_headers` for a request or response: typed and validated like the SDK's casts.
 * Throws ProtocolError(400) when a known header has a value Python could not cast (e.g. a non-integer nonce).
 * One pass over the headers straight into typed objects (it runs on every request); `inputObj` is decoded
 * only when read. On any bad value the zod schemas below produce the exact error.
 */
export function parseHeaders(headers: HeaderBag): ParsedHeaders {
  // (Reading the global `Headers` costs a lazy-builtin lookup per call; a plain header object has no methods.)
  const bag: Record<string, string | readonly string[] | undefined> =
    typeof (headers as Headers).entries === 'function' && typeof (headers as Headers).get === 'function'
      ? Object.fromEntries((headers as Headers).entries())
      : (headers as Record<string, string | readonly string[] | undefined>);
  const axon = terminalInfo();
  const dendrite = terminalInfo();
  const top: TopFields = { name: null, timeout: null, header_size: null, total_size: null, computed_body_hash: null };
  const inputRaw: Array<[string, string]> = [];
  let ok = true;
  for (const rawKey in bag) {
    const v = bag[rawKey];
    if (v === undefined) continue;
    const value = typeof v === 'string' ? v : (v[0] ?? '');
    const key = UPPER.test(rawKey) ? rawKey.toLowerCase() : rawKey;
    let target: TerminalInfo | undefined;
    let field: string;
    if (key.startsWith(AXON_PREFIX)) {
      target = axon;
      field = key.slice(AXON_PREFIX.length);
    } else if (key.startsWith(DENDRITE_PREFIX)) {
      target = dendrite;
      field = key.slice(DENDRITE_PREFIX.length);
    } else if (key.startsWith(INPUT_PREFIX)) {
      const f = key.slice(INPUT_PREFIX.length);
      if (f !== 'axon' && f !== 'dendrite' && value.length <= 4096) inputRaw.push([f, value]);
      continue;
    } else {
      if (!Object.hasOwn(TOP_CASTS, key)) continue;
      const c = TOP_CASTS[key as keyof TopFields][0](value);
      if (c === undefined) ok = false;
      else (top as Record<string, unknown>)[key] = c;
      continue;
    }
    if (!Object.hasOwn(CASTS, field)) continue;
    const c = CASTS[field as keyof TerminalInfo][0](value);
    if (c === undefined) ok = false;
    else (target as unknown as Record<string, unknown>)[field] = c;
  }
  if (!ok) return { ...parseHeadersStrict(bag), inputObj: decodeInputObj(inputRaw) };
  let inputObj: Record<string, unknown> | undefined;
  return {
    ...top,
    axon,
    dendrite,
    get inputObj(): Record<string, unknown> {
      return (inputObj ??= decodeInputObj(inputRaw));
    },
  };
}

/** The zod route, for the exact error (only reached when a header fails its cast). */
function parseHeadersStrict(bag: Record<string, string | readonly string[] | undefined>): Omit<ParsedHeaders, 'inputObj'> {
  const axon: Record<string, string> = {};
  const dendrite: Record<string, string> = {};
  const top: Record<string, string> = {};
  for (const [k, v] of Object.entries(bag)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    const value = typeof v === 'string' ? v : (v[0] ?? '');
    if (key.startsWith(AXON_PREFIX)) axon[key.slice(AXON_PREFIX.length)] = value;
    else if (key.startsWith(DENDRITE_PREFIX)) dendrite[key.slice(DENDRITE_PREFIX.length)] = value;
    else if (Object.hasOwn(TOP_CASTS, key)) top[key] = value;
  }
  const t = topSchema.safeParse(top);
  if (!t.success) throw headerError(t.error, '');
  const a = terminalInfoSchema.safeParse(axon);
  if (!a.success) throw headerError(a.error, AXON_PREFIX);
  const d = terminalInfoSchema.safeParse(dendrite);
  if (!d.success) throw headerError(d.error, DENDRITE_PREFIX);
  return { ...t.data, axon: a.data, dendrite: d.data };
}

function headerError(err: z.ZodError, prefix: string): ProtocolError {
  const issue = err.issues[0];
  const name = `${prefix}${issue?.path.join('_') ?? ''}`;
  return new ProtocolError(STATUS.BAD_REQUEST, `invalid header ${name}: ${issue?.message ?? 'invalid'}`);
}
