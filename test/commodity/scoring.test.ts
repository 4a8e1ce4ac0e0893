import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compose, minMax, normalize, power, softmax, topK } from '../../framework/commodity/transforms.ts';
import { betaMean, betaUpdate, ema, latencyScore, product, relativeSpeed, wilsonLowerBound, windowMean, windowPush } from '../../framework/commodity/scorers.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const scoresArb = fc.array(fc.oneof(fc.double({ min: -5, max: 100, noNaN: true }), fc.constant(Number.NaN)), { minLength: 1, maxLength: 40 });

describe('weight transforms', () => {
  it('every transform returns non-negative weights summing to 1, or all zeros', () => {
    const ts = [normalize(), power(3), softmax({ temperature: 0.5 }), topK(3), minMax(), compose(power(2), topK(2))];
    fc.assert(
      fc.property(scoresArb, (scores) => {
        for (const t of ts) {
          const w = t(scores);
          if (w.length !== scores.length || w.some((v) => !(v >= 0))) return false;
          const s = sum(w);
          if (!(Math.abs(s - 1) < 1e-9 || s === 0)) return false;
        }
        return true;
      }),
    );
  });

  it('normalize zeroes negatives/NaN; power sharpens; topK keeps the best k', () => {
    expect(normalize()([1, 3, -2, Number.NaN])).toEqual([0.25, 0.75, 0, 0]);
    const p = power(2)([1, 3]);
    expect(p[1]).toBeCloseTo(0.9);
    expect(topK(2)([0.1, 0.5, 0.3, 0.4])).toEqual([0, 0.5 / 0.9, 0, 0.4 / 0.9]);
  });

  it('softmax: lower temperature concentrates weight; negative temperature prefers low scores', () => {
    const hot = softmax({ temperature: 10 })([1, 2]);
    const cold = softmax({ temperature: 0.1 })([1, 2]);
    expect(cold[1]).toBeGreaterThan(hot[1]);
    expect(hot[1]).toBeCloseTo(Math.exp(0.2) / (Math.exp(0.1) + Math.exp(0.2)));
    const crps = softmax({ temperature: -1 })([1, 5]);
    expect(crps[0]).toBeGreaterThan(crps[1]);
    expect(softmax({ temperature: 1 })([Number.NaN, 3])).toEqual([0, 1]);
  });
});

describe('scorer helpers', () => {
  it('relativeSpeed is fastest/own, 0 for missing answers, floored when asked', () => {
    expect(relativeSpeed([100, 200, null, 400])).toEqual([1, 0.5, 0, 0.25]);
    expect(relativeSpeed([100, 1000], { floor: 0.3 })).toEqual([1, 0.3]);
    expect(relativeSpeed([null, null])).toEqual([0, 0]);
  });

  it('latencyScore falls linearly to 0 at the timeout', () => {
    expect(latencyScore(0, 1000)).toBe(1);
    expect(latencyScore(250, 1000)).toBe(0.75);
    expect(latencyScore(5000, 1000)).toBe(0);
  });

  it('ema converges to a constant input and starts from 0 for a new miner', () => {
    let s: number | undefined;
    s = ema(s, 1, 0.1);
    expect(s).toBeCloseTo(0.1);
    for (let i = 0; i < 200; i++) s = ema(s, 1, 0.1);
    expect(s).toBeCloseTo(1, 6);
    expect(() => ema(0, 1, 0)).toThrow();
  });

  it('windowed aggregation keeps the newest N', () => {
    let w: number[] = [];
    for (const v of [1, 2, 3, 4, 5]) w = windowPush(w, v, 3);
    expect(w).toEqual([3, 4, 5]);
    expect(windowMean(w)).toBe(4);
    expect(product(1, 0.5, Number.NaN)).toBe(0);
  });

  it('Wilson lower bound grows with evidence and stays below the raw rate', () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
    const few = wilsonLowerBound(9, 10);
    const many = wilsonLowerBound(900, 1000);
    expect(few).toBeLessThan(0.9);
    expect(many).toBeLessThan(0.9);
    expect(many).toBeGreaterThan(few);
    expect(wilsonLowerBound(1, 2, 0)).toBeCloseTo(0.5);
  });

  it('Beta reputation decays old evidence and moves toward recent outcomes', () => {
    let r = { alpha: 18, beta: 18 };
    expect(betaMean(r)).toBe(0.5);
    for (let i = 0; i < 200; i++) r = betaUpdate(r, 1);
    expect(betaMean(r)).toBeGreaterThan(0.85);
    for (let i = 0; i < 200; i++) r = betaUpdate(r, 0);
    expect(betaMean(r)).toBeLessThan(0.15);
  });
});
