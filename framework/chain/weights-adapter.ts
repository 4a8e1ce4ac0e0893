import {
  applyCommit,
  applyReveal,
  commitHashV2,
  isCommitExpired,
  netuidStorageIndex,
  storedWeightRow,
  validateSetWeights,
} from '../consensus/weights/index.ts';
import type { SparseRow } from '../consensus/types.ts';
import { ChainError } from './types.ts';
import type { SubnetState } from './state.ts';
import { currentEpochWithLookahead } from './state-ops.ts';
import type { MechanismState } from './mechanisms.ts';

/**
 * Glue between LocalChain's storage and the consensus package's subtensor rules (validateSetWeights,
 * applyCommit/applyReveal, commitHashV2): the chain only gathers the inputs and writes the outcome.
 */

export interface WeightsCall {
  uids: number[];
  values: number[];
  versionKey: bigint;
}

/**
 * set_weights / reveal checks; returns the caller's uid or throws ChainError(subtensor name). The rate
 * limit reads the LastUpdate of the mechanism being written (subtensor keys it by netuid_index).
 */
export function checkSetWeights(subnet: SubnetState, hotkey: string, call: WeightsCall, block: number, kind: 'set_weights' | 'reveal', mech: MechanismState = subnet): number {
  const idx = subnet.keys.indexOf(hotkey);
  const uid = idx < 0 ? null : idx;
  const error = validateSetWeights(
    { uids: call.uids, values: call.values, versionKey: call.versionKey, hotkeyUid: uid, currentBlock: block, lastUpdate: uid === null ? 0 : mech.lastUpdate[uid]!, kind, netuid: subnet.netuid },
    {
      n: subnet.keys.length,
      minAllowedWeights: subnet.hp.minAllowedWeights,
      maxWeightsLimit: subnet.hp.maxWeightsLimit,
      weightsVersionKey: subnet.hp.weightsVersionKey,
      weightsSetRateLimit: subnet.hp.weightsSetRateLimit,
      commitRevealEnabled: subnet.hp.commitRevealWeightsEnabled,
      hasValidatorPermit: uid !== null && subnet.validatorPermit[uid] === true,
      isOwnerUid: uid !== null && subnet.keys[uid] === subnet.ownerHotkey,
    },
  );
  if (error !== null) throw new ChainError(error);
  return uid!;
}

/** Max-upscaled row as stored in `Weights`. */
export function weightRowToStore(uids: number[], values: number[]): SparseRow {
  return storedWeightRow(uids, values);
}

/** v2 commit hash over the storage index of (`netuid`, `mechid`). */
export function commitHashFor(hotkey: string, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint, mechid = 0): string {
  return commitHashV2({ hotkey, netuidIndex: netuidStorageIndex(netuid, mechid), uids, values, salt, versionKey });
}

/** True while a commit can still be revealed (the epoch's commit-reveal mask counts only these). */
export function commitIsLive(subnet: SubnetState, commitEpoch: number, currentEpoch: number): boolean {
  return !isCommitExpired({ commitEpoch, currentEpoch, revealPeriodEpochs: subnet.hp.revealPeriodEpochs });
}

/** `commit_weights`: updates the queue and LastUpdate, or throws ChainError. */
export function commitWeights(subnet: SubnetState, hotkey: string, hash: string, block: number, mech: MechanismState = subnet): number {
  const idx = subnet.keys.indexOf(hotkey);
  const uid = idx < 0 ? null : idx;
  const epoch = currentEpochWithLookahead(subnet, block);
  const out = applyCommit(
    mech.weightCommits[hotkey] ?? [],
    { hash, hotkeyUid: uid, currentBlock: block, currentEpoch: epoch, lastUpdate: uid === null ? 0 : mech.lastUpdate[uid]! },
    { commitRevealEnabled: subnet.hp.commitRevealWeightsEnabled, revealPeriodEpochs: subnet.hp.revealPeriodEpochs, weightsSetRateLimit: subnet.hp.weightsSetRateLimit },
  );
  if (!out.ok) throw new ChainError(out.error);
  mech.weightCommits[hotkey] = out.queue;
  mech.lastUpdate[uid!] = block;
  return epoch;
}

/** `reveal_weights` queue step: returns the queue to keep after a successful reveal, or throws ChainError. */
export function revealQueue(subnet: SubnetState, hotkey: string, hash: string, block: number, mech: MechanismState = subnet): ReturnType<typeof applyReveal> & { ok: true } {
  const out = applyReveal(
    mech.weightCommits[hotkey] ?? [],
    { hash, currentEpoch: currentEpochWithLookahead(subnet, block) },
    { commitRevealEnabled: subnet.hp.commitRevealWeightsEnabled, revealPeriodEpochs: subnet.hp.revealPeriodEpochs },
  );
  if (!out.ok) throw new ChainError(out.error);
  return out;
}
