/**
 * The shared scenario for the real-runtime tests: a subnet, 8 neurons (2 validators, 6 miners),
 * stake, axons, weights, driven through SubtensorChain against chopsticks in Manual block mode.
 */
import { keypairFromUri, type Keypair } from '../../../framework/wallet/keypair.ts';
import { SubtensorChain } from '../../../framework/chain/subtensor/index.ts';
import type { Chopsticks } from '../../support/chopsticks.ts';

export const TAO = 1_000_000_000n;

export interface Cast {
  alice: Keypair;
  valCold: Keypair;
  minerCold: Keypair;
  hot: Keypair[];
}

export function cast(): Cast {
  return {
    alice: keypairFromUri('//Alice'),
    valCold: keypairFromUri('//Bob'),
    minerCold: keypairFromUri('//Charlie'),
    hot: Array.from({ length: 8 }, (_, i) => keypairFromUri(`//Dave//hot${i}`)),
  };
}

/**
 * Run writes concurrently, build one block once each of them is in the pool (or already refused by
 * it), then await them all.
 */
export async function inBlock<T = unknown>(cs: Chopsticks, writes: Array<() => Promise<T>>, timeoutMs = 90_000): Promise<T[]> {
  let refused = 0;
  let built = false;
  const running = writes.map((w) =>
    w().catch((e: unknown) => {
      if (!built) refused += 1;
      throw e;
    }),
  );
  running.forEach((p) => p.catch(() => undefined));
  const end = Date.now() + timeoutMs;
  while ((await cs.pending()) + refused < writes.length) {
    if (Date.now() > end) throw new Error(`only ${await cs.pending()} of ${writes.length} transactions reached the pool within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  built = true;
  if (refused < writes.length) await cs.newBlock();
  return Promise.all(running);
}

/** Build blocks until the head is at least `target`. */
export async function advanceTo(chain: SubtensorChain, cs: Chopsticks, target: number): Promise<void> {
  const head = (await chain.getBlock()).number;
  if (target > head) await cs.newBlock(target - head);
}

/** Next block at which subtensor runs the epoch of `netuid`: (block + netuid + 1) % (tempo + 1) == 0. */
export function nextEpochBlock(after: number, netuid: number, tempo: number): number {
  let b = after + 1;
  while ((b + netuid + 1) % (tempo + 1) !== 0) b++;
  return b;
}

/**
 * Dev-chain limits off in one sudo batch (network/tx rate limits, weights min stake); with `rootTempo`, also
 * the root subnet's tempo and weights rate limit, which root weights need.
 */
export async function relaxDevLimits(chain: SubtensorChain, cs: Chopsticks, opts: { rootTempo?: number } = {}): Promise<void> {
  const calls: Array<[string, string, Record<string, unknown>]> = [
    ['admin_utils', 'sudo_set_network_rate_limit', { rate_limit: 0 }],
    ['admin_utils', 'sudo_set_tx_rate_limit', { tx_rate_limit: 0 }],
    ['admin_utils', 'sudo_set_weights_min_stake', { min_stake: 0 }],
  ];
  if (opts.rootTempo !== undefined) {
    calls.push(['admin_utils', 'sudo_set_tempo', { netuid: 0, tempo: opts.rootTempo }], ['admin_utils', 'sudo_set_weights_set_rate_limit', { netuid: 0, weights_set_rate_limit: 0 }]);
  }
  await inBlock(cs, [() => chain.sudoBatch(calls)]);
}
