/**
 * `runEpoch`: one Yuma Consensus epoch, bit-identical to subtensor's sparse `epoch_mechanism`.
 * Pure function, no I/O. Same steps as reference.ts (which mirrors the Rust line by line) but on Numbers
 * (fast-fixed.ts) in compressed-row matrices, with the dense n-wide temporaries of the Rust replaced by
 * work on touched columns only, and liquid alphas computed only where a bond or weight exists (the
 * others are never read).
 */
import type { EpochInput, EpochOutput, SparseRow } from './types.ts';
import { runEpochReference } from './reference.ts';
import { alphaFromDiff, emaAlphaFromMovingAverage, fromInt, proportionTimesRao, u16ProportionToFixed } from './fixed.ts';
import { divTrunc, mulFloor, normalizeN, toU16 } from './fast-fixed.ts';

const ONE = 4294967296; // I32F32 1.0 in raw bits

/** Sparse matrix in compressed rows: row i is col/val[ptr[i] .. ptr[i+1]), in the order the Rust keeps. */
interface Csr { ptr: Int32Array; col: Int32Array; val: Float64Array }

/** Row-by-row CSR writer with a capacity known up front (the sum of the inputs' sizes). */
class CsrBuilder {
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
  len = 0;
  private row = 0;
  constructor(rows: number, cap: number) {
    this.ptr = new Int32Array(rows + 1);
    this.col = new Int32Array(cap);
    this.val = new Float64Array(cap);
  }
  push(j: number, v: number): void {
    this.col[this.len] = j;
    this.val[this.len++] = v;
  }
  endRow(): void {
    this.ptr[++this.row] = this.len;
  }
  build(): Csr {
    return { ptr: this.ptr, col: this.col, val: this.val };
  }
}

const nnz = (m: Csr) => m.ptr[m.ptr.length - 1];

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
  const cb = new CsrBuilder(n, nnz(weights));
  const validatorTrust = new Array<number>(n).fill(0);
  const ranks = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const s = activeStake[i];
    let trust = 0;
    for (let p = weights.ptr[i]; p < weights.ptr[i + 1]; p++) {
      const j = weights.col[p];
      const th = consensus[j];
      let v = weights.val[p];
      if (th < v) { if (th <= 0) continue; v = th; }
      cb.push(j, v);
      trust += v;
      if (s !== 0) ranks[j] += mulFloor(s, v);
    }
    validatorTrust[i] = trust;
    cb.endRow();
  }
  const clipped = cb.build();
  const incentive = normalizeN(ranks);

  const beta = Number(u16ProportionToFixed(input.bondsPenalty));
  const wfb = beta === 0 ? weights : beta === ONE ? clipped : interpolate(weights, clipped, beta, n);
  const lastTempo = input.lastMechanismStepBlock === 0
    ? Math.max(0, currentBlock - input.tempo) : input.lastMechanismStepBlock + 1;
  const alpha = Number(emaAlphaFromMovingAverage(input.bondsMovingAverage));

  let dividends: number[];
  let emaBonds: Csr;
  if (input.yuma3) {
    const bonds = maskedBonds(input.bonds, lastTempo, bar, n, (u) => Math.floor((u * ONE) / 65535));
    emaBonds = input.liquidAlpha && consensus.some((c) => c !== 0)
      ? liquidAlphaEma(input, wfb, bonds, consensus)
      : ema(wfb, bonds, alpha, n);
    const norm: Csr = { ptr: emaBonds.ptr, col: emaBonds.col, val: emaBonds.val.slice() };
    colNormalize(norm, n);
    const perValidator = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = norm.ptr[i]; p < norm.ptr[i + 1]; p++) s += mulFloor(norm.val[p], incentive[norm.col[p]]);
      perValidator[i] = mulFloor(s, activeStake[i]);
    }
    dividends = normalizeN(perValidator);
  } else {
    // Stored bonds are column max-upscaled u16: normalise per column in u16 units (exact).
    const bonds = maskedBonds(input.bonds, lastTempo, bar, n, (u) => u);
    const colSum = new Float64Array(n);
    for (let p = 0; p < nnz(bonds); p++) if (bonds.col[p] < n) colSum[bonds.col[p]] += bonds.val[p];
    for (let p = 0; p < nnz(bonds); p++) {
      const s = bonds.col[p] < n ? colSum[bonds.col[p]] : 0;
      bonds.val[p] = s !== 0 ? Math.floor((bonds.val[p] * ONE) / s) : bonds.val[p] * ONE;
    }
    const deltaVal = new Float64Array(nnz(wfb));
    for (let i = 0; i < n; i++) {
      for (let p = wfb.ptr[i]; p < wfb.ptr[i + 1]; p++) deltaVal[p] = mulFloor(wfb.val[p], activeStake[i]);
    }
    const delta: Csr = { ptr: wfb.ptr, col: wfb.col, val: deltaVal };
    colNormalize(delta, n);
    emaBonds = ema(delta, bonds, alpha, n);
    colNormalize(emaBonds, n);
    const raw = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = emaBonds.ptr[i]; p < emaBonds.ptr[i + 1]; p++) s += mulFloor(incentive[emaBonds.col[p]], emaBonds.val[p]);
      raw[i] = s;
    }
    dividends = normalizeN(raw);
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
  const bondRows: Array<SparseRow | null> = new Array(n);
  for (let i = 0; i < n; i++) {
    if (newPermits[i]) {
      const row: SparseRow = [];
      for (let p = emaBonds.ptr[i]; p < emaBonds.ptr[i + 1]; p++) row.push([emaBonds.col[p], toU16(emaBonds.val[p])]);
      bondRows[i] = row;
    } else bondRows[i] = permits[i] ? [] : null;
  }
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
    bonds: bondRows,
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
function filteredWeights(input: EpochInput, permits: boolean[], owner: number | null): Csr {
  const { n, lastUpdate, blockAtRegistration: bar } = input;
  let cap = 0;
  for (let i = 0; i < n; i++) if (permits[i]) cap += input.weights[i].length;
  const b = new CsrBuilder(n, cap);
  for (let i = 0; i < n; i++) {
    const row = input.weights[i];
    if (permits[i]) {
      const lu = lastUpdate[i];
      const cb = input.commitRevealEnabled ? input.earliestCommitBlock[i] : null;
      const first = b.len;
      let total = 0;
      for (let k = 0; k < row.length; k++) {
        const j = row[k][0];
        if (j >= n || (j === i && i !== owner) || lu <= bar[j] || (cb !== null && cb < bar[j])) continue;
        const u = row[k][1];
        b.push(j, u);
        total += u;
      }
      for (let p = first; p < b.len; p++) b.val[p] = total > 0 ? Math.floor((b.val[p] * ONE) / total) : 0;
    }
    b.endRow();
  }
  return b.build();
}

