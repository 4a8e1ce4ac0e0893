import { ChainError } from '../../framework/chain/types.ts';
import { LocalChain, type LocalChainOptions } from '../../framework/chain/local-chain.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import type { SubnetHyperparameters } from '../../framework/chain/types.ts';

export interface Fixture {
  chain: LocalChain;
  owner: Keypair;
  ownerHot: Keypair;
  netuid: number;
}

export async function keys(uri: string): Promise<Keypair> {
  await cryptoReady();
  return keypairFromUri(uri);
}

/** A manual-block LocalChain with one subnet owned by //Alice (owner hotkey //Alice//owner). */
export async function subnetFixture(params: Partial<SubnetHyperparameters> = {}, opts: LocalChainOptions = {}): Promise<Fixture> {
  const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'test', ...opts });
  const owner = await keys('//Alice');
  const ownerHot = await keys('//Alice//owner');
  const netuid = await chain.registerNetwork(owner, ownerHot.ss58Address);
  await chain.startCall(owner, netuid);
  if (Object.keys(params).length > 0) await chain.setHyperparameters(owner, netuid, params);
  return { chain, owner, ownerHot, netuid };
}

/** Expect a ChainError with subtensor's error name. */
export async function chainErrorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChainError) return e.code;
    throw e;
  }
  return 'no error';
}
