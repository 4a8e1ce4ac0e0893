import { z } from 'zod';
import { PyFloat, pyIntStr, pyJsonFloat, pyJsonString, type PyJsonOptions } from './python.ts';

/**
 * SDK `TerminalInfo`: what each side knows about the dendrite and the axon of one request. Wire names are
 * snake_case as in Python. `nonce` is unix ns, beyond 2^53, so it is a bigint here (a string on the wire).
 */
export interface TerminalInfo {
  status_code: number | null;
  status_message: string | null;
  process_time: number | null;
  ip: string | null;
  port: number | null;
  version: number | null;
  nonce: bigint | null;
  uuid: string | null;
  hotkey: string | null;
  signature: string | null;
}

/** Field order of the pydantic model (model_dump and header order). */
export const TERMINAL_FIELDS = [
  'status_code', 'status_message', 'process_time', 'ip', 'port', 'version', 'nonce', 'uuid', 'hotkey', 'signature',
] as const satisfies readonly (keyof TerminalInfo)[];

const PY_INT = /^\s*[+-]?\d+\s*$/;
const PY_FLOAT = /^\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)\s*$/i;
const MAX_STRING = 4096;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Python `int(raw)` on a header string or JSON number (the SDK's `cast_int`); undefined if Python would fail. */
export function castBigInt(raw: unknown): bigint | undefined {
  const v = raw instanceof PyFloat ? raw.value : raw;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && v.length <= 64 && PY_INT.test(v)) return BigInt(v.trim());
  return undefined;
}

export function castSafeInt(raw: unknown): number | undefined {
  const v = raw instanceof PyFloat ? raw.value : raw;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  const b = castBigInt(v);
  return b !== undefined && b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : undefined;
}

/** Python `float(raw)` (the SDK's `cast_float`). */
export function castFloat(raw: unknown): number | undefined {
  const v = raw instanceof PyFloat ? raw.value : raw;
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.length > 64 || !PY_FLOAT.test(v)) return undefined;
  const t = v.trim().toLowerCase().replace(/^\+/, '');
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan') return NaN;
  return Number(t);
}

export function castString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= MAX_STRING ? v : undefined;
}

/** Per TerminalInfo field: its cast (undefined = Python would fail) and the error message. */
export const CASTS: Record<keyof TerminalInfo, [(v: unknown) => unknown, string]> = {
  status_code: [castSafeInt, 'expected an integer'],
  status_message: [castString, 'expected a string'],
  process_time: [castFloat, 'expected a float'],
  ip: [castString, 'expected a string'],
  port: [castSafeInt, 'expected an integer'],
  version: [castSafeInt, 'expected an integer'],
  nonce: [castBigInt, 'expected an integer'],
  uuid: [castString, 'expected a string'],
  hotkey: [castString, 'expected a string'],
  signature: [castString, 'expected a string'],
};

/** A JSON object (a PyFloat marker from the lossless parser is a number, not an object). */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

/** How json.dumps prints each TerminalInfo field's number (the pydantic model's int/float). */
const JSON_KIND: Record<keyof TerminalInfo, 'int' | 'float' | 'str'> = {
  status_code: 'int', status_message: 'str', process_time: 'float', ip: 'str', port: 'int', version: 'int', nonce: 'int', uuid: 'str', hotkey: 'str', signature: 'str',
};

/**
 * `json.dumps(terminal_info.model_dump())` in field order; `{ compact: true, ensureAscii: false }` gives the
 * FastAPI form the axon answers with.
 */
export function terminalInfoJson(t: TerminalInfo, opts: PyJsonOptions = {}): string {
  const ascii = opts.ensureAscii ?? true;
  const kv = opts.compact ? '":' : '": ';
  const sep = opts.compact ? ',' : ', ';
  let out = '{';
  for (const k of TERMINAL_FIELDS) {
    const v = t[k];
    let text: string;
    if (v === null || v === undefined) text = 'null';
    else if (typeof v === 'string') text = pyJsonString(v, ascii);
    else if (JSON_KIND[k] === 'float' || (typeof v === 'number' && !Number.isInteger(v))) text = pyJsonFloat(Number(v));
    else text = pyIntStr(v);
    out += `${out.length > 1 ? sep : ''}"${k}${kv}${text}`;
  }
  return `${out}}`;
}

/**
 * Validates a TerminalInfo from a JSON body or from header strings, casting like pydantic with the SDK's
 * validators; unknown keys are dropped (pydantic default). Hand-rolled inside zod because it runs on every
 * request and response (a zod union per field costs an error object per miss).
 */
export const terminalInfoSchema: z.ZodType<TerminalInfo, z.ZodTypeDef, unknown> = z.unknown().transform((input, ctx) => {
  const fast = castTerminalInfo(input);
  if (fast !== undefined) return fast;
  if (!isObject(input)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected an object' });
    return z.NEVER;
  }
  const src = input as Record<string, unknown>;
  const out = terminalInfo();
  for (const k of TERMINAL_FIELDS) {
    const v = src[k];
    if (v === null || v === undefined) continue;
    const [cast, message] = CASTS[k];
    const c = cast(v);
    if (c === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message });
      return z.NEVER;
    }
    (out as unknown as Record<string, unknown>)[k] = c;
  }
  return out;
});

/**
 * The same casts as `terminalInfoSchema` without zod's wrapper (hot path: every request and response);
 * undefined when the input is invalid — run the schema then for the error message.
 */
export function castTerminalInfo(input: unknown): TerminalInfo | undefined {
  if (!isObject(input)) return undefined;
  const src = input as Record<string, unknown>;
  const out = terminalInfo();
  for (const k of TERMINAL_FIELDS) {
    const v = src[k];
    if (v === null || v === undefined) continue;
    const c = CASTS[k][0](v);
    if (c === undefined) return undefined;
    (out as unknown as Record<string, unknown>)[k] = c;
  }
  return out;
}

/** A TerminalInfo with every field None, then the given ones. */
export function terminalInfo(fields: Partial<TerminalInfo> = {}): TerminalInfo {
  return {
    status_code: fields.status_code ?? null,
    status_message: fields.status_message ?? null,
    process_time: fields.process_time ?? null,
    ip: fields.ip ?? null,
    port: fields.port ?? null,
    version: fields.version ?? null,
    nonce: fields.nonce ?? null,
    uuid: fields.uuid ?? null,
    hotkey: fields.hotkey ?? null,
    signature: fields.signature ?? null,
  };
}
