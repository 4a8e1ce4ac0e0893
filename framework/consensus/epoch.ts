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
      const acc = new Scratch(n);
      emaBonds = wfb.map((r, i) => emaRow(r, bonds[i], alpha, n, acc));
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
    const acc = new Scratch(n);
    emaBonds = delta.map((r, i) => emaRow(r, bonds[i], alpha, n, acc));
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

/** `weighted_median_col_sparse` on a column-major (CSR) copy; all-zero columns short-cut (median 0). */
function weightedMedianCols(activeStake: number[], weights: NRow[], n: number, kappa: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < activeStake.length; i++) if (activeStake[i] > 0) rows.push(i);
  const useStake = normalizeN(rows.map((i) => activeStake[i]));
  const m = useStake.length;
  let stakeSum = 0;
  for (const s of useStake) stakeSum += s;
  const minority = stakeSum - kappa;
  const start = new Int32Array(n + 1);
  for (const i of rows) for (const c of weights[i].c) start[c + 1]++;
  for (let c = 0; c < n; c++) start[c + 1] += start[c];
  const fill = start.slice(0, n);
  const ks = new Int32Array(start[n]);
  const vs = new Float64Array(start[n]);
  // row order within a column is kept, so a later duplicate uid in a row overwrites, as in the Rust
  rows.forEach((i, k) => {
    const r = weights[i];
    for (let t = 0; t < r.c.length; t++) { const p = fill[r.c[t]]++; ks[p] = k; vs[p] = r.v[t]; }
  });
  const score = new Float64Array(m);
  const bufs = [new Int32Array(m), new Int32Array(m), new Int32Array(m)];
  const median = new Array<number>(n).fill(0);
  const mid = m >> 1;
  for (let c = 0; c < n; c++) {
    let any = false;
    for (let t = start[c]; t < start[c + 1]; t++) if (vs[t] !== 0) { any = true; break; }
    if (!any) continue;
    for (let t = start[c]; t < start[c + 1]; t++) score[ks[t]] = vs[t];
    const cur = bufs[0];
    if (m >= 2 && score[mid] === 0) {
      // First Rust pass with pivot 0: `lower` is empty and `upper` is the non-zero entries in list order,
      // so it can be done on this column's entries alone instead of all m validators.
      let len = 0;
      let us = 0;
      let prev = -1;
      for (let t = start[c]; t < start[c + 1]; t++) {
        const k = ks[t]; // ascending; a duplicate uid in a row gives adjacent entries
        if (k !== prev && score[k] !== 0) { cur[len++] = k; us += useStake[k]; }
        prev = k;
      }
      median[c] = stakeSum - us <= minority ? quickselect(useStake, score, len, minority, stakeSum - us, stakeSum, bufs) : 0;
    } else {
      for (let t = 0; t < m; t++) cur[t] = t;
      median[c] = quickselect(useStake, score, m, minority, 0, stakeSum, bufs);
    }
    for (let t = start[c]; t < start[c + 1]; t++) score[ks[t]] = 0;
  }
  return median;
}

/** `weighted_median` on index buffers (cur / lower / upper rotate instead of reallocating). */
function quickselect(stake: number[], score: Float64Array, len: number, minority: number, lo: number, hi: number, bufs: Int32Array[]): number {
  let [cur, lower, upper] = bufs; // the initial list is in bufs[0]
  for (let iter = 0; iter <= stake.length; iter++) {
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

/** Dense per-row scratch (values, touched marks, touched list), reused across rows to avoid garbage. */
class Scratch {
  readonly val: Float64Array;
  readonly mark: Uint8Array;
  readonly touched: Int32Array;
  count = 0;
  constructor(n: number) {
    this.val = new Float64Array(n);
    this.mark = new Uint8Array(n);
    this.touched = new Int32Array(n);
  }
  add(j: number, v: number): void {
    if (this.mark[j] === 0) { this.mark[j] = 1; this.touched[this.count++] = j; this.val[j] = 0; }
    this.val[j] += v;
  }
  set(j: number, v: number): void {
    if (this.mark[j] === 0) { this.mark[j] = 1; this.touched[this.count++] = j; }
    this.val[j] = v;
  }
  get(j: number): number {
    return this.mark[j] === 0 ? 0 : this.val[j];
  }
  /** Touched columns in ascending order. */
  sortedColumns(): Int32Array {
    return this.touched.subarray(0, this.count).sort();
  }
  clear(): void {
    for (let t = 0; t < this.count; t++) this.mark[this.touched[t]] = 0;
    this.count = 0;
  }
}

/** `mat_ema_sparse` for one row: α·new + (1−α)·old over touched columns, ascending, positives only. */
function emaRow(next: NRow, old: NRow, alpha: number, n: number, acc: Scratch): NRow {
  const oneMinus = ONE_N - alpha;
  for (let k = 0; k < next.c.length; k++) if (next.c[k] < n) acc.add(next.c[k], mulFloor(alpha, next.v[k]));
  for (let k = 0; k < old.c.length; k++) if (old.c[k] < n) acc.add(old.c[k], mulFloor(oneMinus, old.v[k]));
  const out = emptyRow();
  for (const j of acc.sortedColumns()) {
    const v = acc.val[j];
    if (v > 0) { out.c.push(j); out.v.push(v); }
  }
  acc.clear();
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
 * iterators that assume ascending uids; `peekScan` reproduces what that scan finds, unsorted rows included.
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
  const wAt = new Scratch(n);
  const bAt = new Scratch(n);
  const decayed = new Scratch(n);
  return wfb.map((next, i) => {
    const old = bonds[i];
    const out = emptyRow();
    if (next.c.length === 0) return out;
    peekScan(next, n, wAt);
    peekScan(old, n, bAt);
    const alphaOf = (j: number) => alphaAt(j, wAt.get(j), bAt.get(j));
    for (let k = 0; k < old.c.length; k++) {
      const j = old.c[k];
      if (j < n) decayed.set(j, mulFloor(ONE_N - alphaOf(j), old.v[k]));
    }
    for (let k = 0; k < next.c.length; k++) {
      const j = next.c[k];
      if (j >= n) continue;
      const inc = Math.max(0, mulFloor(alphaOf(j), next.v[k]));
      const v = Math.min(ONE_N, decayed.get(j) + inc);
      if (v > 0) { out.c.push(j); out.v.push(v); }
    }
    wAt.clear();
    bAt.clear();
    decayed.clear();
    return out;
  });
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > ONE_N ? ONE_N : x);

/** Records into `found` the values a Rust peekable scan over j = 0..n finds in `row` (first entry equal to j). */
function peekScan(row: NRow, n: number, found: Scratch): void {
  let p = 0;
  let j = 0;
  while (p < row.c.length && j < n) {
    const u = row.c[p];
    if (u < j) p++;
    else if (u === j) { found.set(j, row.v[p]); j++; }
    else j = u;
  }
}
