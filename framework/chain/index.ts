import { UserError } from '../errors.ts';
import { LocalChain } from './local-chain.ts';
import { LocalnetClient } from './localnet-client.ts';
import { networkEndpoint } from './subtensor/endpoints.ts';
import { SubtensorChain, type SubtensorChainOptions } from './subtensor/subtensor-chain.ts';
import type { Chain, DevChain } from './types.ts';

export * from './types.ts';
export { LocalChain, DEV_ACCOUNT_URIS, DEV_ACCOUNT_BALANCE } from './local-chain.ts';
export type { LocalChainOptions, DevAccount } from './local-chain.ts';
export { LocalnetClient, localnetUrls } from './localnet-client.ts';
export type { LocalnetClientOptions } from './localnet-client.ts';
export { startLocalnetServer } from './localnet-server.ts';
export type { LocalnetServer, LocalnetServerOptions } from './localnet-server.ts';
export { SubtensorChain, SUBTENSOR_NETWORKS, networkEndpoint } from './subtensor/index.ts';
export type { SubtensorChainOptions } from './subtensor/index.ts';
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
  /** For a subtensor endpoint (ws(s):// or a network name): adapter options. */
  subtensor?: SubtensorChainOptions;
}

/** What a chain spec names: the embedded chain, our localnet, or a subtensor node. */
export function classifyChainSpec(spec: string): { kind: 'local' } | { kind: 'localnet'; url: string } | { kind: 'subtensor'; url: string } | null {
  const s = spec.trim();
  if (s === 'local') return { kind: 'local' };
  const named = networkEndpoint(s);
  if (named) return { kind: 'subtensor', url: named };
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol === 'http:') return { kind: 'localnet', url: s };
  // the localnet banner prints its subscription socket as ws://host:port/ws; any other ws(s) URL is a node
  if (u.protocol === 'ws:' && u.pathname === '/ws') return { kind: 'localnet', url: s };
  if (u.protocol === 'ws:' || u.protocol === 'wss:') return { kind: 'subtensor', url: s };
  return null;
}

/**
 * Open a chain from a spec: `local` → a new in-process LocalChain; `http://…` (or the localnet's own
 * `ws://host:port/ws`) → a LocalnetClient; any other `ws://…` / `wss://…` or the SDK network names
 * `finney`, `test`, `archive` → a SubtensorChain on that node.
 */
export async function connectChain(spec: string, opts: ConnectChainOptions = {}): Promise<Chain | DevChain> {
  const c = classifyChainSpec(spec);
  if (!c) {
    throw new UserError(`unknown chain '${spec}'`, {
      hint: 'use `local`, a localnet URL (http://127.0.0.1:9944), a subtensor node (ws://127.0.0.1:9944, wss://…) or finney / test / archive',
    });
  }
  if (c.kind === 'local') return LocalChain.create({ blockTimeMs: opts.blockTimeMs ?? 12_000, statePath: opts.statePath });
  if (c.kind === 'localnet') return LocalnetClient.connect(c.url, { timeoutMs: opts.timeoutMs });
  try {
    return await SubtensorChain.connect(c.url, { connectTimeoutMs: opts.timeoutMs ?? 30_000, ...opts.subtensor });
  } catch (e) {
    throw new UserError(`cannot connect to the subtensor node at ${c.url}: ${(e as Error).message}`, { exitCode: 1, cause: e });
  }
}
export { listNetuids } from './list-subnets.ts';
