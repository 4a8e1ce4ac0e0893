/**
 * Straightforward BigInt port of subtensor's sparse `epoch_mechanism` (epoch/run_epoch.rs, math.rs at
 * 14bc6f9). Every helper mirrors the Rust function of the same name, including its quirks, so this file
 * is the yardstick the optimised `runEpoch` (epoch.ts) is tested against. Slow on big subnets by design.
 */
import type { EpochInput, EpochOutput, SparseRow } from './types.ts';
import {
  ONE, alphaSigmoid, checkedMul, emaAlphaFromMovingAverage, fromInt, normalize, proportionTimesRao,
  proportionToU16, safeDiv, satAdd, satMul, satSub, sum, u16ProportionToFixed,
} from './fixed.ts';

/** A sparse I32F32 row: [column, raw bits]. */
type FRow = Array<[number, bigint]>;

export function isTopkNonzero(vector: readonly bigint[], k: number): boolean[] {
  const n = vector.length;
  const result = vector.map((v) => v !== 0n);
  if (n < k) return result;
  const idxs = [...Array(n).keys()];
  idxs.sort((a, b) => (vector[a] < vector[b] ? -1 : vector[a] > vector[b] ? 1 : 0)); // stable ascending
  for (const idx of idxs.slice(0, n - k)) result[idx] = false;
  return result;
}

function maskRowsSparse(mask: readonly boolean[], m: FRow[]): FRow[] {
  return m.map((row, i) => (mask[i] ?? true ? [] : row.slice()));
}

function maskDiag(m: FRow[], owner: number | null): FRow[] {
  return m.map((row, i) => row.filter(([j]) => i !== j || (owner !== null && i === owner && j === owner)));
}

function vecMaskSparse(m: FRow[], first: readonly number[], second: readonly number[], fn: (a: number, b: number) => boolean): FRow[] {
  return m.map((row, i) => row.filter(([j]) => !fn(first[i] ?? 0, second[j] ?? 0)));
}

function scalarVecMaskSparse(m: FRow[], scalar: number, vec: readonly number[], fn: (a: number, b: number) => boolean): FRow[] {
  return m.map((row) => row.filter(([j]) => !fn(scalar, vec[j] ?? 0)));
}

function rowNormalizeSparse(m: FRow[]): void {
  for (const row of m) {
    const s = sum(row.map(([, v]) => v));
    if (s > 0n) for (const e of row) e[1] = safeDiv(e[1], s);
  }
}

function colNormalizeSparse(m: FRow[], columns: number): void {
  const colSum = new Array<bigint>(columns).fill(0n);
  for (const row of m) for (const [j, v] of row) if (j < columns) colSum[j] = satAdd(colSum[j], v);
  for (const row of m) {
    for (const e of row) {
      const d = e[0] < columns ? colSum[e[0]] : 0n;
      if (d !== 0n) e[1] = safeDiv(e[1], d);
    }
  }
}

function colMaxUpscaleSparse(m: FRow[], columns: number): void {
  const colMax = new Array<bigint>(columns).fill(0n);
  for (const row of m) for (const [j, v] of row) if (j < columns && colMax[j] < v) colMax[j] = v;
  for (const row of m) {
    for (const e of row) {
      const mx = e[0] < columns ? colMax[e[0]] : 0n;
      if (mx !== 0n) e[1] = safeDiv(e[1], mx);
    }
  }
}

function rowSumSparse(m: FRow[]): bigint[] {
  return m.map((row) => sum(row.map(([, v]) => v)));
}

function matmulSparse(m: FRow[], vector: readonly bigint[], columns: number): bigint[] {
  const r = new Array<bigint>(columns).fill(0n);
  m.forEach((row, i) => {
    const scale = vector[i] ?? 0n;
    for (const [j, v] of row) if (j < columns) r[j] = satAdd(r[j], satMul(scale, v));
  });
  return r;
}

function matmulTransposeSparse(m: FRow[], vector: readonly bigint[]): bigint[] {
  return m.map((row) => {
    let acc = 0n;
    for (const [j, v] of row) acc = satAdd(acc, satMul(vector[j] ?? 0n, v));
    return acc;
  });
}

