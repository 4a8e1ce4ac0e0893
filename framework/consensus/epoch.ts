/**
 * `runEpoch`: one Yuma Consensus epoch, bit-identical to subtensor's sparse `epoch_mechanism`.
 * Pure function, no I/O. Same steps as reference.ts (which mirrors the Rust line by line) but on Numbers
 * (fast-fixed.ts), with the dense n-wide temporaries of the Rust replaced by work on touched columns only,
 * and liquid alphas computed only where a bond or weight exists (the others are never read).
 */
import type { EpochInput, EpochOutput, SparseRow } from './types.ts';
import { runEpochReference } from './reference.ts';
import { alphaFromDiff, emaAlphaFromMovingAverage, fromInt, proportionTimesRao, u16ProportionToFixed } from './fixed.ts';
import { ONE_N, divTrunc, mulFloor, normalizeN, toU16 } from './fast-fixed.ts';

/** Sparse row of raw I32F32 Numbers, as two parallel arrays. */
interface NRow { c: number[]; v: number[] }

const emptyRow = (): NRow => ({ c: [], v: [] });

/** Inputs outside the ranges where the Number path is proven exact go to the BigInt reference. */
function needsReference(input: EpochInput): boolean {
  return input.n > 16384 || input.bondsMovingAverage > 1_000_000n;
}

export function runEpoch(input: EpochInput): EpochOutput {
  if (needsReference(input)) return runEpochReference(input);
  const n = input.n;
  const { lastUpdate, currentBlock, activityCutoff } = input;
  const bar = input.blockAtRegistration;
  const inactive = lastUpdate.map((u) => u + activityCutoff < currentBlock);
  const owner = input.ownerUid !== null && input.ownerUid < n ? input.ownerUid : null;

  const stake = normalizedStake(input.stake);
  const permits = input.validatorPermit.slice(0, n);
  if (owner !== null && owner < permits.length) permits[owner] = true;
  const newPermits = topkNonzero(stake, input.maxAllowedValidators);
  if (owner !== null) newPermits[owner] = true;
  const activeStake = normalizeN(stake.map((s, i) => (inactive[i] || !permits[i] ? 0 : s)));

  const weights = filteredWeights(input, permits, owner);
  const consensus = weightedMedianCols(activeStake, weights, n, Number(u16ProportionToFixed(input.kappa)));

  // Clip at consensus; validator trust; ranks → incentive.
  const clipped: NRow[] = weights.map((row) => {
    const out = emptyRow();
    for (let k = 0; k < row.c.length; k++) {
      const j = row.c[k];
      const th = consensus[j];
      const v = row.v[k];
      if (th < v) { if (th > 0) { out.c.push(j); out.v.push(th); } } else { out.c.push(j); out.v.push(v); }
    }
    return out;
  });
  const validatorTrust = clipped.map((r) => r.v.reduce((a, b) => a + b, 0));
  const ranks = new Array<number>(n).fill(0);
  clipped.forEach((row, i) => {
    const s = activeStake[i];
    if (s === 0) return;
    for (let k = 0; k < row.c.length; k++) ranks[row.c[k]] += mulFloor(s, row.v[k]);
  });
  const incentive = normalizeN(ranks);

  const beta = Number(u16ProportionToFixed(input.bondsPenalty));
  const wfb = beta === 0 ? weights : beta === ONE_N ? clipped : weights.map((r, i) => interpolateRow(r, clipped[i], beta, n));
  const lastTempo = input.lastMechanismStepBlock === 0
    ? Math.max(0, currentBlock - input.tempo) : input.lastMechanismStepBlock + 1;
  const alpha = Number(emaAlphaFromMovingAverage(input.bondsMovingAverage));

  let dividends: number[];
  let emaBonds: NRow[];
  if (input.yuma3) {
    const bonds = input.bonds.map((r) => maskedBonds(r, lastTempo, bar, (u) => Math.floor((u * ONE_N) / 65535)));
    if (input.liquidAlpha && consensus.some((c) => c !== 0)) {
      emaBonds = liquidAlphaEma(input, wfb, bonds, consensus);
    } else {
      emaBonds = wfb.map((r, i) => emaRow(r, bonds[i], alpha, n));
    }
    const norm = emaBonds.map((r) => ({ c: r.c, v: r.v.slice() }));
    colNormalize(norm, n);
    const perValidator = norm.map((r) => {
      let s = 0;
      for (let k = 0; k < r.c.length; k++) s += mulFloor(r.v[k], incentive[r.c[k]] ?? 0);
      return s;
    });
    dividends = normalizeN(perValidator.map((t, i) => mulFloor(t, activeStake[i])));
  } else {
    // Stored bonds are column max-upscaled u16, normalised per column (exact in u16 units).
    const bonds = input.bonds.map((r) => maskedBonds(r, lastTempo, bar, (u) => u));
    const colSum = new Array<number>(n).fill(0);
    for (const r of bonds) for (let k = 0; k < r.c.length; k++) if (r.c[k] < n) colSum[r.c[k]] += r.v[k];
    for (const r of bonds) {
      for (let k = 0; k < r.c.length; k++) {
        const s = r.c[k] < n ? colSum[r.c[k]] : 0;
        r.v[k] = s !== 0 ? Math.floor((r.v[k] * ONE_N) / s) : r.v[k] * ONE_N;
      }
    }
    const delta = wfb.map((r, i) => ({ c: r.c, v: r.v.map((v) => mulFloor(v, activeStake[i])) }));
    colNormalize(delta, n);
    emaBonds = delta.map((r, i) => emaRow(r, bonds[i], alpha, n));
    colNormalize(emaBonds, n);
    dividends = normalizeN(emaBonds.map((r) => {
      let s = 0;
      for (let k = 0; k < r.c.length; k++) s += mulFloor(incentive[r.c[k]] ?? 0, r.v[k]);
      return s;
    }));
    colMaxUpscale(emaBonds, n);
  }

  let esum = 0;
  for (let i = 0; i < n; i++) esum += incentive[i] + dividends[i];
  let nServer = incentive;
  let nValidator = dividends;
  let nCombined: number[];
  if (esum !== 0) {
    nServer = incentive.map((x) => divTrunc(x, esum));
    nValidator = dividends.map((x) => divTrunc(x, esum));
    nCombined = incentive.map((x, i) => divTrunc(x + dividends[i], esum));
  } else {
    let activeSum = 0;
    for (const a of activeStake) activeSum += a;
    nCombined = nValidator = activeSum === 0 ? stake : activeStake;
  }
  const E = input.emission;
  const rao = (x: number) => (x === 0 ? 0n : proportionTimesRao(BigInt(x), E));
  return {
    active: inactive.map((b) => !b),
    validatorPermit: newPermits,
    consensus: consensus.map(toU16),
    incentive: incentive.map(toU16),
    dividends: dividends.map(toU16),
    validatorTrust: validatorTrust.map(toU16),
    emission: nCombined.map(rao),
    serverEmission: nServer.map(rao),
    validatorEmission: nValidator.map(rao),
    bonds: emaBonds.map((r, i) => {
      if (newPermits[i]) return r.c.map((j, k): [number, number] => [j, toU16(r.v[k])]);
      if (permits[i]) return [];
      return null;
    }),
  };
}

