/** Fixed-point primitives against hand-computed values, and the Number fast path against BigInt. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HALF, ONE, alphaSigmoid, checkedDiv, emaAlphaFromMovingAverage, expSafe, fixedExp, fromInt,
  proportionTimesRao, proportionToU16, safeDiv, satMul, u16ProportionToFixed,
} from '../../framework/consensus/fixed.ts';
import { divTrunc, mulFloor, toU16 } from '../../framework/consensus/fast-fixed.ts';

describe('I32F32 primitives (hand-computed)', () => {
  it('multiplication floors', () => {
    expect(satMul(HALF, HALF)).toBe(1n << 30n); // 0.5·0.5 = 0.25
    expect(satMul(3n, ONE / 2n)).toBe(1n); // 3·2^-32 · 0.5 = 1.5·2^-32 → 1
    expect(satMul(-3n, ONE / 2n)).toBe(-2n); // floor(−1.5) = −2 (arithmetic shift)
    expect(satMul(1n << 62n, 4n << 32n)).toBe((1n << 63n) - 1n); // saturates at I32F32::MAX
  });
  it('division truncates toward zero; safe_div gives 0 on zero or overflow', () => {
    expect(safeDiv(ONE, 3n * ONE)).toBe(1431655765n); // floor(2^32 / 3)
    expect(checkedDiv(-ONE, 3n * ONE)).toBe(-1431655765n); // −0.333… truncated toward 0
    expect(safeDiv(ONE, 0n)).toBe(0n);
    expect(safeDiv(1n << 62n, 1n)).toBe(0n); // 2^30 / 2^-32 overflows I32F32
  });
  it('u16 encodings and constants', () => {
    expect(u16ProportionToFixed(32767)).toBe(2147450879n); // kappa ≈ 0.4999923705
    expect(Number(u16ProportionToFixed(32767)) / 2 ** 32).toBeCloseTo(0.4999923705, 9);
    expect(proportionToU16(HALF)).toBe(32767); // D = 0.5 stored as 32767
    expect(proportionToU16(ONE)).toBe(65535);
    expect(proportionToU16(ONE * 2n)).toBe(65535);
    expect(proportionToU16(-5n)).toBe(0);
    expect(proportionTimesRao(ONE / 10n, 1_000_000_000n)).toBe(99_999_999n); // 10 equal stakes
    expect(emaAlphaFromMovingAverage(900_000n)).toBe(ONE - 3865470566n); // 1 − floor(0.9·2^32)
    expect(emaAlphaFromMovingAverage(0n)).toBe(ONE);
  });
  it('exp: Taylor series of substrate-fixed, truncated at 31 terms', () => {
    expect(fixedExp(0n)).toBe(ONE);
    expect(fixedExp(ONE)).toBe(22802601n << 9n); // I9F23 e
    expect(Number(expSafe(5n * ONE)) / 2 ** 32).toBeCloseTo(Math.exp(5), 5);
    expect(Number(expSafe(-5n * ONE)) / 2 ** 32).toBeCloseTo(Math.exp(-5), 8);
    // clamped at 20, where 31 Taylor terms fall short of e^20
    let series = 0;
    let term = 1;
    for (let i = 0; i < 32; i++) { series += term; term *= 20 / (i + 1); }
    const e20 = Number(expSafe(100n * ONE)) / 2 ** 32;
    expect(e20).toBeLessThan(Math.exp(20));
    expect(Math.abs(e20 - series) / series).toBeLessThan(1e-6);
  });
  it('alpha_sigmoid: first Yuma-3 bond 0.1 + 0.2/(1+e^5)', () => {
    const lo = u16ProportionToFixed(6553);
    const hi = u16ProportionToFixed(19660);
    const a = alphaSigmoid(ONE, ONE, 0n, lo, hi, fromInt(1000));
    expect(Number(a) / 2 ** 32).toBeCloseTo(6553 / 65535 + (13107 / 65535) / (1 + Math.exp(5)), 6);
    // far-off weight: sigmoid → 1, alpha → high
    expect(alphaSigmoid(0n, ONE, 0n, lo, hi, fromInt(1000))).toBeLessThanOrEqual(hi);
  });
});

describe('Number fast path equals BigInt', () => {
  const raw = fc.oneof(fc.integer({ min: 0, max: 2 ** 33 }), fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.constantFrom(0, 1, 2 ** 32, 2 ** 31));
  it('mulFloor', () => {
    fc.assert(fc.property(raw, raw, (a, b) => mulFloor(a, b) === Number(satMul(BigInt(a), BigInt(b)))), { numRuns: 5000 });
  });
  it('divTrunc', () => {
    const pos = fc.integer({ min: 0, max: 2 ** 44 });
    fc.assert(fc.property(pos, pos, (a, b) => {
      if (b === 0 || a / b >= 2 ** 20) return true;
      return divTrunc(a, b) === Number(safeDiv(BigInt(a), BigInt(b)));
    }), { numRuns: 5000 });
    expect(divTrunc(5, 0)).toBe(0);
  });
  it('toU16', () => {
    fc.assert(fc.property(fc.integer({ min: -10, max: 2 ** 34 }), (x) => toU16(x) === proportionToU16(BigInt(x))));
  });
});
