/**
 * Ready-made epoch inputs for benchmarks, tests and demos: a real mainnet metagraph converted to what
 * subtensor stores, and a seeded synthetic subnet of any size. Pure: callers do the file reading.
 */
import { z } from 'zod';
import type { EpochInput, SparseRow } from './types.ts';
import { runEpoch } from './epoch.ts';

/** The shape of /work/shared/data/mainnet-sn15-metagraph.json (SDK metagraph: TAO stake, normalised rows). */
export const metagraphSchema = z.object({
  netuid: z.number().int(),
  block: z.number().int().nonnegative(),
  stake: z.array(z.number().nonnegative()),
  weights: z.array(z.array(z.tuple([z.number().int().nonnegative(), z.number().nonnegative()]))),
});
export type MetagraphJson = z.infer<typeof metagraphSchema>;

/** Max-upscale a normalised row to stored u16 (largest entry 65535), as `set_weights` stores it. */
export function maxUpscaleRow(row: ReadonlyArray<readonly [number, number]>): SparseRow {
  const max = row.reduce((m, [, w]) => Math.max(m, w), 0);
  if (max <= 0) return row.map(([j]): [number, number] => [j, 0]);
  return row.map(([j, w]): [number, number] => [j, Math.round((w / max) * 65535)]);
}

export interface ScenarioOptions {
  yuma3?: boolean;
  liquidAlpha?: boolean;
  /** Epochs run first (outputs fed back) so bonds are realistic; default 3. */
  warmupEpochs?: number;
}

function defaults(n: number, block: number, o: ScenarioOptions): EpochInput {
  return {
    n, stake: [], lastUpdate: new Array(n).fill(block - 10), blockAtRegistration: new Array(n).fill(0),
    currentBlock: block, activityCutoff: 5000, validatorPermit: new Array(n).fill(false), maxAllowedValidators: 64,
    weights: [], bonds: Array.from({ length: n }, () => []), kappa: 32767, bondsPenalty: 65535,
    bondsMovingAverage: 975_000n, yuma3: o.yuma3 ?? true, liquidAlpha: o.liquidAlpha ?? false,
    alphaLow: 45875, alphaHigh: 58982, alphaSigmoidSteepness: 1000, tempo: 360, lastMechanismStepBlock: block - 361,
    ownerUid: null, emission: 148_000_000_000n, commitRevealEnabled: false, earliestCommitBlock: new Array(n).fill(null),
  };
}

/** Run warm-up epochs, writing permits and bonds back like subtensor's `persist_*`. */
export function warmUp(input: EpochInput, epochs: number): EpochInput {
  const cur = input;
  for (let e = 0; e < epochs; e++) {
    const out = runEpoch(cur);
    cur.validatorPermit = out.validatorPermit;
    cur.bonds = cur.bonds.map((row, i) => out.bonds[i] ?? row);
  }
  return cur;
}

/** A mainnet metagraph as an epoch input: stake in RAO, weight rows max-upscaled to u16. */
export function metagraphToEpochInput(meta: MetagraphJson, o: ScenarioOptions = {}): EpochInput {
  const n = meta.stake.length;
  const input = defaults(n, meta.block, o);
  input.stake = meta.stake.map((s) => BigInt(Math.round(s * 1e9)));
  input.weights = meta.weights.map((r) => maxUpscaleRow(r.filter(([j]) => j < n)));
  input.maxAllowedValidators = Math.max(64, input.weights.filter((r) => r.length > 0).length);
  input.validatorPermit = input.weights.map((r) => r.length > 0);
  return warmUp(input, o.warmupEpochs ?? 3);
}

/** Small deterministic PRNG (mulberry32) so synthetic subnets are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n uids, the first `validators` staked (log-uniform), each setting weights on `density`·n uids: mostly a
 * shared set of good miners (so a stake majority agrees and consensus is non-zero), the rest at random.
 */
export function syntheticEpochInput(n: number, validators: number, density: number, seed = 1, o: ScenarioOptions = {}): EpochInput {
  const rnd = prng(seed);
  const input = defaults(n, 1_000_000, o);
  input.maxAllowedValidators = validators;
  input.stake = Array.from({ length: n }, (_, i) => (i < validators ? BigInt(Math.floor(10 ** (9 + 6 * rnd()))) : 0n));
  input.validatorPermit = Array.from({ length: n }, (_, i) => i < validators);
  const perRow = Math.max(1, Math.min(n - validators, Math.round(density * n)));
  const popular = new Map<number, number>();
  while (popular.size < Math.ceil(perRow / 2)) popular.set(validators + Math.floor(rnd() * (n - validators)), rnd() ** 2);
  input.weights = Array.from({ length: n }, (_, i) => {
    if (i >= validators) return [];
    const cols = new Map<number, number>();
    for (const [j, w] of popular) if (rnd() < 0.9) cols.set(j, w * (0.8 + 0.4 * rnd()));
    while (cols.size < perRow) {
      const j = Math.floor(rnd() * n);
      if (!cols.has(j)) cols.set(j, 0.3 * rnd() ** 3);
    }
    return maxUpscaleRow([...cols].sort((a, b) => a[0] - b[0]));
  });
  return warmUp(input, o.warmupEpochs ?? 2);
}