function rowHadamardSparse(m: FRow[], vector: readonly bigint[]): FRow[] {
  return m.map((row, i) => row.map(([j, v]): [number, bigint] => [j, satMul(v, vector[i])]));
}

function colClipSparse(m: FRow[], threshold: readonly bigint[]): FRow[] {
  return m.map((row) => {
    const out: FRow = [];
    for (const [j, v] of row) {
      const th = threshold[j] ?? 0n;
      if (th < v) {
        if (th > 0n) out.push([j, th]);
      } else out.push([j, v]);
    }
    return out;
  });
}

/** `weighted_median`: deterministic quickselect with the mid-list pivot. */
export function weightedMedian(stake: readonly bigint[], score: readonly bigint[], partition: readonly number[], minority: bigint, lo: bigint, hi: bigint): bigint {
  let current = partition.slice();
  const limit = partition.length;
  for (let iter = 0; ; ) {
    const n = current.length;
    if (n === 0) return 0n;
    if (n === 1) return score[current[0]] ?? 0n;
    const pivot = score[current[n >> 1]] ?? 0n;
    let loStake = 0n;
    let hiStake = 0n;
    const lower: number[] = [];
    const upper: number[] = [];
    for (const idx of current) {
      const s = score[idx] ?? 0n;
      if (s === pivot) continue;
      if (s < pivot) {
        loStake = satAdd(loStake, stake[idx] ?? 0n);
        lower.push(idx);
      } else {
        hiStake = satAdd(hiStake, stake[idx] ?? 0n);
        upper.push(idx);
      }
    }
    if (minority < satAdd(lo, loStake) && lower.length > 0) {
      current = lower;
      hi = satAdd(lo, loStake);
    } else if (satSub(hi, hiStake) <= minority && upper.length > 0) {
      current = upper;
      lo = satSub(hi, hiStake);
    } else return pivot;
    iter++;
    if (iter > limit) return 0n;
  }
}

/** `weighted_median_col_sparse`. */
export function weightedMedianColSparse(stake: readonly bigint[], score: FRow[], columns: number, majority: bigint): bigint[] {
  const useStake = normalize(stake.filter((s) => s > 0n));
  const stakeSum = sum(useStake);
  const minority = satSub(stakeSum, majority);
  const idx = [...Array(useStake.length).keys()];
  const useScore: bigint[][] = Array.from({ length: columns }, () => new Array<bigint>(useStake.length).fill(0n));
  let k = 0;
  for (let i = 0; i < Math.min(stake.length, score.length); i++) {
    if (stake[i] > 0n) {
      for (const [c, v] of score[i]) if (c < columns) useScore[c][k] = v;
      k++;
    }
  }
  return useScore.map((col) => weightedMedian(useStake, col, idx, minority, 0n, stakeSum));
}

function interpolateSparse(m1: FRow[], m2: FRow[], columns: number, ratio: bigint): FRow[] {
  if (ratio === 0n) return m1.map((r) => r.map(([j, v]): [number, bigint] => [j, v]));
  if (ratio === ONE) return m2.map((r) => r.map(([j, v]): [number, bigint] => [j, v]));
  return m1.map((r1, i) => {
    const row1 = new Array<bigint>(columns).fill(0n);
    for (const [j, v] of r1) if (j < columns) row1[j] = v;
    const row2 = new Array<bigint>(columns).fill(0n);
    for (const [j, v] of m2[i]) if (j < columns) row2[j] = v;
    const out: FRow = [];
    for (let j = 0; j < columns; j++) {
      const x = satAdd(row1[j], satMul(ratio, satSub(row2[j], row1[j])));
      if (x > 0n) out.push([j, x]);
    }
    return out;
  });
}

function matEmaSparse(next: FRow[], old: FRow[], alpha: bigint): FRow[] {
  const n = next.length;
  const oneMinus = satSub(ONE, alpha);
  return next.map((row, i) => {
    const acc = new Array<bigint>(n).fill(0n);
    for (const [j, v] of row) if (j < n) acc[j] = satAdd(acc[j], satMul(alpha, v));
    for (const [j, v] of old[i] ?? []) if (j < n) acc[j] = satAdd(acc[j], satMul(oneMinus, v));
    const out: FRow = [];
    acc.forEach((v, j) => { if (v > 0n) out.push([j, v]); });
    return out;
  });
}

