import type { Logger } from 'pino';
import { ChainError, type Chain, type SubnetHyperparameters } from '../chain/types.ts';
import { commitHashV2, generateSalt, netuidStorageIndex, revealStatus } from '../consensus/weights/commit-reveal.ts';
import type { EmitWeights } from '../consensus/weights/emit.ts';
import type { Keypair } from '../wallet/keypair.ts';
import type { StoredCommit } from './state.ts';

export type WeightOutcome = 'set' | 'committed' | 'revealed' | 'rate_limited' | 'error';
type Timed = <T>(op: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Commit (v2 hash) the weights. The salt and values are persisted *before* the extrinsic is sent, so a
 * crash right after the chain accepted the commit can still reveal it; a rejected commit is forgotten.
 */
export async function commitWeights(args: {
  chain: Chain;
  hotkey: Keypair;
  netuid: number;
  block: number;
  emit: EmitWeights;
  /** Hotkey of each uid in `emit.uids`. */
  hotkeys: string[];
  versionKey: bigint;
  timed: Timed;
  remember: (c: StoredCommit | null, replace?: StoredCommit) => Promise<void>;
}): Promise<void> {
  const salt = generateSalt();
  const hash = commitHashV2({
    hotkey: args.hotkey.publicKey,
    netuidIndex: netuidStorageIndex(args.netuid),
    uids: args.emit.uids,
    values: args.emit.values,
    salt,
    versionKey: args.versionKey,
  });
  const epoch = await args.timed('getEpochIndex', () => args.chain.getEpochIndex(args.netuid));
  const draft: StoredCommit = {
    hash,
    uids: args.emit.uids,
    values: args.emit.values,
    salt,
    versionKey: args.versionKey.toString(),
    commitBlock: args.block,
    commitEpoch: epoch,
    confirmed: false,
    hotkeys: args.hotkeys,
  };
  await args.remember(draft);
  try {
    await args.timed('commitWeights', () => args.chain.commitWeights(args.hotkey, args.netuid, hash));
  } catch (e) {
    await args.remember(null, draft);
    throw e;
  }
  // The chain's own record has the authoritative commit epoch (it applies a look-ahead on fire blocks).
  const onChain = (await args.timed('getWeightCommits', () => args.chain.getWeightCommits(args.netuid, args.hotkey.ss58Address))).find((c) => c.hash === hash);
  await args.remember({ ...draft, confirmed: true, commitEpoch: onChain?.commitEpoch ?? epoch }, draft);
}

/** Reveal every remembered commit whose window is open; forget expired or unknown ones. */
export async function revealDueCommits(args: {
  chain: Chain;
  hotkey: Keypair;
  netuid: number;
  hyper: SubnetHyperparameters;
  block: number;
  /** Fresh hotkeys by uid (fetched only when a reveal is due). */
  loadHotkeys: () => Promise<string[]>;
  commits: StoredCommit[];
  timed: Timed;
  log: Logger;
}): Promise<{ commits: StoredCommit[]; changed: boolean; outcomes: WeightOutcome[] }> {
  const onChain = await args.timed('getWeightCommits', () => args.chain.getWeightCommits(args.netuid, args.hotkey.ss58Address));
  const currentEpoch = await args.timed('getEpochIndex', () => args.chain.getEpochIndex(args.netuid));
  const keep: StoredCommit[] = [];
  const outcomes: WeightOutcome[] = [];
  let changed = false;
  let current: string[] | undefined;
  for (const c of args.commits) {
    const chainCommit = onChain.find((x) => x.hash === c.hash);
    if (!chainCommit) {
      // unconfirmed draft from a crash before the chain saw it, or already revealed/expired on chain
      if (c.confirmed || args.block - c.commitBlock > 2) {
        changed = true;
        continue;
      }
      keep.push(c);
      continue;
    }
    const status = revealStatus({ commitEpoch: chainCommit.commitEpoch, currentEpoch, revealPeriodEpochs: args.hyper.revealPeriodEpochs });
    if (status === 'expired') {
      args.log.warn({ hash: c.hash }, 'weight commit expired before it could be revealed');
      changed = true;
      continue;
    }
    if (status === 'too-early') {
      keep.push(c);
      continue;
    }
    current ??= await args.loadHotkeys();
    const now = current;
    if (c.hotkeys && c.uids.some((uid, i) => now[uid] !== c.hotkeys![i])) {
      // a committed uid changed hands: revealing would pay the newcomer for the previous miner's work
      args.log.warn({ hash: c.hash }, 'a committed uid was re-registered since the commit; reveal skipped');
      changed = true;
      continue;
    }
    try {
      await args.timed('revealWeights', () => args.chain.revealWeights(args.hotkey, args.netuid, c.uids, c.values, c.salt, BigInt(c.versionKey)));
      args.log.info({ hash: c.hash, uids: c.uids.length }, 'weights revealed');
      outcomes.push('revealed');
      changed = true;
    } catch (e) {
      args.log.warn({ hash: c.hash, err: e instanceof ChainError ? e.code : String(e) }, 'reveal failed; retrying next block');
      outcomes.push('error');
      keep.push(c);
    }
  }
  return { commits: keep, changed, outcomes };
}
