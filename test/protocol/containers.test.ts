import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  PyFloat, buildSynapseBody, defineSynapse, parsePyJson, parseResponseFields, parseSynapseBody, pyDict, pyIntDict, pyJsonDumps, pyTuple, pyTyped,
  pythonStr, serializeSynapseBody, synapseBodyHash,
} from '../../framework/protocol/index.ts';
import { PY_TYPED_FIELDS, requirePython, runPython, type PyTypedAnswer } from './python-oracle.ts';

/**
 * Python `tuple[...]`, `dict[int, ...]` and `dict[str, ...]` with integer-like keys in the v10 Synapse body hash,
 * checked against live CPython: `str()` of each field, `Synapse.body_hash`, and `json.dumps` key order.
 */
const Typed = defineSynapse({
  name: 'Typed',
  request: z.object({
    pair: pyTuple([z.number().int(), z.number()]),
    one: pyTuple([z.number().int()]),
    ids: pyTuple([], z.number().int()),
    scores: pyIntDict(z.number()),
    tags: pyDict(z.number().int()),
    pairs: z.array(pyTuple([z.string(), z.number()])),
  }),
  response: z.object({ ranks: pyIntDict(z.number()), labels: pyDict(z.number().int()) }).partial(),
  requiredHashFields: ['pair', 'one', 'ids', 'scores', 'tags', 'pairs'],
});
const PY_TYPES = {
  pair: 'tuple[int, float]',
  one: 'tuple[int]',
  ids: 'tuple[int, ...]',
  scores: 'dict[int, float]',
  tags: 'dict[str, int]',
  pairs: 'list[tuple[str, float]]',
};
const FIELDS = Object.keys(PY_TYPES) as Array<keyof typeof PY_TYPES>;

const HAND = [
  // the three cases of the issue, as a Python dendrite's json.dumps writes them
  '{"pair": [3, 2.0], "one": [3], "ids": [], "scores": {"3": 0.5, "1": 0.25}, "tags": {"b": 1, "1": 2, "a": 3, "0": 4}, "pairs": [["x", 1.0], ["0", 2.5]]}',
  // ints sent as floats (pydantic's lax int), float values that are integral, negative and zero keys, unicode
  '{"pair": [3.0, 2], "one": [-1], "ids": [5, 4, 3], "scores": {"10": 1, "2": 1e-07, "0": -0.0, "-4": 1e16}, "tags": {"9": 0, "10": 1, "é": 2, "2": 3}, "pairs": []}',
  // empty dicts, quotes in strings, keys in numeric order already
  '{"pair": [0, 0.1], "one": [0], "ids": [1], "scores": {}, "tags": {"it\'s": 1, "\\"q\\"": 2}, "pairs": [["\'", 0.5]]}',
  // non-canonical int keys that pydantic reads as ints ("03" → 3)
  '{"pair": [1, 1.5], "one": [2], "ids": [2, 2], "scores": {"03": 0.5, "7": 0.75}, "tags": {"01": 1, "1": 2}, "pairs": [["a", 1e-05]]}',
];

