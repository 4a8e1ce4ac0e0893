import type { Metagraph, SubnetHyperparameters } from '../chain/types.ts';
import type { WeightTransform } from '../commodity/transforms.ts';
import { convertWeightsAndUidsForEmit, type EmitWeights } from '../consensus/weights/emit.ts';
import { processWeightsForNetuid } from '../consensus/weights/process.ts';

/**
 * Scores by hotkey → the u16 vector to put on chain: the commodity's transform over uids (unscored = NaN,
 * the validator's own uid excluded), then the SDK-exact processing (min-allowed weights, max weight
 * limit) and u16 conversion. Returns null when no miner has a positive score (nothing worth setting).
 */
export function computeEmitWeights(
  scores: ReadonlyMap<string, number>,
  metagraph: Metagraph,
  hyper: Pick<SubnetHyperparameters, 'minAllowedWeights' | 'maxWeightsLimit'>,
  transform: WeightTransform,
  selfUid: number | null,
): EmitWeights | null {
  const raw = metagraph.hotkeys.map((hk, uid) => (uid === selfUid ? Number.NaN : (scores.get(hk) ?? Number.NaN)));
  const transformed = transform(raw).map((w) => (Number.isFinite(w) && w > 0 ? w : 0));
  if (!transformed.some((w) => w > 0)) return null;
  const uids = transformed.map((_, uid) => uid);
  const processed = processWeightsForNetuid(uids, transformed, {
    minAllowedWeights: hyper.minAllowedWeights,
    maxWeightsLimit: hyper.maxWeightsLimit,
    n: metagraph.n,
  });
  const emit = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
  return emit.uids.length > 0 ? emit : null;
}
