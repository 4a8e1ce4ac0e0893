import fc from 'fast-check';
import { parse as losslessParse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { FAST_JSON_DECLINED, fastParseJson } from '../../framework/protocol/fast-json.ts';
import { parsePyJson, PyFloat } from '../../framework/protocol/python.ts';

// The reference: what parsePyJson returned before the fast path (lossless-json with the same number parser).
const literal = (t: string) => {
  const x = Number(t);
  if (/[.eE]/.test(t)) return Number.isInteger(x) ? new PyFloat(x) : x;
  return Number.isSafeInteger(x) ? x : BigInt(t);
};
const reference = (text: string) => losslessParse(text, null, literal);

describe('fastParseJson', () => {
  it('agrees with lossless-json on random JSON texts (values, floats, big ints, escapes, whitespace)', () => {
    const numberText = fc.oneof(
      fc.integer().map(String),
      fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Number.isInteger(x) && !/e/.test(String(x)) ? `${x}.0` : String(x))),
      fc.constantFrom('1e16', '-0.0', '2.5E-3', '0', '-0'),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        numberText,
        fc.string({ unit: 'binary' }).map((s) => JSON.stringify(s)),
        fc.constantFrom('true', 'false', 'null'),
        fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
        fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4 }).map((o) => `{${Object.entries(o).map(([k, v]) => `${JSON.stringify(k)}:\n ${v}`).join(',')}}`),
      ),
    }));
    fc.assert(
      fc.property(value, (text) => {
        const fast = fastParseJson(text, literal);
        expect(fast).not.toBe(FAST_JSON_DECLINED);
        expect(fast).toEqual(reference(text));
        expect(parsePyJson(text)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it('declines what it does not handle, so lossless-json decides (and words the errors)', () => {
    for (const text of ['{"a": 1, "a": 2}', '{"a": 1, "a": 1}', '{"__proto__": {"x": 1}}', '{"a": ', '[1, 2,]', '01', '1.', '"\u0001"', '{"a": 1} x', 'NaN', '"\\x"', '[' .repeat(100) + ']'.repeat(100)]) {
      expect(fastParseJson(text, literal)).toBe(FAST_JSON_DECLINED);
    }
    expect(() => parsePyJson('{"a": 1, "a": 2}')).toThrow(/Duplicate key/);
    expect(parsePyJson('{"a": 1, "a": 1}')).toEqual({ a: 1 });
    expect(() => parsePyJson('[1, 2,]')).toThrow(SyntaxError);
  });
});