/** `weighted_median_col_sparse` on a column-major copy; all-zero columns short-cut (median 0). */
function weightedMedianCols(activeStake: number[], weights: Csr, n: number, kappa: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < activeStake.length; i++) if (activeStake[i] > 0) rows.push(i);
  const useStake = normalizeN(rows.map((i) => activeStake[i]));
  const m = useStake.length;
  let stakeSum = 0;
  for (const s of useStake) stakeSum += s;
  const minority = stakeSum - kappa;
  const start = new Int32Array(n + 1);
  for (const i of rows) for (let p = weights.ptr[i]; p < weights.ptr[i + 1]; p++) start[weights.col[p] + 1]++;
  for (let c = 0; c < n; c++) start[c + 1] += start[c];
  const fill = start.slice(0, n);
  const ks = new Int32Array(start[n]);
  const vs = new Float64Array(start[n]);
  // row order within a column is kept, so a later duplicate uid in a row overwrites, as in the Rust
  for (let k = 0; k < m; k++) {
    const i = rows[k];
    for (let p = weights.ptr[i]; p < weights.ptr[i + 1]; p++) { const q = fill[weights.col[p]]++; ks[q] = k; vs[q] = weights.val[p]; }
  }
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

/** `interpolate_sparse`: only columns present in the first row can be positive (clipped ⊆ weights). */
function interpolate(m1: Csr, m2: Csr, ratio: number, n: number): Csr {
  const a = new Scratch(n);
  const b = new Scratch(n);
  const out = new CsrBuilder(n, nnz(m1));
  for (let i = 0; i < n; i++) {
    for (let p = m1.ptr[i]; p < m1.ptr[i + 1]; p++) a.set(m1.col[p], m1.val[p]);
    for (let p = m2.ptr[i]; p < m2.ptr[i + 1]; p++) b.set(m2.col[p], m2.val[p]);
    for (const j of a.sortedColumns()) {
      const v1 = a.val[j];
      const v = v1 + mulFloor(ratio, b.get(j) - v1);
      if (v > 0) out.push(j, v);
    }
    a.clear();
    b.clear();
    out.endRow();
  }
  return out.build();
}

/** Bond rows with columns of uids registered since the last epoch dropped; `conv` maps the stored u16. */
function maskedBonds(rows: SparseRow[], lastTempo: number, bar: readonly number[], n: number, conv: (u: number) => number): Csr {
  let cap = 0;
  for (let i = 0; i < n; i++) cap += rows[i].length;
  const b = new CsrBuilder(n, cap);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    for (let k = 0; k < row.length; k++) {
      const j = row[k][0];
      // uids ≥ n are kept (the Rust reads bonds unfiltered; they still stop its peekable scans) and
      // skipped by every column operation below
      if (lastTempo > (bar[j] ?? 0)) b.push(j, conv(row[k][1]));
    }
    b.endRow();
  }
  return b.build();
}

