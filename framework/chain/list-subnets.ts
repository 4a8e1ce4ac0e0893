import type { Chain } from './types.ts';

/** Netuids present on the chain: the chain's own list where it has one, else a bounded probe. */
export async function listNetuids(chain: Chain, probeUpTo = 64): Promise<number[]> {
  if (chain.listSubnets) return chain.listSubnets();
  const found: number[] = [];
  for (let netuid = 0; netuid <= probeUpTo; netuid++) if (await chain.subnetExists(netuid)) found.push(netuid);
  return found;
}