const intKeyed = fc.uniqueArray(fc.tuple(fc.integer({ min: -5, max: 300 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { selector: (e) => e[0], maxLength: 6 });
const strKey = fc.oneof(fc.nat({ max: 40 }).map(String), fc.constantFrom('a', 'b', 'z', 'uid', '', '007'));
const strKeyed = fc.uniqueArray(fc.tuple(strKey, fc.integer()), { selector: (e) => e[0], maxLength: 6 });
/** A body as text, key order exactly as generated (no JS object in between). */
const randomBody = fc
  .record({
    pair: fc.tuple(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    one: fc.integer(),
    ids: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 5 }),
    scores: intKeyed,
    tags: strKeyed,
  })
  .map((r) => {
    // floats as a Python dendrite writes them (repr, always with '.' or 'e'; CPython-checked in python.test.ts)
    const float = (x: number): string => pyJsonDumps(new PyFloat(x));
    const obj = (entries: Array<[string | number, number]>, value: (v: number) => string): string =>
      `{${entries.map(([k, v]) => `${JSON.stringify(String(k))}: ${value(v)}`).join(', ')}}`;
    return `{"pair": [${r.pair[0]}, ${float(r.pair[1])}], "one": [${r.one}], "ids": ${JSON.stringify(r.ids)}, ` +
      `"scores": ${obj(r.scores, float)}, "tags": ${obj(r.tags, String)}, "pairs": [["k", ${float(r.pair[1])}]]}`;
  });

function python(bodies: string[]): PyTypedAnswer[] {
  return runPython<PyTypedAnswer[]>(PY_TYPED_FIELDS, { types: PY_TYPES, hashFields: Typed.requiredHashFields, bodies });
}

const typedFields = (source: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(FIELDS.map((f) => [f, pyTyped(Typed.request.shape[f], source[f])]));

if (requirePython('tuples and dicts in the Synapse body hash')) {
  describe('tuples and dicts in the Synapse body hash (live CPython)', () => {
    const bodies = [...HAND, ...fc.sample(randomBody, { numRuns: 150, seed: 11 })];
    const py = python(bodies);

    it('the axon side: str() of each parsed field and Synapse.body_hash equal CPython, byte for byte', () => {
      bodies.forEach((text, i) => {
        const { raw } = parseSynapseBody(Typed, text);
        const answer = py[i] as PyTypedAnswer;
        for (const f of FIELDS) expect(pythonStr(pyTyped(Typed.request.shape[f], raw[f])), `${f} of ${text}`).toBe(answer.str[f]);
        expect(synapseBodyHash(Typed, raw), text).toBe(answer.hash);
        // pydantic (the SDK's parser) agrees with the plain-Python conversion, where installed
        if (answer.pydantic !== null) expect(answer.pydantic).toEqual(answer.str);
      });
    });

    it('the dendrite side: a request built from the zod output sends and hashes what CPython reads back', () => {
      const rebuilt = bodies.map((text) => {
        const { request } = parseSynapseBody(Typed, text);
        const body = buildSynapseBody(Typed, request, { timeout: 12, dendrite: {}, axon: {} });
        return { body, text: serializeSynapseBody(Typed, body), request };
      });
      const again = python(rebuilt.map((r) => r.text));
      rebuilt.forEach((r, i) => {
        const answer = again[i] as PyTypedAnswer;
        expect(synapseBodyHash(Typed, r.body), r.text).toBe(answer.hash);
        expect(answer.hash).toBe((py[i] as PyTypedAnswer).hash); // same values as the original body
        expect(pyJsonDumps(typedFields(r.body)), r.text).toBe(answer.dumps); // json.dumps key order and spelling
      });
    });

    it('a request written in code with Maps keeps its order (the case a JS object cannot express)', () => {
      const request = {
        pair: [3, 2] as [number, number],
        one: [3] as [number],
        ids: [] as number[],
        scores: new Map([[3, 0.5], [1, 0.25]]),
        tags: new Map([['b', 1], ['1', 2], ['a', 3], ['0', 4]]),
        pairs: [['x', 1] as [string, number]],
      };
      const body = buildSynapseBody(Typed, request, { timeout: 12, dendrite: {}, axon: {} });
      const text = serializeSynapseBody(Typed, body);
      expect(text).toContain('"scores": {"3": 0.5, "1": 0.25}, "tags": {"b": 1, "1": 2, "a": 3, "0": 4}');
      expect(pythonStr(pyTyped(Typed.request.shape.pair, body.pair))).toBe('(3, 2.0)');
      expect(pythonStr(pyTyped(Typed.request.shape.one, body.one))).toBe('(3,)');
      expect(pythonStr(pyTyped(Typed.request.shape.scores, body.scores))).toBe('{3: 0.5, 1: 0.25}');
      expect(pythonStr(pyTyped(Typed.request.shape.tags, body.tags))).toBe("{'b': 1, '1': 2, 'a': 3, '0': 4}");
      const [answer] = python([text]);
      expect(synapseBodyHash(Typed, body)).toBe(answer?.hash);
    });
  });
}

describe('wire key order', () => {
  it('parsePyJson keeps the order of integer-like keys; plain JSON.parse does not', () => {
    const text = '{"b": 1, "1": 2, "a": 3, "0": 4}';
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['0', '1', 'b', 'a']);
    expect(pythonStr(parsePyJson(text))).toBe("{'b': 1, '1': 2, 'a': 3, '0': 4}");
    expect(pyJsonDumps(parsePyJson(text))).toBe(text);
    // nested, and an object whose keys are already in JS order records nothing
    expect(pythonStr(parsePyJson('{"x": [{"z": 0, "2": 1}], "0": {"1": 1, "0": 0}}'))).toBe("{'x': [{'z': 0, '2': 1}], '0': {'1': 1, '0': 0}}");
    expect(Object.getOwnPropertySymbols(parsePyJson('{"0": 1, "1": 2, "a": 3}'))).toEqual([]);
  });

  it('response fields keep their order too (the dendrite parses them off its fast path when needed)', () => {
    const r = parseResponseFields(Typed, '{"ranks": {"3": 0.5, "1": 0.25}, "labels": {"b": 1, "1": 2}}');
    expect([...(r.ranks?.keys() ?? [])]).toEqual([3, 1]);
    expect([...(r.labels?.keys() ?? [])]).toEqual(['b', '1']);
  });

  it('bad dict keys and tuple lengths are refused by the schema (400 at the axon)', () => {
    expect(() => parseSynapseBody(Typed, HAND[0]?.replace('"3": 0.5', '"x": 0.5') ?? '')).toThrow(/invalid Typed request: scores/);
    expect(() => parseSynapseBody(Typed, HAND[0]?.replace('"pair": [3, 2.0]', '"pair": [3]') ?? '')).toThrow(/invalid Typed request: pair/);
  });
});