/** I64F64 normalisation then truncation to I32F32: floor(s·2^32 / Σs) (BigInt: u64 stakes). */
function normalizedStake(stakes: readonly bigint[]): number[] {
  const I64F64_MAX = (1n << 127n) - 1n;
  const raw = stakes.map((s) => { const r = s << 64n; return r > I64F64_MAX ? I64F64_MAX : r; });
  let total = 0n;
  for (const r of raw) total += r;
  return raw.map((r) => Number((total === 0n ? r : (r << 64n) / total) >> 32n));
}

function topkNonzero(stake: number[], k: number): boolean[] {
  const n = stake.length;
  const result = stake.map((s) => s !== 0);
  if (n < k) return result;
  const idx = [...Array(n).keys()].sort((a, b) => stake[a] - stake[b]); // Array.sort is stable
  for (let t = 0; t < n - k; t++) result[idx[t]] = false;
  return result;
}

/** Permit, diagonal, outdated and commit-reveal masks, then row normalisation (in u16 units: exact). */
function filteredWeights(input: EpochInput, permits: boolean[], owner: number | null): NRow[] {
  const { n, lastUpdate, blockAtRegistration: bar } = input;
  return input.weights.map((row: SparseRow, i) => {
    const out = emptyRow();
    if (!permits[i]) return out;
    const lu = lastUpdate[i];
    const cb = input.commitRevealEnabled ? input.earliestCommitBlock[i] : null;
    let total = 0;
    for (const [j, u] of row) {
      if (j >= n) continue;
      if (j === i && i !== owner) continue;
      if (lu <= bar[j]) continue;
      if (cb !== null && cb < bar[j]) continue;
      out.c.push(j);
      out.v.push(u);
      total += u;
    }
    for (let k = 0; k < out.v.length; k++) out.v[k] = total > 0 ? Math.floor((out.v[k] * ONE_N) / total) : out.v[k] * ONE_N;
    return out;
  });
}