/** `compute_liquid_alpha_values_sparse`: rows are read with peekable iterators that assume sorted uids. */
function liquidAlphaSparse(weights: FRow[], bonds: FRow[], consensus: readonly bigint[], lo: bigint, hi: bigint, steep: bigint): bigint[][] {
  return weights.map((wRow, r) => {
    const bRow = bonds[r];
    const out: bigint[] = [];
    let wi = 0;
    let bi = 0;
    for (let j = 0; j < consensus.length; j++) {
      let w = 0n;
      while (wi < wRow.length) {
        if (wRow[wi][0] < j) wi++;
        else { if (wRow[wi][0] === j) w = wRow[wi][1]; break; }
      }
      let b = 0n;
      while (bi < bRow.length) {
        if (bRow[bi][0] < j) bi++;
        else { if (bRow[bi][0] === j) b = bRow[bi][1]; break; }
      }
      out.push(alphaSigmoid(consensus[j], w, b, lo, hi, steep));
    }
    return out;
  });
}

function matEmaAlphaSparse(next: FRow[], old: FRow[], alpha: bigint[][]): FRow[] {
  return next.map((row, i) => {
    const aRow = alpha[i];
    const decayed = new Array<bigint>(aRow.length).fill(0n);
    for (const [j, v] of old[i]) if (j < aRow.length) decayed[j] = satMul(satSub(ONE, aRow[j]), v);
    const out: FRow = [];
    for (const [j, v] of row) {
      if (j >= aRow.length) continue;
      let inc = satMul(aRow[j], v);
      if (inc < 0n) inc = 0n;
      let val = satAdd(decayed[j], inc);
      if (val > ONE) val = ONE;
      if (val > 0n) out.push([j, val]);
    }
    return out;
  });
}

const toFRow = (row: SparseRow, n: number, conv: (u: number) => bigint): FRow =>
  row.filter(([j]) => j < n).map(([j, u]): [number, bigint] => [j, conv(u)]);

