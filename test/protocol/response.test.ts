import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineSynapse,
  parsePyJson,
  pyFloatRepr,
  serializeSynapseBody,
  synapseAnswerBody,
  synapseAnswerHeaders,
  terminalInfo,
  toHeaders,
  type SynapseAnswer,
  type TerminalInfo,
} from '../../framework/protocol/index.ts';
import { runPython } from './python-oracle.ts';

// Plain string/int/float/bool fields take the direct printers; the rest go through the typed walker.
const Mixed = defineSynapse({
  name: 'Mixed',
  request: z.object({
    prompt: z.string(),
    seed: z.number().int(),
    temperature: z.number().default(0.7),
    flag: z.boolean().optional(),
    weights: z.array(z.number()),
    meta: z.record(z.unknown()).default({}),
    choice: z.union([z.number().int(), z.string()]).nullable(),
  }),
  response: z.object({ completion: z.string(), score: z.number().nullable().optional(), tokens: z.array(z.number().int()).optional() }),
  requiredHashFields: ['prompt', 'seed'],
});

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'é"\\\n\t\u0000\u2028', '😀'));
const float = fc.double({ noNaN: true, noDefaultInfinity: true });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const terminal: fc.Arbitrary<TerminalInfo> = fc.record({
  status_code: maybe(fc.integer({ min: 0, max: 999 })),
  status_message: maybe(text),
  process_time: maybe(float),
  ip: maybe(fc.constantFrom('127.0.0.1', '::1', '203.0.113.7')),
  port: maybe(fc.integer({ min: 0, max: 65535 })),
  version: maybe(fc.integer({ min: 0, max: 99_999_999 })),
  nonce: maybe(fc.bigInt({ min: 0n, max: 2n ** 64n })),
  uuid: maybe(fc.uuid()),
  hotkey: maybe(text),
  signature: maybe(fc.string({ unit: fc.constantFrom(...'0123456789abcdefx'), maxLength: 130 })),
});
const answer: fc.Arbitrary<SynapseAnswer> = fc.record({
  timeout: float,
  total_size: fc.nat(),
  header_size: fc.nat(),
  dendrite: terminal,
  axon: terminal,
  computed_body_hash: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
  // request fields as the lossless parser leaves them (PyFloat markers on integral floats, bigints)
  request: fc
    .record(
      {
        prompt: text,
        seed: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })),
        temperature: float,
        flag: fc.boolean(),
        weights: fc.array(float, { maxLength: 5 }),
        meta: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.integer(), float, text, fc.constant(null))),
        choice: maybe(fc.oneof(fc.integer(), text)),
      },
      { requiredKeys: ['prompt', 'seed'] },
    )
    .map((r) => parsePyJson(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `__big${v}` : v)).replace(/"__big(-?\d+)"/g, '$1')) as Record<string, unknown>),
  response: fc.record(
    { completion: text, score: maybe(float), tokens: fc.array(fc.integer(), { maxLength: 4 }) },
    { requiredKeys: ['completion'] },
  ),
});

/** The body the generic path serializes: meta, then request fields, then response fields (null when absent). */
function asBody(a: SynapseAnswer): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: Mixed.name, timeout: a.timeout, total_size: a.total_size, header_size: a.header_size,
    dendrite: a.dendrite, axon: a.axon, computed_body_hash: a.computed_body_hash,
  };
  for (const k of Object.keys(Mixed.request.shape)) body[k] = Object.hasOwn(a.request, k) ? a.request[k] : null;
  for (const k of Object.keys(Mixed.response.shape)) body[k] = a.response[k] ?? null;
  return body;
}

describe('synapseAnswerBody / synapseAnswerHeaders (the axon fast path)', () => {
  it('print byte for byte what serializeSynapseBody and toHeaders print', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const body = asBody(a);
        expect(synapseAnswerBody(Mixed, a)).toBe(serializeSynapseBody(Mixed, body, { compact: true, ensureAscii: false }));
        expect(synapseAnswerHeaders(Mixed, a)).toEqual(toHeaders(Mixed, body as never, { bodyHash: a.computed_body_hash }));
      }),
      { numRuns: 400 },
    );
  });

  it('pass string header values through the cleaner, numbers untouched', () => {
    const a: SynapseAnswer = {
      timeout: 12, total_size: 0, header_size: 0, computed_body_hash: 'h',
      dendrite: terminalInfo({ hotkey: 'bad\u00e9', port: 5 }), axon: terminalInfo({ status_message: 'ok' }),
      request: { prompt: 'p', seed: 1 }, response: { completion: 'c' },
    };
    const h = synapseAnswerHeaders(Mixed, a, (v) => v.replace(/[^\x20-\x7e]/g, '?'));
    expect(h.bt_header_dendrite_hotkey).toBe('bad?');
    expect(h.bt_header_dendrite_port).toBe('5');
    expect(h.timeout).toBe('12.0');
  });

  it('pyFloatRepr still matches CPython repr around its decimal fast path', () => {
    const xs = [1e-4, 9.999e-5, 0.1, 1.5, 123456.789, 1e15, 9999999999999998, 1e16, 2.5e-7, -0.0001, -1e16 + 2];
    const py = runPython<string[]>('import json,sys\nprint(json.dumps([repr(float(x)) for x in json.loads(sys.stdin.read())]))', xs);
    expect(xs.map(pyFloatRepr)).toEqual(py);
  });
});
