import type { Logger } from 'pino';
import { ChainError, type Chain, type SubnetHyperparameters } from '../chain/types.ts';
import { commitHashV2, generateSalt, netuidStorageIndex, revealStatus } from '../consensus/weights/commit-reveal.ts';
import type { EmitWeights } from '../consensus/weights/emit.ts';
import type { Keypair } from '../wallet/keypair.ts';
import type { StoredCommit } from './state.ts';

/** `expired`: a commit's reveal window passed before it could be revealed (its weights never count). */
export type WeightOutcome = 'set' | 'committed' | 'revealed' | 'rate_limited' | 'skipped' | 'expired' | 'error';
type Timed = <T>(op: string, fn: () => Promise<T>) => Promise<T>;

/** Mechanism 0 uses the plain calls, so chains without mechanisms see the v1 shapes. */
function mechOpt(mechid: number | undefined): { mechid: number } | undefined {
  return mechid ? { mechid } : undefined;
}

/**
 * Commit (v2 hash) the weights. The salt and values are persisted *before* the extrinsic is sent, so a
 * crash right after the chain accepted the commit can still reveal it; a rejected commit is forgotten.
 */
export async function commitWeights(args: {
  chain: Chain;
  hotkey: Keypair;
  netuid: number;
  /** Incentive mechanism (default 0): the hash covers its storage index, the calls carry it. */
  mechid?: number;
  block: number;
  emit: EmitWeights;
  /** Hotkey of each uid in `emit.uids`. */
  hotkeys: string[];
  versionKey: bigint;
  timed: Timed;
  remember: (c: StoredCommit | null, replace?: StoredCommit) => Promise<void>;
}): Promise<void> {
  const salt = generateSalt();
  const mech = mechOpt(args.mechid);
  const hash = commitHashV2({
    hotkey: args.hotkey.publicKey,
    netuidIndex: netuidStorageIndex(args.netuid, args.mechid ?? 0),
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
    await args.timed('commitWeights', () => args.chain.commitWeights(args.hotkey, args.netuid, hash, mech));
  } catch (e) {
    await args.remember(null, draft);
    throw e;
  }
  // The chain's own record has the authoritative commit epoch (it applies a look-ahead on fire blocks).
  const onChain = (await args.timed('getWeightCommits', () => args.chain.getWeightCommits(args.netuid, args.hotkey.ss58Address, mech))).find((c) => c.hash === hash);
  await args.remember({ ...draft, confirmed: true, commitEpoch: onChain?.commitEpoch ?? epoch }, draft);
}

/** Reveal every remembered commit whose window is open; forget expired or unknown ones. */
export async function revealDueCommits(args: {
  chain: Chain;
  hotkey: Keypair;
  netuid: number;
  mechid?: number;
  hyper: SubnetHyperparameters;
  block: number;
  /** Fresh hotkeys by uid (fetched only when a reveal is due). */
  loadHotkeys: () => Promise<string[]>;
  commits: StoredCommit[];
  timed: Timed;
  log: Logger;
}): Promise<{ commits: StoredCommit[]; changed: boolean; outcomes: WeightOutcome[] }> {
  const mech = mechOpt(args.mechid);
  const onChain = await args.timed('getWeightCommits', () => args.chain.getWeightCommits(args.netuid, args.hotkey.ss58Address, mech));
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
      outcomes.push('expired');
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
      outcomes.push('skipped');
      changed = true;
      continue;
    }
    try {
      await args.timed('revealWeights', () => args.chain.revealWeights(args.hotkey, args.netuid, c.uids, c.values, c.salt, BigInt(c.versionKey), mech));
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

/** What a weight submission reads and updates of the caller's persisted state. */
export interface WeightsRecord {
  commits: StoredCommit[];
  lastWeightsBlock: number;
}

/**
 * Submit computed weights: commit them when the subnet has commit-reveal on, else set them; record the
 * block and persist. `SettingWeightsTooFast` is an outcome (retry later), other chain errors rethrow.
 * Shared by the embedded validator and the split coordinator so both behave the same on chain.
 */
export async function submitWeights(args: {
  chain: Chain;
  hotkey: Keypair;
  netuid: number;
  mechid: number;
  block: number;
  emit: EmitWeights;
  hotkeys: string[];
  versionKey: bigint;
  hyper: Pick<SubnetHyperparameters, 'commitRevealWeightsEnabled' | 'weightsVersionKey'>;
  record: WeightsRecord;
  persist: () => Promise<void>;
  timed: Timed;
  log: Logger;
  notify: (o: WeightOutcome) => void;
}): Promise<void> {
  const { chain, hotkey, netuid, block, emit, versionKey, record } = args;
  try {
    if (args.hyper.commitRevealWeightsEnabled) {
      await commitWeights({
        chain, hotkey, netuid, mechid: args.mechid, block, emit, versionKey, hotkeys: args.hotkeys, timed: args.timed,
        remember: async (c, replace) => {
          record.commits = record.commits.filter((x) => x !== replace);
          if (c) record.commits.push(c);
          await args.persist();
        },
      });
    } else {
      await args.timed('setWeights', () => chain.setWeights(hotkey, netuid, emit.uids, emit.values, versionKey, mechOpt(args.mechid)));
    }
    record.lastWeightsBlock = block;
    await args.persist();
    const outcome = args.hyper.commitRevealWeightsEnabled ? 'committed' : 'set';
    args.log.info({ block, uids: emit.uids.length }, `weights ${outcome}`);
    args.notify(outcome);
  } catch (e) {
    if (e instanceof ChainError && e.code === 'IncorrectWeightVersionKey') {
      args.log.error({ versionKey: versionKey.toString(), required: args.hyper.weightsVersionKey.toString() }, 'the subnet requires a newer weights version key; upgrade, or set options.versionKey');
    }
    if (e instanceof ChainError && e.code === 'SettingWeightsTooFast') {
      args.log.info('too soon to set weights; will retry');
      args.notify('rate_limited');
      return;
    }
    args.notify('error');
    throw e;
  }
}