/** Reference epoch: the exact, unoptimised port. Same contract as `runEpoch`. */
export function runEpochReference(input: EpochInput): EpochOutput {
  const n = input.n;
  const inactive = input.lastUpdate.map((u) => u + input.activityCutoff < input.currentBlock);
  const active = inactive.map((b) => !b);
  const bar = input.blockAtRegistration;
  const owner = input.ownerUid !== null && input.ownerUid < n ? input.ownerUid : null;

  // Stake: normalise in I64F64 (raw s·2^64), then truncate the low 32 bits into I32F32.
  const I64F64_MAX = (1n << 127n) - 1n;
  const stake64 = input.stake.map((s) => { const r = s << 64n; return r > I64F64_MAX ? I64F64_MAX : r; });
  const total = stake64.reduce((a, b) => a + b, 0n);
  const stake = stake64.map((s) => (total === 0n ? s : (s << 64n) / total) >> 32n);

  const permits = input.validatorPermit.slice(0, n);
  if (owner !== null && owner < permits.length) permits[owner] = true;
  const forbids = permits.map((p) => !p);
  const newPermits = isTopkNonzero(stake, input.maxAllowedValidators);
  if (owner !== null) newPermits[owner] = true;

  let activeStake = stake.map((s, i) => ((inactive[i] ?? true) || (forbids[i] ?? true) ? 0n : s));
  activeStake = normalize(activeStake);

  let weights: FRow[] = input.weights.map((r) => toFRow(r, n, (u) => fromInt(u)));
  weights = maskRowsSparse(forbids, weights);
  weights = maskDiag(weights, owner);
  weights = vecMaskSparse(weights, input.lastUpdate, bar, (u, r) => u <= r);
  if (input.commitRevealEnabled) {
    const cb = input.earliestCommitBlock.map((b) => (b === null ? Number.POSITIVE_INFINITY : b));
    weights = vecMaskSparse(weights, cb, bar, (c, r) => c < r);
  }
  rowNormalizeSparse(weights);

  const kappa = u16ProportionToFixed(input.kappa);
  const consensus = weightedMedianColSparse(activeStake, weights, n, kappa);
  const clipped = colClipSparse(weights, consensus);
  const validatorTrust = rowSumSparse(clipped);
  const incentive = normalize(matmulSparse(clipped, activeStake, n));

  const beta = u16ProportionToFixed(input.bondsPenalty);
  const wfb = interpolateSparse(weights, clipped, n, beta);
  const lastTempo = input.lastMechanismStepBlock === 0
    ? Math.max(0, input.currentBlock - input.tempo) : input.lastMechanismStepBlock + 1;

  let dividends: bigint[];
  let emaBonds: FRow[];
  if (input.yuma3) {
    let bonds = input.bonds.map((r) => r.map(([j, u]): [number, bigint] => [j, safeDiv(fromInt(u), fromInt(65535))]));
    bonds = scalarVecMaskSparse(bonds, lastTempo, bar, (t, r) => t <= r);
    if (input.liquidAlpha && consensus.length > 0 && consensus.some((c) => c !== 0n)) {
      const alphas = liquidAlphaSparse(wfb, bonds, consensus, u16ProportionToFixed(input.alphaLow),
        u16ProportionToFixed(input.alphaHigh), fromInt(input.alphaSigmoidSteepness));
      emaBonds = matEmaAlphaSparse(wfb, bonds, alphas);
    } else {
      emaBonds = matEmaSparse(wfb, bonds, emaAlphaFromMovingAverage(input.bondsMovingAverage));
    }
    const norm = emaBonds.map((r) => r.map(([j, v]): [number, bigint] => [j, v]));
    colNormalizeSparse(norm, n);
    const perValidator = norm.map((row) => {
      let s = 0n;
      for (const [j, v] of row) { const x = satMul(v, incentive[j] ?? 0n); s += x; }
      return s;
    });
    dividends = normalize(perValidator.map((t, i) => checkedMul(t, activeStake[i]) ?? 0n));
  } else {
    let bonds = input.bonds.map((r) => r.map(([j, u]): [number, bigint] => [j, fromInt(u)]));
    bonds = scalarVecMaskSparse(bonds, lastTempo, bar, (t, r) => t <= r);
    colNormalizeSparse(bonds, n);
    const delta = rowHadamardSparse(wfb, activeStake);
    colNormalizeSparse(delta, n);
    emaBonds = matEmaSparse(delta, bonds, emaAlphaFromMovingAverage(input.bondsMovingAverage));
    colNormalizeSparse(emaBonds, n);
    dividends = normalize(matmulTransposeSparse(emaBonds, incentive));
    colMaxUpscaleSparse(emaBonds, n);
  }

  const combined = incentive.map((x, i) => satAdd(x, dividends[i]));
  const esum = sum(combined);
  let nServer = incentive;
  let nValidator = dividends;
  let nCombined = normalize(combined);
  if (esum !== 0n) {
    nServer = incentive.map((x) => safeDiv(x, esum));
    nValidator = dividends.map((x) => safeDiv(x, esum));
  } else {
    const fallback = sum(activeStake) === 0n ? stake : activeStake;
    nValidator = fallback;
    nCombined = fallback;
  }
  const E = input.emission;
  const u16 = (xs: bigint[]) => xs.map(proportionToU16);
  return {
    active,
    validatorPermit: newPermits,
    consensus: u16(consensus),
    incentive: u16(incentive),
    dividends: u16(dividends),
    validatorTrust: u16(validatorTrust),
    emission: nCombined.map((x) => proportionTimesRao(x, E)),
    serverEmission: nServer.map((x) => proportionTimesRao(x, E)),
    validatorEmission: nValidator.map((x) => proportionTimesRao(x, E)),
    bonds: emaBonds.map((row, i) => {
      if (newPermits[i]) return row.map(([j, v]): [number, number] => [j, proportionToU16(v)]);
      if (permits[i]) return [];
      return null;
    }),
  };
}
