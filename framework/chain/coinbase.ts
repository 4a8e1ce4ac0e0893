import type { EpochInput, EpochOutput } from '../consensus/types.ts';
import type { ChainEvent } from './codec.ts';
import type { ChainState, SubnetState } from './state.ts';
import { BURN_HALF_LIFE_BLOCKS, SUBNET_OWNER_CUT_U16, burnDecayFactorQ32, clampBig } from './hyperparams.ts';
import { changeStake, currentEpochWithLookahead, distributeToHotkey, shouldRunEpoch, totalHotkeyStake } from './state-ops.ts';
import { commitIsLive } from './weights-adapter.ts';

export type EpochFn = (input: EpochInput) => EpochOutput;

const DECAY_Q32 = burnDecayFactorQ32(BURN_HALF_LIFE_BLOCKS);

/**
 * `block_step` for the new head block, in subtensor's order: registration price decay, then coinbase
 * (emission into pending, owner cut) and the epochs that are due. Mutates `state`; returns events.
 */
export function blockStep(state: ChainState, runEpoch: EpochFn): ChainEvent[] {
  const block = state.head.number;
  const events: ChainEvent[] = [];
  for (const subnet of Object.values(state.subnets)) {
    if (block > 1) subnet.hp.burn = clampBig((subnet.hp.burn * DECAY_Q32) >> 32n, subnet.hp.minBurn, subnet.hp.maxBurn);
    emitToSubnet(state, subnet);
    if (shouldRunEpoch(subnet, block)) events.push(runSubnetEpoch(state, subnet, runEpoch));
  }
  return events;
}

/** Per-block emission: the owner cut (SubnetOwnerCut/65535 ≈ 18 %) to the owner hotkey, the rest to pending. */
function emitToSubnet(state: ChainState, subnet: SubnetState): void {
  const total = state.blockEmission;
  if (total <= 0n) return;
  const ownerCut = (total * SUBNET_OWNER_CUT_U16) / 65_535n;
  changeStake(state, subnet.netuid, subnet.ownerHotkey, subnet.ownerColdkey, ownerCut);
  subnet.pendingEmission += total - ownerCut;
  state.totalIssuance += total;
}

/** Build EpochInput from storage exactly as `epoch_mechanism` reads it (mechanism 0). */
export function epochInputFor(state: ChainState, subnet: SubnetState): EpochInput {
  const n = subnet.keys.length;
  const block = state.head.number;
  const ownerUid = subnet.keys.indexOf(subnet.ownerHotkey);
  // is_commit_expired inside the epoch sees the look-ahead epoch (the one firing now).
  const epochNow = currentEpochWithLookahead(subnet, block);
  const earliestCommitBlock = subnet.keys.map((hk) => {
    const live = (subnet.weightCommits[hk] ?? []).filter((c) => commitIsLive(subnet, c.commitEpoch, epochNow));
    return live.length === 0 ? null : Math.min(...live.map((c) => c.commitBlock));
  });
  return {
    n,
    stake: subnet.keys.map((hk) => totalHotkeyStake(state, subnet.netuid, hk)),
    lastUpdate: [...subnet.lastUpdate],
    blockAtRegistration: [...subnet.blockAtRegistration],
    currentBlock: block,
    activityCutoff: subnet.hp.activityCutoff,
    validatorPermit: [...subnet.validatorPermit],
    maxAllowedValidators: subnet.hp.maxAllowedValidators,
    weights: subnet.weights.map((r) => r.map(([j, v]) => [j, v] as [number, number])),
    bonds: subnet.bonds.map((r) => r.map(([j, v]) => [j, v] as [number, number])),
    kappa: subnet.hp.kappa,
    bondsPenalty: subnet.hp.bondsPenalty,
    bondsMovingAverage: subnet.hp.bondsMovingAverage,
    yuma3: subnet.hp.yuma3On,
    liquidAlpha: subnet.hp.liquidAlphaOn,
    alphaLow: subnet.hp.alphaLow,
    alphaHigh: subnet.hp.alphaHigh,
    alphaSigmoidSteepness: subnet.hp.alphaSigmoidSteepness,
    tempo: subnet.hp.tempo,
    lastMechanismStepBlock: subnet.lastMechanismStepBlock,
    ownerUid: ownerUid < 0 ? null : ownerUid,
    emission: subnet.pendingEmission,
    commitRevealEnabled: subnet.hp.commitRevealWeightsEnabled,
    earliestCommitBlock,
  };
}

/**
 * Run the epoch on the pending emission, persist its terms with the bond storage rules and pay out:
 * incentive to the miner hotkey's owner (burned when it lands on the owner hotkey, like subtensor's
 * recycle), dividends pro rata to the validator hotkey's stakers.
 */
function runSubnetEpoch(state: ChainState, subnet: SubnetState, runEpoch: EpochFn): ChainEvent {
  const block = state.head.number;
  const input = epochInputFor(state, subnet);
  const out = runEpoch(input);
  const n = input.n;
  subnet.active = out.active.slice(0, n);
  subnet.consensus = out.consensus.slice(0, n);
  subnet.incentive = out.incentive.slice(0, n);
  subnet.dividends = out.dividends.slice(0, n);
  subnet.validatorTrust = out.validatorTrust.slice(0, n);
  subnet.emission = out.emission.slice(0, n);
  subnet.validatorPermit = out.validatorPermit.slice(0, n);
  for (let i = 0; i < n; i++) {
    const row = out.bonds[i];
    if (row) subnet.bonds[i] = row; // null: subtensor leaves the stored row untouched
  }
  let paid = 0n;
  let burned = 0n;
  for (let i = 0; i < n; i++) {
    const hk = subnet.keys[i]!;
    const server = out.serverEmission[i] ?? 0n;
    const validator = out.validatorEmission[i] ?? 0n;
    if (server > 0n) {
      if (hk === subnet.ownerHotkey) burned += server;
      else changeStake(state, subnet.netuid, hk, state.hotkeyOwner[hk] ?? hk, server);
    }
    distributeToHotkey(state, subnet.netuid, hk, validator);
    paid += server + validator;
  }
  // drain_pending resets the pending amount; rounding dust is not carried over.
  const undistributed = subnet.pendingEmission > paid ? subnet.pendingEmission - paid : 0n;
  subnet.pendingEmission = 0n;
  state.totalBurned += burned + undistributed;
  subnet.epochIndex += 1;
  subnet.lastEpochBlock = block;
  subnet.lastMechanismStepBlock = block;
  return {
    name: 'EpochRun',
    block,
    netuid: subnet.netuid,
    data: { epochIndex: subnet.epochIndex, distributed: paid.toString(), burned: burned.toString(), undistributed: undistributed.toString() },
  };
}