/** `mat_ema_sparse`: α·new + (1−α)·old over touched columns, ascending, positives only. */
function ema(next: Csr, old: Csr, alpha: number, n: number): Csr {
  const oneMinus = ONE - alpha;
  const acc = new Scratch(n);
  const out = new CsrBuilder(n, nnz(next) + nnz(old));
  for (let i = 0; i < n; i++) {
    for (let p = next.ptr[i]; p < next.ptr[i + 1]; p++) acc.add(next.col[p], mulFloor(alpha, next.val[p]));
    for (let p = old.ptr[i]; p < old.ptr[i + 1]; p++) if (old.col[p] < n) acc.add(old.col[p], mulFloor(oneMinus, old.val[p]));
    for (const j of acc.sortedColumns()) {
      const v = acc.val[j];
      if (v > 0) out.push(j, v);
    }
    acc.clear();
    out.endRow();
  }
  return out.build();
}

function colNormalize(m: Csr, n: number): void {
  const sums = new Float64Array(n);
  const total = nnz(m);
  for (let p = 0; p < total; p++) if (m.col[p] < n) sums[m.col[p]] += m.val[p];
  for (let p = 0; p < total; p++) {
    const s = m.col[p] < n ? sums[m.col[p]] : 0;
    if (s !== 0) m.val[p] = divTrunc(m.val[p], s);
  }
}

function colMaxUpscale(m: Csr, n: number): void {
  const max = new Float64Array(n);
  const total = nnz(m);
  for (let p = 0; p < total; p++) if (max[m.col[p]] < m.val[p]) max[m.col[p]] = m.val[p];
  for (let p = 0; p < total; p++) {
    const mx = max[m.col[p]];
    if (mx !== 0) m.val[p] = divTrunc(m.val[p], mx);
  }
}

/**
 * `compute_liquid_alpha_values_sparse` + `mat_ema_alpha_sparse`. The Rust reads each row with peekable
 * iterators that assume ascending uids; `peekScan` reproduces what that scan finds, unsorted rows included.
 */
function liquidAlphaEma(input: EpochInput, wfb: Csr, bonds: Csr, consensus: number[]): Csr {
  const n = input.n;
  const lo = u16ProportionToFixed(input.alphaLow);
  const hi = u16ProportionToFixed(input.alphaHigh);
  const steep = fromInt(input.alphaSigmoidSteepness);
  const cache = new Map<number, number>();
  const wAt = new Scratch(n);
  const bAt = new Scratch(n);
  const decayed = new Scratch(n);
  const alphaOf = (j: number): number => {
    const w = wAt.get(j);
    const b = bAt.get(j);
    const d = w >= b ? clamp01(w - consensus[j]) : clamp01(b - w);
    let a = cache.get(d);
    if (a === undefined) { a = Number(alphaFromDiff(BigInt(d), lo, hi, steep)); cache.set(d, a); }
    return a;
  };
  const out = new CsrBuilder(n, nnz(wfb));
  for (let i = 0; i < n; i++) {
    if (wfb.ptr[i] !== wfb.ptr[i + 1]) {
      peekScan(wfb, i, n, wAt);
      peekScan(bonds, i, n, bAt);
      for (let p = bonds.ptr[i]; p < bonds.ptr[i + 1]; p++) {
        const j = bonds.col[p];
        if (j < n) decayed.set(j, mulFloor(ONE - alphaOf(j), bonds.val[p]));
      }
      for (let p = wfb.ptr[i]; p < wfb.ptr[i + 1]; p++) {
        const j = wfb.col[p];
        const inc = Math.max(0, mulFloor(alphaOf(j), wfb.val[p]));
        const v = Math.min(ONE, decayed.get(j) + inc);
        if (v > 0) out.push(j, v);
      }
      wAt.clear();
      bAt.clear();
      decayed.clear();
    }
    out.endRow();
  }
  return out.build();
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > ONE ? ONE : x);

/** Records into `found` the values a Rust peekable scan over j = 0..n finds in row i (first entry equal to j). */
function peekScan(m: Csr, i: number, n: number, found: Scratch): void {
  let p = m.ptr[i];
  const end = m.ptr[i + 1];
  let j = 0;
  while (p < end && j < n) {
    const u = m.col[p];
    if (u < j) p++;
    else if (u === j) { found.set(j, m.val[p]); j++; }
    else j = u;
  }
}
