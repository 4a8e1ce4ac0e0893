import { parse as losslessParse } from 'lossless-json';
import { FAST_JSON_DECLINED, fastParseJson } from './fast-json.ts';
import { copyKeyOrder, orderedKeys } from './key-order.ts';

/**
 * Python value semantics for the wire format. The SDK hashes `str(model_dump()[field])` and sends
 * `json.dumps(model_dump())`, so we must reproduce CPython's `str()`/`repr()` and `json.dumps` exactly.
 *
 * JS numbers do not say whether they are a Python int or float. Rule used everywhere here:
 * an integer-valued `number` (or a `bigint`) is an int, any other number is a float, and a float that
 * happens to be integral (1.0, -0.0, 1e16) is carried as a `PyFloat`. `pyTyped(schema, value)` adds the
 * PyFloat markers from a zod schema: `z.number()` is float, `z.number().int()` / `z.bigint()` is int.
 *
 * Containers: an array is a Python list unless marked as a tuple (`pyTupleValue`, done by `pyTyped` for a
 * `pyTuple(...)` schema); a `Map` is a dict whose keys keep their JS kind and insertion order (int keys print
 * bare: `{3: 0.5}`); a plain object is a dict with str keys, printed in its wire order (key-order.ts).
 */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

/** Python `repr(float)`: shortest round-trip digits, exponent when exp < -4 or exp >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const ax = Math.abs(x);
  if (ax >= 1e-4 && ax < 1e16) {
    // Both print the shortest round-trip digits, and JS uses no exponent in this range: only '.0' differs.
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits = shortest round-trip significand, like Python's repr.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

export function pyIntStr(x: number | bigint): string {
  if (typeof x === 'bigint') return x.toString();
  // String() of a safe integer is its exact digits (and '0' for -0, as Python's int); larger ones via BigInt
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

/** Python str.isprintable() is false for these categories (space excepted). Unicode version is Node's ICU. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

/** Python `chr(cp).isprintable()` (per Node's Unicode tables; Python's may be older for new code points). */
export function pyIsPrintable(cp: number): boolean {
  return cp === 0x20 || !NON_PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

/** Python `repr(str)`. */
export function pyStrRepr(s: string): string {
  if (PLAIN_ASCII.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (NON_PRINTABLE.test(ch)) {
      out += cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat) && !(v instanceof Map);
}

/** Arrays that stand for Python tuples (marked, so they stay arrays for JSON and zod). */
const TUPLES = new WeakSet<readonly unknown[]>();

/** Mark an array as a Python tuple: `str()` prints `(3, 2.0)` / `(3,)`; JSON stays an array. Returns it. */
export function pyTupleValue<T extends unknown[]>(items: T): T {
  TUPLES.add(items);
  return items;
}

export function isPyTupleValue(v: unknown): boolean {
  return Array.isArray(v) && TUPLES.has(v);
}

/** A dict key as json.dumps writes it (it turns int/float/bool/None keys into strings). */
function jsonKey(k: unknown, ensureAscii: boolean): string {
  if (typeof k === 'string') return pyJsonString(k, ensureAscii);
  if (typeof k === 'bigint') return `"${k}"`;
  if (typeof k === 'number') return `"${Number.isInteger(k) ? pyIntStr(k) : pyJsonFloat(k)}"`;
  if (k instanceof PyFloat) return `"${pyJsonFloat(k.value)}"`;
  if (k === true || k === false) return `"${String(k)}"`;
  if (k === null) return '"null"';
  throw new TypeError(`pyJsonDumps: unsupported dict key of type ${typeof k}`);
}

/** Python `repr()` of a JSON-shaped value (None/True/False, 'quoted' strings, [..], {..}). */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? pyIntStr(value) : pyFloatRepr(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'string') return pyStrRepr(value);
  if (Array.isArray(value)) {
    if (!TUPLES.has(value)) return `[${value.map(pythonRepr).join(', ')}]`;
    return value.length === 1 ? `(${pythonRepr(value[0])},)` : `(${value.map(pythonRepr).join(', ')})`;
  }
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [k, v] of value) parts.push(`${pythonRepr(k)}: ${pythonRepr(v)}`);
    return `{${parts.join(', ')}}`;
  }
  if (isPlainObject(value)) {
    const parts: string[] = [];
    for (const k of orderedKeys(value)) parts.push(`${pyStrRepr(k)}: ${pythonRepr(value[k])}`);
    return `{${parts.join(', ')}}`;
  }
  throw new TypeError(`pythonRepr: unsupported value of type ${typeof value}`);
}

