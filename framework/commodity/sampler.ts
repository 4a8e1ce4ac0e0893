import type { AxonInfo, Metagraph } from '../chain/types.ts';
import type { SeededRng } from './rng.ts';

/** An axon is serving when it was announced with a routable address and a port. */
export function isServing(axon: AxonInfo | null | undefined): axon is AxonInfo {
  if (!axon) return false;
  if (!(axon.port > 0 && axon.port < 65536)) return false;
  return axon.ip !== '' && axon.ip !== '0.0.0.0' && axon.ip !== '::' && axon.ip !== '0';
}

export interface SampleOptions {
  /** How many miners to pick; fewer are returned when fewer are eligible. */
  k: number;
  rng: SeededRng;
  /** Hotkeys never sampled (the validator itself). */
  exclude?: readonly string[];
  /**
   * Validators (permit holders) with stake above this many RAO are skipped: they are not miners.
   * Default 4096 TAO, like the template's `vpermit_tao_limit`.
   */
  vpermitStakeLimit?: bigint;
  /** Extra filter (e.g. miners that hold a stored object). */
  filter?: (uid: number) => boolean;
}

export const DEFAULT_VPERMIT_STAKE_LIMIT = 4096n * 1_000_000_000n;

/** Uids eligible to be queried: serving, not a high-stake validator, not excluded. */
export function eligibleMiners(metagraph: Metagraph, opts: Omit<SampleOptions, 'k' | 'rng'> = {}): number[] {
  const exclude = new Set(opts.exclude ?? []);
  const limit = opts.vpermitStakeLimit ?? DEFAULT_VPERMIT_STAKE_LIMIT;
  const out: number[] = [];
  for (let uid = 0; uid < metagraph.n; uid++) {
    if (exclude.has(metagraph.hotkeys[uid])) continue;
    if (!isServing(metagraph.axons[uid])) continue;
    if (metagraph.validatorPermit[uid] && (metagraph.stake[uid] ?? 0n) > limit) continue;
    if (opts.filter && !opts.filter(uid)) continue;
    out.push(uid);
  }
  return out;
}

/** Default sampler: k eligible miners without replacement, in seeded random order (never throws on k > available). */
export function sampleMiners(metagraph: Metagraph, opts: SampleOptions): number[] {
  return opts.rng.sample(eligibleMiners(metagraph, opts), opts.k);
}
