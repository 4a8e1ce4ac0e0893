import { ChainError } from './types.ts';
import type { ChainState, SubnetState } from './state.ts';
import { shouldRunEpochAt } from './schedule.ts';

/** Small accessors over ChainState shared by dispatch, coinbase and reads. */

export function getSubnet(state: ChainState, netuid: number): SubnetState {
  const s = state.subnets[String(netuid)];
  if (!s) throw new ChainError('SubnetNotExists', `netuid ${netuid}`);
  return s;
}

export function uidOf(subnet: SubnetState, hotkey: string): number | null {
  const uid = subnet.keys.indexOf(hotkey);
  return uid < 0 ? null : uid;
}

export function balanceOf(state: ChainState, coldkey: string): bigint {
  return state.balances[coldkey] ?? 0n;
}

export function creditBalance(state: ChainState, coldkey: string, amount: bigint): void {
  state.balances[coldkey] = balanceOf(state, coldkey) + amount;
}

export function debitBalance(state: ChainState, coldkey: string, amount: bigint): void {
  const next = balanceOf(state, coldkey) - amount;
  if (next < 0n) throw new ChainError('NotEnoughBalanceToStake');
  if (next === 0n) delete state.balances[coldkey];
  else state.balances[coldkey] = next;
}

/** `Alpha(hot, cold, netuid)` in this one-currency model. */
export function stakeOf(state: ChainState, netuid: number, hotkey: string, coldkey: string): bigint {
  return state.stake[String(netuid)]?.[hotkey]?.[coldkey] ?? 0n;
}

/** `TotalHotkeyAlpha(hot, netuid)`: the metagraph's stake for the hotkey. */
export function totalHotkeyStake(state: ChainState, netuid: number, hotkey: string): bigint {
  const byCold = state.stake[String(netuid)]?.[hotkey];
  if (!byCold) return 0n;
  let total = 0n;
  for (const v of Object.values(byCold)) total += v;
  return total;
}

export function changeStake(state: ChainState, netuid: number, hotkey: string, coldkey: string, delta: bigint): void {
  const net = (state.stake[String(netuid)] ??= {});
  const byCold = (net[hotkey] ??= {});
  const next = (byCold[coldkey] ?? 0n) + delta;
  if (next < 0n) throw new ChainError('NotEnoughStakeToWithdraw');
  if (next === 0n) delete byCold[coldkey];
  else byCold[coldkey] = next;
  if (Object.keys(byCold).length === 0) delete net[hotkey];
}

/**
 * Credit emission to a hotkey's stakers pro rata to their stake (what share-based `Alpha` does when
 * `TotalHotkeyAlpha` grows); with no stakers it goes to the hotkey's owning coldkey.
 */
export function distributeToHotkey(state: ChainState, netuid: number, hotkey: string, amount: bigint): void {
  if (amount <= 0n) return;
  const owner = state.hotkeyOwner[hotkey] ?? hotkey;
  const byCold = state.stake[String(netuid)]?.[hotkey];
  const total = totalHotkeyStake(state, netuid, hotkey);
  if (!byCold || total === 0n) {
    changeStake(state, netuid, hotkey, owner, amount);
    return;
  }
  let given = 0n;
  for (const [cold, v] of Object.entries({ ...byCold })) {
    const share = (amount * v) / total;
    if (share > 0n) changeStake(state, netuid, hotkey, cold, share);
    given += share;
  }
  // Rounding dust goes to the hotkey owner so no RAO is created or lost.
  if (amount - given > 0n) changeStake(state, netuid, hotkey, owner, amount - given);
}

/** Epoch index as subtensor's `current_epoch_with_lookahead` (+1 when an epoch is due this block). */
export function currentEpochWithLookahead(subnet: SubnetState, block: number): number {
  return subnet.epochIndex + (shouldRunEpoch(subnet, block) ? 1 : 0);
}

/** Stateful scheduler: due after `tempo` blocks since `LastEpochBlock`, or at an owner-triggered `PendingEpochAt`. */
export function shouldRunEpoch(subnet: SubnetState, block: number): boolean {
  return shouldRunEpochAt(subnet, block);
}

export function isImmune(subnet: SubnetState, uid: number, block: number): boolean {
  return block - (subnet.blockAtRegistration[uid] ?? 0) < subnet.hp.immunityPeriod;
}

/**
 * `get_neuron_to_prune` as in spec §1.6: among non-immune uids, skipping the owner hotkey, the lowest
 * `Emission`, then the oldest registration, then the lowest uid; null when none qualifies.
 */
export function neuronToPrune(subnet: SubnetState, block: number): number | null {
  let best: number | null = null;
  for (let uid = 0; uid < subnet.keys.length; uid++) {
    if (subnet.keys[uid] === subnet.ownerHotkey || isImmune(subnet, uid, block)) continue;
    if (best === null) {
      best = uid;
      continue;
    }
    const e = subnet.emission[uid]!;
    const be = subnet.emission[best]!;
    const better = e !== be ? e < be : subnet.blockAtRegistration[uid]! < subnet.blockAtRegistration[best]!;
    if (better) best = uid;
  }
  return best;
}
