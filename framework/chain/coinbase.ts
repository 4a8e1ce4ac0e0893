import type { EpochInput, EpochOutput } from '../consensus/types.ts';
import type { ChainEvent } from './codec.ts';
import type { ChainState, SubnetState } from './state.ts';
import { BURN_HALF_LIFE_BLOCKS, SUBNET_OWNER_CUT_U16, burnDecayFactorQ32, clampBig } from './hyperparams.ts';
import { changeStake, currentEpochWithLookahead, distributeToHotkey, shouldRunEpoch, totalHotkeyStake } from './state-ops.ts';
import { commitIsLive } from './weights-adapter.ts';
import { mechanismCount, mechanismOf, mechanismWeightQ64, splitEmissions, weightedAccRao, weightedAccU16 } from './mechanisms.ts';
import { MAX_EPOCHS_PER_BLOCK, emissionStarted } from './schedule.ts';

export type EpochFn = (input: EpochInput) => EpochOutput;

const DECAY_Q32 = burnDecayFactorQ32(BURN_HALF_LIFE_BLOCKS);

/**
 * `block_step` for the new head block, in subtensor's order: registration price decay, then coinbase
 * (emission into pending, owner cut) and the epochs that are due. Mutates `state`; returns events.
 */
export function blockStep(state: ChainState, runEpoch: EpochFn): ChainEvent[] {
  const block = state.head.number;
  const events: ChainEvent[] = [];
  let epochsThisBlock = 0;
  for (const subnet of Object.values(state.subnets)) {
    if (block > 1) subnet.hp.burn = clampBig((subnet.hp.burn * DECAY_Q32) >> 32n, subnet.hp.minBurn, subnet.hp.maxBurn);
    // Only subnets whose owner has called start_call receive emission (get_subnets_to_emit_to).
    if (emissionStarted(subnet, block)) emitToSubnet(state, subnet);
    if (!shouldRunEpoch(subnet, block)) continue;
    if (epochsThisBlock >= MAX_EPOCHS_PER_BLOCK) {
      subnet.pendingEpochAt = block + 1;
      events.push({ name: 'EpochDeferred', block, netuid: subnet.netuid, data: { toBlock: block + 1 } });
      continue;
    }
    epochsThisBlock++;
    events.push(runSubnetEpoch(state, subnet, runEpoch));
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

/**
 * Build EpochInput from storage exactly as `epoch_mechanism(netuid, mechid, emission)` reads it:
 * weights, bonds, LastUpdate and commits of that mechanism; stake, permits and registration of the subnet.
 */
export function epochInputFor(state: ChainState, subnet: SubnetState, mechid = 0, emission = subnet.pendingEmission): EpochInput {
  const n = subnet.keys.length;
  const block = state.head.number;
  const ownerUid = subnet.keys.indexOf(subnet.ownerHotkey);
  const mech = mechanismOf(subnet, mechid);
  // is_commit_expired inside the epoch sees the look-ahead epoch (the one firing now).
  const epochNow = currentEpochWithLookahead(subnet, block);
  const earliestCommitBlock = subnet.keys.map((hk) => {
    const live = (mech.weightCommits[hk] ?? []).filter((c) => commitIsLive(subnet, c.commitEpoch, epochNow));
    return live.length === 0 ? null : Math.min(...live.map((c) => c.commitBlock));
  });
  return {
    n,
    stake: subnet.keys.map((hk) => totalHotkeyStake(state, subnet.netuid, hk)),
    lastUpdate: [...mech.lastUpdate],
    blockAtRegistration: [...subnet.blockAtRegistration],
    currentBlock: block,
    activityCutoff: subnet.hp.activityCutoff,
    validatorPermit: [...subnet.validatorPermit],
    maxAllowedValidators: subnet.hp.maxAllowedValidators,
    weights: mech.weights.map((r) => r.map(([j, v]) => [j, v] as [number, number])),
    bonds: mech.bonds.map((r) => r.map(([j, v]) => [j, v] as [number, number])),
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
    emission,
    commitRevealEnabled: subnet.hp.commitRevealWeightsEnabled,
    earliestCommitBlock,
  };
}

/**
 * `epoch_with_mechanisms`: split the pending emission by `MechanismEmissionSplit`, run the epoch per
 * mechanism (persisting its incentive and bonds), aggregate the subnet-level terms weighted by each
 * mechanism's share, and pay out: incentive to the miner hotkey's owner (burned when it lands on the
 * owner hotkey, like subtensor's recycle), dividends pro rata to the validator hotkey's stakers.
 */
function runSubnetEpoch(state: ChainState, subnet: SubnetState, runEpoch: EpochFn): ChainEvent {
  const block = state.head.number;
  const n = subnet.keys.length;
  const total = subnet.pendingEmission;
  const count = mechanismCount(subnet.hp);
  const shares = splitEmissions(total, count, subnet.hp.mechanismEmissionSplit);
  const agg = {
    server: new Array<bigint>(n).fill(0n),
    validator: new Array<bigint>(n).fill(0n),
    dividends: new Array<number>(n).fill(0),
    consensus: new Array<number>(n).fill(0),
    validatorTrust: new Array<number>(n).fill(0),
    emission: new Array<bigint>(n).fill(0n),
    active: new Array<boolean>(n).fill(false),
    permit: new Array<boolean>(n).fill(false),
  };
  for (let mechid = 0; mechid < count; mechid++) {
    const mech = mechanismOf(subnet, mechid);
    const out = runEpoch(epochInputFor(state, subnet, mechid, shares[mechid]!));
    mech.incentive = out.incentive.slice(0, n);
    for (let i = 0; i < n; i++) {
      const row = out.bonds[i];
      if (row) mech.bonds[i] = row; // null: subtensor leaves the stored row untouched
    }
    const w = mechanismWeightQ64(shares[mechid]!, total, mechid);
    for (let i = 0; i < n; i++) {
      agg.server[i]! += out.serverEmission[i] ?? 0n;
      agg.validator[i]! += out.validatorEmission[i] ?? 0n;
      agg.dividends[i] = weightedAccU16(agg.dividends[i]!, out.dividends[i] ?? 0, w);
      agg.consensus[i] = weightedAccU16(agg.consensus[i]!, out.consensus[i] ?? 0, w);
      agg.validatorTrust[i] = weightedAccU16(agg.validatorTrust[i]!, out.validatorTrust[i] ?? 0, w);
      agg.emission[i] = weightedAccRao(agg.emission[i]!, out.emission[i] ?? 0n, w);
      agg.active[i] ||= out.active[i] ?? false;
      agg.permit[i] ||= out.validatorPermit[i] ?? false;
    }
  }
  subnet.active = agg.active;
  subnet.consensus = agg.consensus;
  subnet.dividends = agg.dividends;
  subnet.validatorTrust = agg.validatorTrust;
  subnet.emission = agg.emission;
  subnet.validatorPermit = agg.permit;
  let paid = 0n;
  let burned = 0n;
  for (let i = 0; i < n; i++) {
    const hk = subnet.keys[i]!;
    const server = agg.server[i]!;
    const validator = agg.validator[i]!;
    if (server > 0n) {
      if (hk === subnet.ownerHotkey) burned += server;
      else changeStake(state, subnet.netuid, hk, state.hotkeyOwner[hk] ?? hk, server);
    }
    distributeToHotkey(state, subnet.netuid, hk, validator);
    paid += server + validator;
  }
  // drain_pending resets the pending amount; rounding dust is not carried over.
  const undistributed = total > paid ? total - paid : 0n;
  subnet.pendingEmission = 0n;
  state.totalBurned += burned + undistributed;
  subnet.epochIndex += 1;
  subnet.lastEpochBlock = block;
  subnet.lastMechanismStepBlock = block;
  subnet.pendingEpochAt = 0;
  return {
    name: 'EpochRun',
    block,
    netuid: subnet.netuid,
    data: { epochIndex: subnet.epochIndex, mechanisms: count, distributed: paid.toString(), burned: burned.toString(), undistributed: undistributed.toString() },
  };
}
