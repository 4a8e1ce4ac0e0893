import { UserError } from '../../errors.ts';
import { roundHalfEven } from './float.ts';

const U16_MAX = 65535;

export interface EmitWeights {
  uids: number[];
  /** u16 values, max-upscaled so the largest is 65535; zeros dropped. */
  values: number[];
}

/**
 * SDK `convert_weights_and_uids_for_emit`: divide by the max (in float64, as Python does), multiply by
 * 65535, round half to even (Python `round`) and drop entries that round to 0.
 * Errors (UserError) on negative weights, negative/non-integer uids or a length mismatch, checked in the
 * SDK's order. Deviations: an empty input returns empty lists (the SDK crashes in `min([])`), and uids
 * above 65535 are rejected here rather than at SCALE encoding.
 */
export function convertWeightsAndUidsForEmit(uids: number[], weights: number[]): EmitWeights {
  if (uids.length === 0 && weights.length === 0) return { uids: [], values: [] };
  for (const w of weights) {
    if (!Number.isFinite(w)) throw new UserError(`weight ${w} is not a finite number`);
  }
  for (const w of weights) {
    if (w < 0) throw new UserError(`weight ${w} is negative and cannot exist on chain`);
  }
  for (const u of uids) {
    if (!Number.isInteger(u)) throw new UserError(`uid ${u} is not an integer`);
    if (u < 0) throw new UserError(`uid ${u} is negative and cannot exist on chain`);
    if (u > U16_MAX) throw new UserError(`uid ${u} does not fit in a u16`);
  }
  if (uids.length !== weights.length) {
    throw new UserError(`uids and weights must have the same length, got ${uids.length} and ${weights.length}`);
  }
  // Python's built-in sum is sequential left-to-right in float64.
  let sum = 0;
  for (const w of weights) sum += w;
  if (sum === 0) return { uids: [], values: [] };
  let max = -Infinity;
  for (const w of weights) if (w > max) max = w;
  const out: EmitWeights = { uids: [], values: [] };
  for (let i = 0; i < weights.length; i++) {
    const value = roundHalfEven((weights[i] / max) * U16_MAX);
    if (value !== 0) {
      out.uids.push(uids[i]);
      out.values.push(value);
    }
  }
  return out;
}

/**
 * SDK `convert_and_normalize_weights_and_uids`, the path `set_weights` and `reveal_weights` take: plain
 * lists become float32 arrays first, so weights are rounded to float32 before the max-upscale.
 */
export function convertAndNormalizeWeightsAndUids(uids: number[], weights: number[]): EmitWeights {
  return convertWeightsAndUidsForEmit(uids, weights.map((w) => Math.fround(w)));
}
