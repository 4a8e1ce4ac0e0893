import type { CallerInfo, CallerInfoProvider } from '../axon/types.ts';
import type { Chain, Metagraph } from './types.ts';

export interface MetagraphProviderOptions {
  /** Refresh at most every N blocks (default 1: every block). */
  refreshEveryBlocks?: number;
  /** Refresh failures keep the last snapshot; they are reported here. */
  onError?: (err: Error) => void;
}

export interface MetagraphCallerProvider extends CallerInfoProvider {
  /** The latest snapshot. */
  metagraph(): Metagraph;
  /** Fetch a new snapshot now. */
  refresh(): Promise<Metagraph>;
  close(): void;
}

function indexOf(mg: Metagraph): Map<string, CallerInfo> {
  const m = new Map<string, CallerInfo>();
  mg.hotkeys.forEach((hk, uid) => m.set(hk, { uid, stake: mg.stake[uid] ?? 0n, validatorPermit: mg.validatorPermit[uid] ?? false }));
  return m;
}

/**
 * Keep a fresh Metagraph of one subnet and answer the axon's synchronous `lookup(hotkey)` from it.
 * The snapshot is refreshed on new blocks (at most every N blocks, one fetch in flight at a time).
 */
export async function metagraphCallerProvider(chain: Chain, netuid: number, opts: MetagraphProviderOptions = {}): Promise<MetagraphCallerProvider> {
  const every = Math.max(1, opts.refreshEveryBlocks ?? 1);
  let current = await chain.getMetagraph(netuid);
  let byHotkey = indexOf(current);
  let inFlight: Promise<Metagraph> | null = null;

  const refresh = (): Promise<Metagraph> => {
    inFlight ??= chain
      .getMetagraph(netuid)
      .then((mg) => {
        if (mg.block >= current.block) {
          current = mg;
          byHotkey = indexOf(mg);
        }
        return current;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  const unsubscribe = chain.subscribeBlocks((block) => {
    if (block.number - current.block < every || inFlight) return;
    refresh().catch((e: unknown) => opts.onError?.(e instanceof Error ? e : new Error(String(e))));
  });

  return {
    lookup: (hotkey) => byHotkey.get(hotkey),
    metagraph: () => current,
    refresh,
    close: unsubscribe,
  };
}
