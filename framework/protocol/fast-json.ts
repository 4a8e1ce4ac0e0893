import { isIndexKey, setKeyOrder } from './key-order.ts';

/**
 * A strict, allocation-light JSON parser for the hot path (every request body). It accepts only plain,
 * valid JSON and declines (returns FAST_JSON_DECLINED) on anything unusual — duplicate or `__proto__` keys,
 * deep nesting, any syntax error — so the caller can fall back to the reference parser, which decides the
 * value or the error message. Numbers go through the caller's literal parser, exactly as with lossless-json.
 * An object whose integer-like keys JS would move to the front keeps its wire order (see key-order.ts).
 */
export const FAST_JSON_DECLINED: unique symbol = Symbol('fast-json declined');

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 64;

class Decline extends Error {}
const DECLINE = new Decline();

export function fastParseJson(text: string, parseNumber: (literal: string) => unknown): unknown {
  const p = new Parser(text, parseNumber);
  try {
    const v = p.value(0);
    p.ws();
    return p.i === text.length ? v : FAST_JSON_DECLINED;
  } catch (e) {
    if (e === DECLINE) return FAST_JSON_DECLINED;
    throw e;
  }
}

/** Cursor over the text; methods on a class (not closures made per call) keep the hot path allocation-free. */
class Parser {
  i = 0;
  constructor(
    readonly text: string,
    readonly parseNumber: (literal: string) => unknown,
  ) {}

  ws(): void {
    const t = this.text;
    let i = this.i;
    for (let c = t.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = t.charCodeAt(++i));
    this.i = i;
  }

  /** A string whose opening quote is just before the cursor. */
  str(): string {
    const t = this.text;
    const start = this.i;
    // A manual scan beats a sticky regex here: most strings are short and a regex call has a fixed cost.
    let i = start;
    for (let c = t.charCodeAt(i); c !== 0x22 && c !== 0x5c && c >= 0x20; c = t.charCodeAt(++i));
    if (t.charCodeAt(i) === 0x22) {
      this.i = i + 1;
      return t.slice(start, i);
    }
    let escaped = false;
    for (;;) {
      if (i >= t.length) throw DECLINE;
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw DECLINE;
      if (c === 0x5c) {
        escaped = true;
        i++;
      }
      i++;
    }
    this.i = i + 1;
    if (!escaped) return t.slice(start, i);
    try {
      return JSON.parse(t.slice(start - 1, i + 1)) as string;
    } catch {
      throw DECLINE;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw DECLINE;
    this.ws();
    const t = this.text;
    const c = t.charCodeAt(this.i);
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) {
      this.i++;
      return this.str();
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = this.i;
      const m = NUMBER.exec(t);
      if (m === null) throw DECLINE;
      this.i += m[0].length;
      return this.parseNumber(m[0]);
    }
    if (t.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (t.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (t.startsWith('null', this.i)) {
      this.i += 4;
      return null;
    }
    throw DECLINE;
  }

  object(depth: number): Record<string, unknown> {
    const t = this.text;
    this.i++;
    const obj: Record<string, unknown> = {};
    this.ws();
    if (t.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return obj;
    }
    // Wire order, recorded only once an integer-like key shows up (until then Object.keys is the order).
    let order: string[] | undefined;
    for (;;) {
      this.ws();
      if (t.charCodeAt(this.i) !== 0x22) throw DECLINE;
      this.i++;
      const key = this.str();
      if (key === '__proto__' || Object.hasOwn(obj, key)) throw DECLINE;
      if (order !== undefined) order.push(key);
      else if (isIndexKey(key)) (order = Object.keys(obj)).push(key);
      this.ws();
      if (t.charCodeAt(this.i) !== 0x3a) throw DECLINE;
      this.i++;
      obj[key] = this.value(depth + 1);
      this.ws();
      const d = t.charCodeAt(this.i++);
      if (d === 0x2c) continue;
      if (d === 0x7d) {
        if (order !== undefined) setKeyOrder(obj, order);
        return obj;
      }
      throw DECLINE;
    }
  }

  array(depth: number): unknown[] {
    const t = this.text;
    this.i++;
    const arr: unknown[] = [];
    this.ws();
    if (t.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth + 1));
      this.ws();
      const d = t.charCodeAt(this.i++);
      if (d === 0x2c) continue;
      if (d === 0x5d) return arr;
      throw DECLINE;
    }
  }
}
