/**
 * Subnet hyperparameters read by subtensor's storage names in one batched query. Items a runtime
 * does not have take the value that describes that runtime's behaviour (e.g. no `BondsPenalty` on
 * spec 185: its original Yuma clipped bonds fully, i.e. penalty 65 535; no liquid alpha, no Yuma 3).
 */
import type { ApiDecoration } from '@polkadot/api/types';
import type { Codec } from '@polkadot/types/types';
import type { SubnetHyperparameters } from '../types.ts';

type At = ApiDecoration<'promise'>;

/** Our field → subtensor storage item (camelCase as @polkadot/api names it), value when absent. */
const ITEMS: Array<[keyof SubnetHyperparameters, string, unknown]> = [
  ['tempo', 'tempo', 360],
  ['kappa', 'kappa', 32_767],
  ['rho', 'rho', 10],
  ['immunityPeriod', 'immunityPeriod', 4096],
  ['minAllowedWeights', 'minAllowedWeights', 1024],
  ['maxWeightsLimit', 'maxWeightsLimit', 65_535],
  ['weightsSetRateLimit', 'weightsSetRateLimit', 100],
  ['weightsVersionKey', 'weightsVersionKey', 0n],
  ['activityCutoff', 'activityCutoff', 5000],
  ['maxAllowedValidators', 'maxAllowedValidators', 128],
  ['maxAllowedUids', 'maxAllowedUids', 4096],
  ['bondsMovingAverage', 'bondsMovingAverage', 900_000n],
  ['bondsPenalty', 'bondsPenalty', 65_535],
  ['bondsResetOn', 'bondsResetOn', false],
  ['commitRevealWeightsEnabled', 'commitRevealWeightsEnabled', false],
  ['revealPeriodEpochs', 'revealPeriodEpochs', 1],
  ['liquidAlphaOn', 'liquidAlphaOn', false],
  ['alphaSigmoidSteepness', 'alphaSigmoidSteepness', 1000],
  ['yuma3On', 'yuma3On', false],
  ['servingRateLimit', 'servingRateLimit', 50],
  ['burn', 'burn', 1_000_000_000n],
  ['minBurn', 'minBurn', 500_000n],
  ['maxBurn', 'maxBurn', 100_000_000_000n],
];

function asValue(c: Codec, like: unknown): unknown {
  if (typeof like === 'bigint') return BigInt((c as unknown as { toBigInt?: () => bigint }).toBigInt?.() ?? String(c.toPrimitive()));
  if (typeof like === 'boolean') return c.toPrimitive() === true;
  const p = c.toPrimitive();
  return typeof p === 'number' ? p : Number(p);
}

export async function readHyperparameters(at: At, netuid: number): Promise<SubnetHyperparameters> {
  const q = at.query.subtensorModule as unknown as Record<string, unknown>;
  const present = ITEMS.filter(([, name]) => q[name]);
  const extra: Array<[string, unknown]> = [];
  // spec 185 keeps the reveal interval in blocks (WeightCommitRevealInterval); converted below
  if (!q.revealPeriodEpochs && q.weightCommitRevealInterval) extra.push(['weightCommitRevealInterval', netuid]);
  if (q.alphaValues) extra.push(['alphaValues', netuid]);
  const query = [...present.map(([, name]) => [q[name], netuid]), ...extra.map(([name, arg]) => [q[name], arg])];
  const values = await at.queryMulti(query as Parameters<At['queryMulti']>[0]);
  const out: Record<string, unknown> = {};
  for (const [key, , absent] of ITEMS) out[key] = absent;
  present.forEach(([key, , absent], i) => (out[key] = asValue(values[i] as Codec, absent)));
  extra.forEach(([name], j) => {
    const v = values[present.length + j] as Codec;
    if (name === 'alphaValues') {
      const [low, high] = v.toJSON() as [number, number];
      out.alphaLow = low;
      out.alphaHigh = high;
    } else {
      const blocks = Number(v.toPrimitive());
      out.revealPeriodEpochs = Math.max(1, Math.ceil(blocks / ((out.tempo as number) + 1)));
    }
  });
  if (!q.alphaValues) {
    out.alphaLow = 45_875;
    out.alphaHigh = 58_982;
  }
  return out as unknown as SubnetHyperparameters;
}
