/**
 * Bittensor SDK v11 `SetWeights` weight conforming (intents/weights.py `_conform`, `clip_to_max_weight`,
 * `normalize`): plain Python floats (float64) end to end, no quantile exclusion, no 1e-5 padding. See
 * docs/weights.md for how it differs from v10's `process_weights_for_netuid`.
 */
import { UserError } from '../../errors.ts';
import { convertWeightsAndUidsForEmit, type EmitWeights } from './emit.ts';
import { processWeightsForNetuid } from './process.ts';

const U16_MAX = 65535;
const EPSILON = 1e-7;

/** Which SDK's weight pipeline to reproduce before `set_weights` / a commit. */
export type WeightsSemantics = 'v10' | 'v11';
export const WEIGHTS_SEMANTICS: readonly WeightsSemantics[] = Object.freeze(['v10', 'v11']);

/**
 * v11 `clip_to_max_weight`: normalise to sum 1 with no entry above `limit`, redistributing the clipped mass.
 * The same cutoff search as v10's normalize_max_weight, in float64 and over the list as given (zeros count
 * towards n). Uniform when `n·limit ≤ 1`; throws when the list is empty or sums to ≤ 0.
 */
export function clipToMaxWeight(weights: readonly number[], limit: number): number[] {
  const n = weights.length;
  let total = 0;
  for (const w of weights) total += w; // Python's sum: sequential float64
  if (n === 0 || !(total > 0)) throw new UserError('all weights are zero; nothing to set');
  if (n * limit <= 1) return weights.map(() => 1 / n);
  const estimation = weights.map((w) => w / total).sort((a, b) => a - b);
  if ((estimation[n - 1] as number) <= limit) return weights.map((w) => w / total);
  const cumsum: number[] = [];
  let acc = 0;
  for (const e of estimation) cumsum.push((acc += e));
  let k = 0;
  for (let i = 0; i < n; i++) {
    const e = estimation[i] as number;
    if (e / ((n - i - 1) * e + (cumsum[i] as number) + EPSILON) < limit) k++;
  }
  const cumAt = cumsum[k >= 1 ? k - 1 : n - 1] as number; // Python index -1 = last, kept on purpose
  const cutoff = ((limit * cumAt - EPSILON) / (1 - limit * (n - k))) * total;
  const clipped = weights.map((w) => Math.min(w, cutoff));
  let clippedTotal = 0;
  for (const w of clipped) clippedTotal += w;
  return clipped.map((w) => w / clippedTotal);
}

export interface ConformV11Params {
  minAllowedWeights: number;
  /** u16 as stored on chain (65535 = no limit: the clip is skipped, as in the SDK). */
  maxWeightsLimit: number;
  /** The setter's own uid: a lone self-weight is exempt from both limits, as on chain. */
  selfUid?: number | null;
}

function checkV11Inputs(uids: readonly number[], weights: readonly number[], p: ConformV11Params): void {
  if (uids.length !== weights.length) throw new UserError(`uids and weights must be equal length: ${uids.length} vs ${weights.length}`);
  for (const u of uids) {
    if (!Number.isInteger(u) || u < 0 || u > U16_MAX) throw new UserError(`invalid uid ${u}: uids must be integers in 0..65535`);
  }
  if (new Set(uids).size !== uids.length) throw new UserError('duplicate uids in weights; each uid may appear once');
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new UserError(`invalid weight ${w}: weights must be finite and non-negative`);
  }
  if (!Number.isInteger(p.minAllowedWeights) || p.minAllowedWeights < 0) throw new UserError(`invalid minAllowedWeights ${p.minAllowedWeights}`);
  if (!Number.isInteger(p.maxWeightsLimit) || p.maxWeightsLimit < 0 || p.maxWeightsLimit > U16_MAX) {
    throw new UserError(`invalid maxWeightsLimit ${p.maxWeightsLimit}: must be a u16`);
  }
}

/**
 * v11 `SetWeights` conforming: clip to the max weight limit (unless it is 65535 or a lone self-weight), then
 * `round(w / max · 65535)` half to even with zeros dropped, then refuse fewer than `minAllowedWeights`
 * non-zero weights (UserError naming both counts) instead of v10's padding.
 */
export function conformWeightsV11(uids: readonly number[], weights: readonly number[], params: ConformV11Params): EmitWeights {
  checkV11Inputs(uids, weights, params);
  const selfWeight = params.selfUid !== undefined && params.selfUid !== null && uids.length === 1 && uids[0] === params.selfUid;
  let floats = [...weights];
  if (!selfWeight && params.maxWeightsLimit < U16_MAX) floats = clipToMaxWeight(floats, params.maxWeightsLimit / U16_MAX);
  const emit = convertWeightsAndUidsForEmit([...uids], floats);
  if (emit.uids.length === 0) throw new UserError('all weights are zero; nothing to set');
  if (!selfWeight && emit.uids.length < params.minAllowedWeights) {
    throw new UserError(
      `too few non-zero weights: the subnet requires at least ${params.minAllowedWeights}, only ${emit.uids.length} are non-zero after normalization`,
      { hint: 'score more miners, or use weightsSemantics v10 (pads every uid with 1e-5)' },
    );
  }
  return emit;
}

export interface WeightsForChainParams {
  semantics: WeightsSemantics;
  minAllowedWeights: number;
  maxWeightsLimit: number;
  /** Number of neurons (v10 only; defaults to the number of weights). */
  n?: number;
  /** v10 only, u16-scaled; v11 has no quantile exclusion (a non-zero value there is refused). */
  excludeQuantile?: number;
  /** v11 only: the setter's uid (self-weight exemption). */
  selfUid?: number | null;
}

/** Weights → the u16 vector `set_weights` takes, under the chosen SDK's semantics. */
export function weightsForChain(uids: readonly number[], weights: readonly number[], p: WeightsForChainParams): EmitWeights {
  if (p.semantics === 'v11') {
    if ((p.excludeQuantile ?? 0) !== 0) throw new UserError('exclude quantile is a v10 feature; SDK v11 SetWeights has none', { hint: 'drop it, or use v10 semantics' });
    return conformWeightsV11(uids, weights, { minAllowedWeights: p.minAllowedWeights, maxWeightsLimit: p.maxWeightsLimit, selfUid: p.selfUid });
  }
  const processed = processWeightsForNetuid([...uids], [...weights], { minAllowedWeights: p.minAllowedWeights, maxWeightsLimit: p.maxWeightsLimit, n: p.n, excludeQuantile: p.excludeQuantile });
  return convertWeightsAndUidsForEmit(processed.uids, processed.weights);
}