/** Python `str()` of a JSON-shaped value: like repr, except a top-level string is itself. */
export function pythonStr(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

export interface PyJsonOptions {
  /** `separators=(',', ':')` (FastAPI's JSONResponse) instead of json.dumps' default `(', ', ': ')`. */
  compact?: boolean;
  /** Escape non-ASCII as \uXXXX (json.dumps default: true; FastAPI's JSONResponse: false). */
  ensureAscii?: boolean;
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
const NEEDS_ESCAPE_ASCII = /[\\"\u0000-\u001f\u007f-\uffff]/;
const NEEDS_ESCAPE_UTF8 = /[\\"\u0000-\u001f]/;

/** A JSON string literal as json.dumps writes it. */
export function pyJsonString(s: string, ensureAscii: boolean): string {
  if (!(ensureAscii ? NEEDS_ESCAPE_ASCII : NEEDS_ESCAPE_UTF8).test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i); // UTF-16 units: json.dumps escapes non-BMP as a surrogate pair too
    const esc = JSON_ESCAPES[ch];
    if (esc) out += esc;
    else if (code < 0x20 || (ensureAscii && code > 0x7e)) out += `\\u${hex(code, 4)}`;
    else out += ch;
  }
  return out + '"';
}

/** A float as json.dumps writes it (NaN/Infinity as Python does). */
export function pyJsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

/** Python `json.dumps(value)` byte for byte (default separators and ensure_ascii unless told). */
export function pyJsonDumps(value: unknown, opts: PyJsonOptions = {}): string {
  const ensureAscii = opts.ensureAscii ?? true;
  const item = opts.compact ? ',' : ', ';
  const kv = opts.compact ? ':' : ': ';
  const dump = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isInteger(v) ? pyIntStr(v) : pyJsonFloat(v);
    if (v instanceof PyFloat) return pyJsonFloat(v.value);
    if (typeof v === 'string') return pyJsonString(v, ensureAscii);
    if (Array.isArray(v)) {
      let out = '[';
      for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : item) + dump(v[i]);
      return out + ']';
    }
    if (v instanceof Map) {
      let out = '{';
      let first = true;
      for (const [k, x] of v) {
        out += (first ? '' : item) + jsonKey(k, ensureAscii) + kv + dump(x);
        first = false;
      }
      return out + '}';
    }
    if (isPlainObject(v)) {
      let out = '{';
      let first = true;
      for (const k of orderedKeys(v)) {
        out += (first ? '' : item) + pyJsonString(k, ensureAscii) + kv + dump(v[k]);
        first = false;
      }
      return out + '}';
    }
    throw new TypeError(`pyJsonDumps: unsupported value of type ${typeof v}`);
  };
  return dump(value);
}

function isFloatLiteral(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) return true; // . e E
  }
  return false;
}

function parseNumberLiteral(text: string): number | bigint | PyFloat {
  if (isFloatLiteral(text)) {
    const x = Number(text);
    return Number.isInteger(x) ? new PyFloat(x) : x;
  }
  const x = Number(text);
  return Number.isSafeInteger(x) ? x : BigInt(text);
}

/**
 * Parse JSON the way Python's json.loads sees it: integers beyond 2^53 become bigint (no precision loss),
 * and integral float literals (`1.0`, `1e16`) become PyFloat so `str()` prints them as floats.
 * Objects keep their wire key order (key-order.ts) on the fast path; the rare fallback (a `__proto__` key,
 * nesting deeper than 64) does not record it.
 * Throws SyntaxError on invalid JSON (and on duplicate keys, which Python would accept last-wins).
 */
export function parsePyJson(text: string): unknown {
  // Plain JSON takes the fast parser (~4x quicker); lossless-json decides everything else, errors included.
  const fast = fastParseJson(text, parseNumberLiteral);
  if (fast !== FAST_JSON_DECLINED) return fast;
  return losslessParse(text, null, parseNumberLiteral);
}

/** Drop PyFloat markers (→ number) so the value can go through zod; bigints are kept. */
export function stripPyFloats(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(stripPyFloats);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [stripPyFloats(k), stripPyFloats(v)]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = stripPyFloats(v);
    return copyKeyOrder(value, out);
  }
  return value;
}

/** Mark every number inside `value` as a float (a field declared `float`/`list[float]` in Python). */
export function allFloats(value: unknown): unknown {
  if (typeof value === 'number') return new PyFloat(value);
  if (typeof value === 'bigint') return new PyFloat(Number(value));
  if (Array.isArray(value)) return value.map(allFloats);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, allFloats(v)]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = allFloats(v);
    return copyKeyOrder(value, out);
  }
  return value;
}
