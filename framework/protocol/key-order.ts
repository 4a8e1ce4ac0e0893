/**
 * JavaScript objects list integer-like keys ('0', '1', …) first, in numeric order; Python dicts keep
 * insertion order. A JSON object parsed from the wire keeps its original key order under this symbol when
 * (and only when) the two differ, so `str()` and `json.dumps` of it print the keys as the sender wrote them.
 * Symbol-keyed properties are invisible to Object.keys, JSON.stringify and zod, so nothing else changes.
 */
export const KEY_ORDER: unique symbol = Symbol('python key order');

type Ordered = Record<string, unknown> & { [KEY_ORDER]?: readonly string[] };

/** A key that JS engines enumerate before string keys (a canonical array index, 0 … 2^32 − 2). */
export function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 0x30 || c > 0x39) return false;
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

/** The keys of an object in their original (insertion-on-the-wire) order. */
export function orderedKeys(obj: Record<string, unknown>): readonly string[] {
  return (obj as Ordered)[KEY_ORDER] ?? Object.keys(obj);
}

/** Record `order` on `obj` when it differs from what Object.keys gives (an integer-like key came after others). */
export function setKeyOrder(obj: Record<string, unknown>, order: readonly string[]): void {
  const natural = Object.keys(obj);
  for (let i = 0; i < natural.length; i++) {
    if (natural[i] !== order[i]) {
      Object.defineProperty(obj, KEY_ORDER, { value: Object.freeze([...order]), enumerable: false });
      return;
    }
  }
}

/** Copy the recorded key order of `from` (if any) onto `to`, a copy with the same keys. */
export function copyKeyOrder<T extends Record<string, unknown>>(from: Record<string, unknown>, to: T): T {
  const order = (from as Ordered)[KEY_ORDER];
  if (order !== undefined) Object.defineProperty(to, KEY_ORDER, { value: order, enumerable: false });
  return to;
}
