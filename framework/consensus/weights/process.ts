/**
 * Client-side weight processing, reproducing bittensor SDK v10 `utils/weight_utils.py` under numpy 2
 * (NEP 50 promotion: Python floats are "weak" and take the array's dtype). See docs/weights.md.
 */
import { UserError } from '../../errors.ts';
import { npCumsum, npQuantileLinear, npSum, rounderFor, type FloatDtype } from './float.ts';

const U16_MAX = 65535;
const EPSILON = 1e-7;

export interface NormalizeOptions {
  /** numpy dtype of `x`; the SDK passes float32 arrays except in the "too few weights" branch (float64). */
  dtype?: FloatDtype;
}

/**
 * SDK `normalize_max_weight`: scale `x` to sum 1 while clipping so no entry exceeds `limit`.
 * Quirks kept on purpose: uniform output when `n·limit ≤ 1`; `cumsum[k−1]` with k = 0 wraps to the last entry.
 */
export function normalizeMaxWeight(x: number[], limit = 0.1, options: NormalizeOptions = {}): number[] {
  const dtype = options.dtype ?? 'float32';
  const r = rounderFor(dtype);
  const n = x.length;
  if (n === 0) return [];
  const weights = x.map((v) => r(v));
  const lim = r(limit); // weak Python float compared against / multiplied with the array dtype
  const eps = r(EPSILON);

  if (npSum(weights, dtype) === 0 || n * limit <= 1) {
    return weights.map(() => r(1 / n));
  }
  const values = Array.from(Float64Array.from(weights).sort());
  const valuesSum = npSum(values, dtype);
  const estimation = values.map((v) => r(v / valuesSum));
  if (estimation[n - 1] <= lim) { // sorted ascending: the last is the max
    const s = npSum(weights, dtype);
    return weights.map((w) => r(w / s));
  }
  const cumsum = npCumsum(estimation, dtype);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const estSum = r((n - i - 1) * estimation[i]);
    const ratio = r(estimation[i] / r(r(estSum + cumsum[i]) + eps));
    if (ratio < lim) k++;
  }
  const cumAt = cumsum[k - 1 >= 0 ? k - 1 : n - 1]; // numpy index -1 = last
  const numerator = r(r(lim * cumAt) - eps);
  // k is an np.int64, so `limit * (n − k)` is a strong float64 and promotes the rest of the cutoff
  // arithmetic to float64; only the assignment back into the array rounds to the dtype.
  const denominator = 1 - limit * (n - k);
  const cutoff = (numerator / denominator) * valuesSum;
  const clipped = weights.map((w) => (w > cutoff ? r(cutoff) : w));
  const s = npSum(clipped, dtype);
  return clipped.map((w) => r(w / s));
}

export interface ProcessWeightsParams {
  minAllowedWeights: number;
  /** u16 as stored on chain; normalised by /65535 like the SDK's `max_weight_limit`. */
  maxWeightsLimit: number;
  /** Number of neurons (metagraph.n); defaults to `uids.length`. */
  n?: number;
  /** u16-scaled like the SDK (quantile = excludeQuantile / 65535); default 0. */
  excludeQuantile?: number;
}

export interface ProcessedWeights {
  uids: number[];
  /** float32 values (float64 in the two fallback branches), as JS numbers. */
  weights: number[];
}

function checkInputs(uids: number[], weights: number[], params: ProcessWeightsParams): number {
  if (uids.length !== weights.length) {
    throw new UserError(`uids and weights differ in length (${uids.length} vs ${weights.length})`);
  }
  for (const u of uids) {
    if (!Number.isInteger(u) || u < 0) throw new UserError(`invalid uid ${u}: uids must be non-negative integers`);
  }
  for (const w of weights) {
    if (!Number.isFinite(Math.fround(w))) throw new UserError(`invalid weight ${w}: weights must be finite float32 values`);
  }
  const n = params.n ?? uids.length;
  if (!Number.isInteger(n) || n < 0) throw new UserError(`invalid n ${n}: must be a non-negative integer`);
  if (!Number.isInteger(params.minAllowedWeights) || params.minAllowedWeights < 0) {
    throw new UserError(`invalid minAllowedWeights ${params.minAllowedWeights}`);
  }
  if (!Number.isInteger(params.maxWeightsLimit) || params.maxWeightsLimit < 0 || params.maxWeightsLimit > U16_MAX) {
    throw new UserError(`invalid maxWeightsLimit ${params.maxWeightsLimit}: must be a u16`);
  }
  const q = params.excludeQuantile ?? 0;
  if (!Number.isInteger(q) || q < 0 || q > U16_MAX) throw new UserError(`invalid excludeQuantile ${q}: must be a u16`);
  return n;
}

/**
 * SDK `process_weights_for_netuid` / `process_weights` with the chain parameters passed in:
 * 1. no non-zero weight, or n < minAllowedWeights → all uids, uniform 1/n (float64);
 * 2. fewer non-zero weights than minAllowedWeights → every uid gets 1e-5 plus its weight, then
 *    normalizeMaxWeight in float64 (the SDK places weights by *position*, returning uids 0..n−1);
 * 3. otherwise drop non-zero weights below the exclude quantile (capped so ≥ minAllowedWeights remain)
 *    and normalizeMaxWeight in float32.
 */
export function processWeightsForNetuid(
  uids: number[],
  weights: number[],
  params: ProcessWeightsParams,
): ProcessedWeights {
  const n = checkInputs(uids, weights, params);
  const minAllowed = params.minAllowedWeights;
  const limit = params.maxWeightsLimit / U16_MAX;
  const quantile = (params.excludeQuantile ?? 0) / U16_MAX;
  const w32 = weights.map((w) => Math.fround(w));
  const nzIdx: number[] = [];
  for (let i = 0; i < w32.length; i++) if (w32[i] > 0) nzIdx.push(i);
  const arange = (m: number): number[] => Array.from({ length: m }, (_, i) => i);

  if (nzIdx.length === 0 || n < minAllowed) {
    return { uids: arange(n), weights: arange(n).map(() => 1 / n) };
  }
  if (nzIdx.length < minAllowed) {
    const padded = arange(n).map(() => 1e-5);
    for (const i of nzIdx) {
      if (i >= n) throw new UserError(`weight index ${i} out of range for n = ${n}`, { hint: 'pass n ≥ number of weights' });
      padded[i] += w32[i];
    }
    return { uids: arange(n), weights: normalizeMaxWeight(padded, limit, { dtype: 'float64' }) };
  }
  const nzWeights = nzIdx.map((i) => w32[i]);
  const maxExclude = Math.max(0, nzWeights.length - minAllowed) / nzWeights.length;
  const lowest = npQuantileLinear(nzWeights, Math.min(quantile, maxExclude), 'float32');
  const keep = nzIdx.filter((i) => lowest <= w32[i]);
  return {
    uids: keep.map((i) => uids[i]),
    weights: normalizeMaxWeight(keep.map((i) => w32[i]), limit, { dtype: 'float32' }),
  };
}
