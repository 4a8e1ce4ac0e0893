import { UserError } from '../errors.ts';
import { LocalChain } from './local-chain.ts';
import { LocalnetClient } from './localnet-client.ts';
import type { Chain, DevChain } from './types.ts';

export * from './types.ts';
export { LocalChain, DEV_ACCOUNT_URIS, DEV_ACCOUNT_BALANCE } from './local-chain.ts';
export type { LocalChainOptions, DevAccount } from './local-chain.ts';
export { LocalnetClient, localnetUrls } from './localnet-client.ts';
export type { LocalnetClientOptions } from './localnet-client.ts';
export { startLocalnetServer } from './localnet-server.ts';
export type { LocalnetServer, LocalnetServerOptions } from './localnet-server.ts';
export { metagraphCallerProvider } from './metagraph-provider.ts';
export type { MetagraphCallerProvider, MetagraphProviderOptions } from './metagraph-provider.ts';
export { newSubnetHyperparameters, RAO_PER_TAO } from './hyperparams.ts';
export type { ChainCall, ChainEvent } from './codec.ts';

export interface ConnectChainOptions {
  /** For `local`: block time in ms (default 12 000; 0 = manual `produceBlocks`). */
  blockTimeMs?: number;
  /** For `local`: state file to load and persist. */
  statePath?: string;
  /** For a localnet URL: per-request timeout in ms. */
  timeoutMs?: number;
}

/**
 * Open a chain from a spec: `local` → a new in-process LocalChain; `http://…` or `ws://…` → a
 * LocalnetClient for a `subnet localnet` server. Both are DevChains. A real subtensor endpoint
 * (`wss://…`) is not supported yet.
 */
export async function connectChain(spec: string, opts: ConnectChainOptions = {}): Promise<Chain | DevChain> {
  const s = spec.trim();
  if (s === 'local') return LocalChain.create({ blockTimeMs: opts.blockTimeMs ?? 12_000, statePath: opts.statePath });
  if (/^(http|ws):\/\//i.test(s)) return LocalnetClient.connect(s, { timeoutMs: opts.timeoutMs });
  if (/^wss:\/\//i.test(s) || /^(finney|test|archive|subvortex)$/i.test(s)) {
    throw new UserError('the subtensor adapter is not available yet', { hint: 'use `local` or a localnet URL such as http://127.0.0.1:9944' });
  }
  throw new UserError(`unknown chain '${spec}'`, { hint: 'use `local`, http://127.0.0.1:9944 or ws://127.0.0.1:9944' });
}