/** `weighted_median_col_sparse`, with all-zero columns short-cut (their median is 0). */
function weightedMedianCols(activeStake: number[], weights: NRow[], n: number, kappa: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < activeStake.length; i++) if (activeStake[i] > 0) rows.push(i);
  const useStake = normalizeN(rows.map((i) => activeStake[i]));
  const m = useStake.length;
  let stakeSum = 0;
  for (const s of useStake) stakeSum += s;
  const minority = stakeSum - kappa;
  // Column lists of (position k, value); a later duplicate uid in a row overwrites, as in the Rust.
  const colK: number[][] = Array.from({ length: n }, () => []);
  const colV: number[][] = Array.from({ length: n }, () => []);
  rows.forEach((i, k) => {
    const r = weights[i];
    for (let t = 0; t < r.c.length; t++) { colK[r.c[t]].push(k); colV[r.c[t]].push(r.v[t]); }
  });
  const score = new Float64Array(m);
  const bufs = [new Int32Array(m), new Int32Array(m), new Int32Array(m)];
  const median = new Array<number>(n).fill(0);
  for (let c = 0; c < n; c++) {
    const ks = colK[c];
    const vs = colV[c];
    let any = false;
    for (let t = 0; t < vs.length; t++) if (vs[t] !== 0) { any = true; break; }
    if (!any) continue;
    score.fill(0);
    for (let t = 0; t < ks.length; t++) score[ks[t]] = vs[t];
    median[c] = quickselect(useStake, score, m, minority, stakeSum, bufs);
  }
  return median;
}

/** `weighted_median` on index buffers (cur / lower / upper rotate instead of reallocating). */
function quickselect(stake: number[], score: Float64Array, m: number, minority: number, hi: number, bufs: Int32Array[]): number {
  let [cur, lower, upper] = bufs;
  for (let t = 0; t < m; t++) cur[t] = t;
  let len = m;
  let lo = 0;
  for (let iter = 0; iter <= m; iter++) {
    if (len === 0) return 0;
    if (len === 1) return score[cur[0]];
    const pivot = score[cur[len >> 1]];
    let ls = 0, us = 0, nl = 0, nu = 0;
    for (let t = 0; t < len; t++) {
      const idx = cur[t];
      const s = score[idx];
      if (s === pivot) continue;
      if (s < pivot) { ls += stake[idx]; lower[nl++] = idx; } else { us += stake[idx]; upper[nu++] = idx; }
    }
    if (minority < lo + ls && nl > 0) {
      hi = lo + ls;
      [cur, lower] = [lower, cur];
      len = nl;
    } else if (hi - us <= minority && nu > 0) {
      lo = hi - us;
      [cur, upper] = [upper, cur];
      len = nu;
    } else return pivot;
  }
  return 0;
}

/** `interpolate_sparse` for one row: only columns present in either row can be positive. */
function interpolateRow(r1: NRow, r2: NRow, ratio: number, n: number): NRow {
  const a = new Map<number, number>();
  const b = new Map<number, number>();
  for (let k = 0; k < r1.c.length; k++) if (r1.c[k] < n) a.set(r1.c[k], r1.v[k]);
  for (let k = 0; k < r2.c.length; k++) if (r2.c[k] < n) b.set(r2.c[k], r2.v[k]);
  const cols = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
  const out = emptyRow();
  for (const j of cols) {
    const v1 = a.get(j) ?? 0;
    const v = v1 + mulFloor(ratio, (b.get(j) ?? 0) - v1);
    if (v > 0) { out.c.push(j); out.v.push(v); }
  }
  return out;
}

/** Bonds row with columns of uids registered since the last epoch dropped; `conv` maps the stored u16. */
function maskedBonds(row: SparseRow, lastTempo: number, bar: readonly number[], conv: (u: number) => number): NRow {
  const out = emptyRow();
  for (const [j, u] of row) {
    if (lastTempo <= (bar[j] ?? 0)) continue;
    out.c.push(j);
    out.v.push(conv(u));
  }
  return out;
}

