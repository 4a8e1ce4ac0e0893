/**
 * The verifier's per-row arithmetic (src/reference-row.ts) and the canonical sampler's candidate draw
 * against plain reference implementations written here: the fast paths must give the same ranks, top ids
 * and draws, and the same log-softmax within float noise.
 */
import { describe, expect, it } from 'vitest';
import { expNonPositive, RowScan } from '../src/reference-row.ts';
import { drawFromCandidates, logSoftmax, rankOf, sampleToken, samplerCandidates, topIndices, uniformAt, type SamplingParams } from '../src/sampler.ts';

/** mulberry32, so every run checks the same rows. */
function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows with ties (values rounded to a coarse grid), masked entries (−∞) and a spread like real logits. */
function rows(count: number, vocab: number, seed: number): Float32Array[] {
  const r = rand(seed);
  return Array.from({ length: count }, (_, n) => Float32Array.from({ length: vocab }, () => {
    if (r() < 0.02) return -Infinity;
    const x = 8 * Math.log(r() + 1e-6);
    return n % 2 === 0 ? Math.round(x * 4) / 4 : x;
  }));
}

/** The best `k` ids by repeated selection: largest value, lowest id first among equals. */
function selectTop(values: ArrayLike<number>, k: number): number[] {
  const taken = new Set<number>();
  const out: number[] = [];
  for (let n = 0; n < Math.min(k, values.length); n++) {
    let best = -1;
    for (let i = 0; i < values.length; i++) if (!taken.has(i) && (best < 0 || values[i]! > values[best]!)) best = i;
    taken.add(best);
    out.push(best);
  }
  return out;
}

/** The canonical sampler as the README states it, written plainly. */
function referenceSample(logits: ArrayLike<number>, p: SamplingParams, u: number): number {
  if (p.temperature <= 0) return selectTop(logits, 1)[0]!;
  const cand = selectTop(logits, p.topK > 0 ? p.topK : logits.length);
  const w = cand.map((i) => Math.exp((logits[i]! - logits[cand[0]!]!) / p.temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let keep = w.length;
  let cum = 0;
  if (p.topP < 1) for (let i = 0; i < w.length; i++) if ((cum += w[i]! / total) >= p.topP) { keep = i + 1; break; }
  let x = u * w.slice(0, keep).reduce((a, b) => a + b, 0);
  for (let i = 0; i < keep; i++) if ((x -= w[i]!) < 0) return cand[i]!;
  return cand[keep - 1]!;
}

describe('reference row scan', () => {
  it('exp of non-positive arguments agrees with Math.exp to 1e-12', () => {
    let worst = 0;
    for (let x = -700; x <= 0; x += 0.00731) worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    for (const x of [0, -1e-300, -Math.LN2 / 128, -Math.LN2, -1, -50.5]) worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    expect(worst).toBeLessThan(1e-12);
    expect(expNonPositive(-Infinity)).toBe(0);
    expect(expNonPositive(-800)).toBe(0);
  });

  it('gives the top ids, the token rank and the log-softmax of the plain implementations', () => {
    const scan = new RowScan(2); // starts small: must grow
    let checked = 0;
    for (const vocab of [7, 258, 1000]) {
      for (const row of rows(40, vocab, vocab)) {
        const lp = logSoftmax(row);
        for (const k of [1, 5, 10, 20]) {
          const id = (checked * 37) % vocab;
          scan.scan(row, k, id);
          expect([...scan.top.subarray(0, scan.count)]).toEqual(selectTop(row, k));
          expect(scan.tokenRank).toBe(rankOf(row, id));
          if (Number.isFinite(row[id]!)) expect(Math.abs(row[id]! - scan.logSumExp - lp[id]!)).toBeLessThan(1e-9);
          checked++;
        }
      }
    }
    scan.scan(Float32Array.of(1, 2, 3), 2, 99);
    expect(scan.tokenRank).toBe(0); // outside the row
    expect(() => scan.scan(Float32Array.of(1, NaN, 3), 2, 0)).toThrow(/non-finite/);
    expect(() => scan.scan(Float32Array.of(1, Infinity), 2, 0)).toThrow(/non-finite/);
    expect(() => scan.scan(Float32Array.of(-Infinity, -Infinity), 2, 0)).toThrow(/non-finite/);
    expect(checked).toBe(480);
  });

  it('topIndices sorts beyond 64 candidates in the same order as the insertion path', () => {
    for (const row of rows(10, 300, 3)) {
      const all = topIndices(row, 300);
      expect(all).toEqual(selectTop(row, 300));
      expect(topIndices(row, 64)).toEqual(all.slice(0, 64));
    }
  });

  it('draws the canonical token from a longer candidate list exactly as sampleToken and the plain sampler', () => {
    const r = rand(9);
    let differentFromTop1 = 0;
    let n = 0;
    for (const row of rows(60, 258, 11)) {
      for (let s = 0; s < 10; s++) {
        const p: SamplingParams = { temperature: [0, 0.2, 0.7, 1, 1.6][s % 5]!, topK: [0, 1, 5, 8, 10, 40][s % 6]!, topP: s % 3 === 0 ? 1 : 0.8 + 0.2 * r(), seed: 1 + s };
        const u = uniformAt(p.seed, n++);
        const k = samplerCandidates(p, row.length);
        const want = referenceSample(row, p, u);
        expect(sampleToken(row, p, u)).toBe(want);
        expect(drawFromCandidates(row, topIndices(row, k + 7), k, p, u)).toBe(want); // the verifier hands over a longer list
        if (want !== selectTop(row, 1)[0]) differentFromTop1++;
      }
    }
    expect(differentFromTop1).toBeGreaterThan(50); // the draws are not all greedy
  });
});
