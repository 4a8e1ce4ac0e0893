/**
 * A strict, allocation-light JSON parser for the hot path (every request body). It accepts only plain,
 * valid JSON and declines (returns FAST_JSON_DECLINED) on anything unusual — duplicate or `__proto__` keys,
 * deep nesting, any syntax error — so the caller can fall back to the reference parser, which decides the
 * value or the error message. Numbers go through the caller's literal parser, exactly as with lossless-json.
 */
export const FAST_JSON_DECLINED: unique symbol = Symbol('fast-json declined');

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 64;
/** A run of string characters that need no decoding. */
const PLAIN = /[^"\\\u0000-\u001f]*/y;

class Decline extends Error {}
const DECLINE = new Decline();

export function fastParseJson(text: string, parseNumber: (literal: string) => unknown): unknown {
  let i = 0;
  const n = text.length;

  const ws = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };

  const str = (): string => {
    // i is just past the opening quote
    const start = i;
    PLAIN.lastIndex = i;
    PLAIN.test(text);
    i = PLAIN.lastIndex;
    if (text.charCodeAt(i) === 0x22) return text.slice(start, i++);
    let escaped = false;
    for (;;) {
      if (i >= n) throw DECLINE;
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw DECLINE;
      if (c === 0x5c) {
        escaped = true;
        i++;
      }
      i++;
    }
    i++;
    if (!escaped) return text.slice(start, i - 1);
    try {
      return JSON.parse(text.slice(start - 1, i)) as string;
    } catch {
      throw DECLINE;
    }
  };

  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) throw DECLINE;
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) throw DECLINE;
        i++;
        const key = str();
        if (key === '__proto__' || Object.hasOwn(obj, key)) throw DECLINE;
        ws();
        if (text.charCodeAt(i) !== 0x3a) throw DECLINE;
        i++;
        obj[key] = value(depth + 1);
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x7d) return obj;
        throw DECLINE;
      }
    }
    if (c === 0x5b) {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const d = text.charCodeAt(i++);
        if (d === 0x2c) continue;
        if (d === 0x5d) return arr;
        throw DECLINE;
      }
    }
    if (c === 0x22) {
      i++;
      return str();
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) throw DECLINE;
      i += m[0].length;
      return parseNumber(m[0]);
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    throw DECLINE;
  };

  try {
    const v = value(0);
    ws();
    return i === n ? v : FAST_JSON_DECLINED;
  } catch (e) {
    if (e === DECLINE) return FAST_JSON_DECLINED;
    throw e;
  }
}