/** `mat_ema_sparse` for one row: α·new + (1−α)·old over touched columns, ascending, positives only. */
function emaRow(next: NRow, old: NRow, alpha: number, n: number): NRow {
  const oneMinus = ONE_N - alpha;
  const acc = new Map<number, number>();
  for (let k = 0; k < next.c.length; k++) {
    const j = next.c[k];
    if (j < n) acc.set(j, (acc.get(j) ?? 0) + mulFloor(alpha, next.v[k]));
  }
  for (let k = 0; k < old.c.length; k++) {
    const j = old.c[k];
    if (j < n) acc.set(j, (acc.get(j) ?? 0) + mulFloor(oneMinus, old.v[k]));
  }
  const cols = [...acc.keys()].sort((x, y) => x - y);
  const out = emptyRow();
  for (const j of cols) {
    const v = acc.get(j) as number;
    if (v > 0) { out.c.push(j); out.v.push(v); }
  }
  return out;
}

function colNormalize(m: NRow[], n: number): void {
  const sums = new Array<number>(n).fill(0);
  for (const r of m) for (let k = 0; k < r.c.length; k++) if (r.c[k] < n) sums[r.c[k]] += r.v[k];
  for (const r of m) {
    for (let k = 0; k < r.c.length; k++) {
      const s = r.c[k] < n ? sums[r.c[k]] : 0;
      if (s !== 0) r.v[k] = divTrunc(r.v[k], s);
    }
  }
}

function colMaxUpscale(m: NRow[], n: number): void {
  const max = new Array<number>(n).fill(0);
  for (const r of m) for (let k = 0; k < r.c.length; k++) if (r.c[k] < n && max[r.c[k]] < r.v[k]) max[r.c[k]] = r.v[k];
  for (const r of m) {
    for (let k = 0; k < r.c.length; k++) {
      const mx = r.c[k] < n ? max[r.c[k]] : 0;
      if (mx !== 0) r.v[k] = divTrunc(r.v[k], mx);
    }
  }
}

/**
 * `compute_liquid_alpha_values_sparse` + `mat_ema_alpha_sparse`. The Rust reads each row with peekable
 * iterators that assume ascending uids; `peekLookup` reproduces what that scan finds, unsorted rows included.
 */
function liquidAlphaEma(input: EpochInput, wfb: NRow[], bonds: NRow[], consensus: number[]): NRow[] {
  const n = input.n;
  const lo = u16ProportionToFixed(input.alphaLow);
  const hi = u16ProportionToFixed(input.alphaHigh);
  const steep = fromInt(input.alphaSigmoidSteepness);
  const cache = new Map<number, number>();
  const alphaAt = (j: number, w: number, b: number): number => {
    const c = consensus[j];
    const d = w >= b ? clamp01(w - c) : clamp01(b - w);
    let a = cache.get(d);
    if (a === undefined) { a = Number(alphaFromDiff(BigInt(d), lo, hi, steep)); cache.set(d, a); }
    return a;
  };
  return wfb.map((next, i) => {
    const old = bonds[i];
    const out = emptyRow();
    if (next.c.length === 0) return out;
    const wAt = peekLookup(next, n);
    const bAt = peekLookup(old, n);
    const alphaOf = (j: number) => alphaAt(j, wAt.get(j) ?? 0, bAt.get(j) ?? 0);
    const decayed = new Map<number, number>();
    for (let k = 0; k < old.c.length; k++) {
      const j = old.c[k];
      if (j < n) decayed.set(j, mulFloor(ONE_N - alphaOf(j), old.v[k]));
    }
    for (let k = 0; k < next.c.length; k++) {
      const j = next.c[k];
      if (j >= n) continue;
      const inc = Math.max(0, mulFloor(alphaOf(j), next.v[k]));
      const v = Math.min(ONE_N, (decayed.get(j) ?? 0) + inc);
      if (v > 0) { out.c.push(j); out.v.push(v); }
    }
    return out;
  });
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > ONE_N ? ONE_N : x);

/** Values a Rust peekable scan over j = 0..n finds in `row` (first entry equal to j while scanning). */
function peekLookup(row: NRow, n: number): Map<number, number> {
  const found = new Map<number, number>();
  let p = 0;
  let j = 0;
  while (p < row.c.length && j < n) {
    const u = row.c[p];
    if (u < j) p++;
    else if (u === j) { found.set(j, row.v[p]); j++; }
    else j = u;
  }
  return found;
}
