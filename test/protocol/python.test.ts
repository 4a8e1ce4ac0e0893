import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  PyFloat, parsePyJson, pyFloatRepr, pyIsPrintable, pyJsonDumps, pythonRepr, pythonStr, sha3Hex, stripPyFloats,
} from '../../framework/protocol/index.ts';
import { PY_CATEGORIES, PY_PRINTABLE_RANGES, PY_VALUES, runPython } from './python-oracle.ts';

interface ValueVector { json: string; str: string; repr: string; dumps: string; dumps_compact_utf8: string; sha3_str: string | null }
const vectors = JSON.parse(readFileSync(new URL('./fixtures/python-vectors.json', import.meta.url), 'utf8')) as {
  values: ValueVector[];
};

describe('pythonStr / pyJsonDumps against committed CPython vectors', () => {
  it.each(vectors.values.map((v) => [v.json, v] as const))('%s', (_text, v) => {
    const value = parsePyJson(v.json);
    expect(pythonStr(value)).toBe(v.str);
    expect(pythonRepr(value)).toBe(v.repr);
    expect(pyJsonDumps(value)).toBe(v.dumps);
    expect(pyJsonDumps(value, { compact: true, ensureAscii: false })).toBe(v.dumps_compact_utf8);
    if (v.sha3_str !== null) expect(sha3Hex(pythonStr(value))).toBe(v.sha3_str);
  });
});

// Code points whose printability differs between this Python's and Node's Unicode tables.
const printable = runPython<{ ranges: Array<[number, number]>; unicode: string }>(PY_PRINTABLE_RANGES, null);
const pyPrintable = new Uint8Array(0x110000);
for (const [a, b] of printable.ranges) pyPrintable.fill(1, a, b + 1);
const differing: number[] = [];
for (let cp = 0; cp < 0x110000; cp++) if ((pyPrintable[cp] === 1) !== pyIsPrintable(cp)) differing.push(cp);

describe('printability (str.isprintable) matches CPython', () => {
  it('differs only on code points this Python does not know yet (Unicode version skew)', () => {
    const categories = runPython<string[]>(PY_CATEGORIES, differing);
    // Everything else (all assigned code points of Python's Unicode version) is classified identically.
    expect(categories.filter((c) => c !== 'Cn')).toEqual([]);
    expect(differing.length).toBeLessThan(20_000);
  });
});

const skew = new Set(differing);
const codePoint = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x3000 }), fc.integer({ min: 0, max: 0x10ffff }))
  .filter((cp) => !skew.has(cp));
const pyString = fc.array(codePoint, { maxLength: 12 }).map((cps) => cps.map((c) => String.fromCodePoint(c)).join(''));
const pyFloat = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Number.isInteger(x) ? new PyFloat(x) : x));
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  pyFloat,
  fc.constantFrom(new PyFloat(1e16), new PyFloat(-0), 1e-7, 5e-324, 0.1),
  pyString,
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(pyString, tie('tree'), { maxKeys: 4 })),
}));

describe('random values against live CPython (python3 -c)', () => {
  it('str(), repr() and json.dumps() agree on 400 random JSON values', () => {
    const samples = fc.sample(tree, { numRuns: 400, seed: 42 });
    const texts = samples.map((v) => pyJsonDumps(v));
    const py = runPython<Array<{ str: string; repr: string; dumps: string; compact: string }>>(PY_VALUES, texts);
    for (let i = 0; i < samples.length; i++) {
      const parsed = parsePyJson(texts[i]);
      const ctx = `sample ${i}: ${texts[i]}`;
      expect(py[i].dumps, ctx).toBe(texts[i]); // our json.dumps output is what Python itself would write
      expect(pythonStr(parsed), ctx).toBe(py[i].str);
      expect(pythonRepr(samples[i]), ctx).toBe(py[i].repr);
      expect(pyJsonDumps(parsed, { compact: true, ensureAscii: false }), ctx).toBe(py[i].compact);
    }
  });
});

describe('sha3Hex', () => {
  it('equals @noble/hashes sha3-256 on random text (incl. non-BMP)', async () => {
    const { sha3_256 } = await import('@noble/hashes/sha3');
    const { bytesToHex, utf8ToBytes } = await import('@noble/hashes/utils');
    for (const s of fc.sample(fc.string({ unit: 'binary', maxLength: 300 }), { numRuns: 300, seed: 3 })) {
      expect(sha3Hex(s)).toBe(bytesToHex(sha3_256(utf8ToBytes(s))));
    }
  });
});

describe('float repr', () => {
  it('matches Python for doubles across the whole exponent range', () => {
    const xs = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: 500, seed: 7 });
    const py = runPython<Array<{ repr: string }>>(PY_VALUES, xs.map((x) => pyJsonDumps(new PyFloat(x))));
    xs.forEach((x, i) => expect(pyFloatRepr(x), String(x)).toBe(py[i].repr));
  });
  it('prints the special values like Python', () => {
    expect([NaN, Infinity, -Infinity, -0, 0].map(pyFloatRepr)).toEqual(['nan', 'inf', '-inf', '-0.0', '0.0']);
  });
});

describe('parsePyJson', () => {
  it('keeps ints beyond 2^53 exact and marks integral float literals', () => {
    const v = parsePyJson('{"n": 1763780000123456789, "f": 2.0, "g": 2.5, "i": 2}') as Record<string, unknown>;
    expect(v.n).toBe(1763780000123456789n);
    expect(v.f).toBeInstanceOf(PyFloat);
    expect(v.g).toBe(2.5);
    expect(v.i).toBe(2);
    expect(stripPyFloats(v)).toEqual({ n: 1763780000123456789n, f: 2, g: 2.5, i: 2 });
  });
  it('throws SyntaxError on garbage and does not pollute prototypes', () => {
    expect(() => parsePyJson('{"a": ')).toThrow();
    const v = parsePyJson('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });
});
