import type { Metagraph, SubnetHyperparameters } from '../chain/types.ts';
import type { WeightTransform } from '../commodity/transforms.ts';
import { convertWeightsAndUidsForEmit, type EmitWeights } from '../consensus/weights/emit.ts';
import { processWeightsForNetuid } from '../consensus/weights/process.ts';
import { conformWeightsV11, type WeightsSemantics } from '../consensus/weights/v11.ts';

/**
 * Scores by hotkey → the u16 vector to put on chain: the commodity's transform over uids (unscored = NaN,
 * the validator's own uid excluded), then the SDK-exact processing (min-allowed weights, max weight
 * limit) and u16 conversion. Returns null when no miner has a positive score (nothing worth setting).
 * `semantics` 'v11' conforms only the positively scored uids (an unscored miner never gets weight) and throws
 * a UserError when fewer than minAllowedWeights remain; 'v10' (default) pads and never throws for that.
 */
export function computeEmitWeights(
  scores: ReadonlyMap<string, number>,
  metagraph: Metagraph,
  hyper: Pick<SubnetHyperparameters, 'minAllowedWeights' | 'maxWeightsLimit'>,
  transform: WeightTransform,
  selfUid: number | null,
  semantics: WeightsSemantics = 'v10',
): EmitWeights | null {
  const raw = metagraph.hotkeys.map((hk, uid) => (uid === selfUid ? Number.NaN : (scores.get(hk) ?? Number.NaN)));
  const transformed = transform(raw).map((w) => (Number.isFinite(w) && w > 0 ? w : 0));
  if (!transformed.some((w) => w > 0)) return null;
  const uids = transformed.map((_, uid) => uid);
  if (semantics === 'v11') {
    const scored = uids.filter((u) => (transformed[u] as number) > 0);
    return conformWeightsV11(scored, scored.map((u) => transformed[u] as number), hyper);
  }
  const processed = processWeightsForNetuid(uids, transformed, {
    minAllowedWeights: hyper.minAllowedWeights,
    maxWeightsLimit: hyper.maxWeightsLimit,
    n: metagraph.n,
  });
  const emit = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
  return emit.uids.length > 0 ? emit : null;
}
