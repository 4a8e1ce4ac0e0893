import { isIP } from 'node:net';
import { ChainError } from './types.ts';
import type { ChainState, SubnetState } from './state.ts';
import type { ChainCall, ChainEvent } from './codec.ts';
import { CALL_ROLE } from './codec.ts';
import {
  BURN_INCREASE_DEN,
  BURN_INCREASE_NUM,
  MIN_STAKE_RAO,
  applyHyperparameterPatch,
  clampBig,
  newSubnetHyperparameters,
} from './hyperparams.ts';
import {
  balanceOf,
  changeStake,
  debitBalance,
  getSubnet,
  neuronToPrune,
  stakeOf,
  uidOf,
} from './state-ops.ts';
import { mechanismCount, mechanismOf, resizeMechanisms } from './mechanisms.ts';
import { initialLastEpochBlock } from './schedule.ts';
import { applyOwnerCall } from './owner-calls.ts';
import { checkSetWeights, commitHashFor, commitWeights, revealQueue, weightRowToStore } from './weights-adapter.ts';

export interface DispatchContext {
  /** RAO locked from the owner's balance by `registerNetwork`. */
  networkLockCost: bigint;
}

export interface DispatchResult {
  result: number | null;
  events: ChainEvent[];
}

/**
 * Apply one signed call to the state at the head block, like an extrinsic in the next block after
 * `on_initialize`. Throws ChainError (subtensor's error name) and leaves the state untouched on failure:
 * every check runs before the first write.
 */
/** subtensor's ExistentialDeposit (500 RAO). */
export const EXISTENTIAL_DEPOSIT_RAO = 500n;

export function applyCall(state: ChainState, origin: string, call: ChainCall, ctx: DispatchContext): DispatchResult {
  checkRole(state, origin, call);
  const block = state.head.number;
  switch (call.call) {
    case 'registerNetwork':
      return registerNetwork(state, origin, call.args.ownerHotkey, call.args.hyperparameters, ctx, block);
    case 'burnedRegister':
      return burnedRegister(state, origin, call.args.netuid, call.args.hotkey, block);
    case 'serveAxon': {
      const subnet = getSubnet(state, call.args.netuid);
      const uid = requireUid(subnet, origin);
      const a = call.args.axon;
      if (a.ipType !== 4 && a.ipType !== 6) throw new ChainError('InvalidIpType');
      if (isIP(a.ip) !== a.ipType) throw new ChainError('InvalidIpAddress', `${a.ip} is not an IPv${a.ipType} address`);
      if (a.port < 1 || a.port > 65535) throw new ChainError('InvalidPort');
      const prev = subnet.axons[uid];
      if (prev && prev.block !== 0 && block - prev.block < subnet.hp.servingRateLimit) {
        throw new ChainError('ServingRateLimitExceeded', `last served at block ${prev.block}, limit ${subnet.hp.servingRateLimit} blocks`);
      }
      subnet.axons[uid] = { block, version: a.version, ip: a.ip, port: a.port, ipType: a.ipType, protocol: a.protocol, placeholder1: 0, placeholder2: 0 };
      return ok(null, { name: 'AxonServed', block, netuid: subnet.netuid, data: { hotkey: origin, uid } });
    }
    case 'addStake': {
      const { hotkey, netuid, amount } = call.args;
      getSubnet(state, netuid);
      if (!state.hotkeyOwner[hotkey]) throw new ChainError('HotKeyAccountNotExists');
      if (amount < MIN_STAKE_RAO) throw new ChainError('AmountTooLow', `minimum stake is ${MIN_STAKE_RAO} RAO`);
      if (balanceOf(state, origin) < amount) throw new ChainError('NotEnoughBalanceToStake');
      debitBalance(state, origin, amount);
      changeStake(state, netuid, hotkey, origin, amount);
      return ok(null, { name: 'StakeAdded', block, netuid, data: { coldkey: origin, hotkey, amount: amount.toString() } });
    }
    case 'removeStake': {
      const { hotkey, netuid, amount } = call.args;
      getSubnet(state, netuid);
      if (!state.hotkeyOwner[hotkey]) throw new ChainError('HotKeyAccountNotExists');
      if (amount < MIN_STAKE_RAO) throw new ChainError('AmountTooLow', `minimum unstake is ${MIN_STAKE_RAO} RAO`);
      if (stakeOf(state, netuid, hotkey, origin) < amount) throw new ChainError('NotEnoughStakeToWithdraw');
      changeStake(state, netuid, hotkey, origin, -amount);
      state.balances[origin] = balanceOf(state, origin) + amount;
      return ok(null, { name: 'StakeRemoved', block, netuid, data: { coldkey: origin, hotkey, amount: amount.toString() } });
    }
    case 'transfer': {
      // Balances.transfer_keep_alive: the sender keeps at least the existential deposit
      const { dest, amount } = call.args;
      if (amount === 0n) throw new ChainError('AmountTooLow', 'cannot transfer 0 RAO');
      if (balanceOf(state, origin) < amount + EXISTENTIAL_DEPOSIT_RAO) throw new ChainError('InsufficientBalance', `balance ${balanceOf(state, origin)} RAO cannot pay ${amount} RAO and keep the existential deposit of ${EXISTENTIAL_DEPOSIT_RAO} RAO`);
      debitBalance(state, origin, amount);
      state.balances[dest] = balanceOf(state, dest) + amount;
      return ok(null, { name: 'Transfer', block, data: { from: origin, to: dest, amount: amount.toString() } });
    }
    case 'setWeights': {
      const subnet = getSubnet(state, call.args.netuid);
      return setWeightsInternal(subnet, origin, call.args, block, 'set_weights');
    }
    case 'commitWeights': {
      const subnet = getSubnet(state, call.args.netuid);
      const mechid = call.args.mechid ?? 0;
      const epoch = commitWeights(subnet, origin, call.args.commitHash, block, mechanismOf(subnet, mechid));
      return ok(null, { name: 'WeightsCommitted', block, netuid: subnet.netuid, data: { hotkey: origin, hash: call.args.commitHash, epoch, mechid } });
    }
    case 'revealWeights': {
      const subnet = getSubnet(state, call.args.netuid);
      const a = call.args;
      const mech = mechanismOf(subnet, a.mechid ?? 0);
      const { queue } = revealQueue(subnet, origin, commitHashFor(origin, subnet.netuid, a.uids, a.values, a.salt, a.versionKey, a.mechid ?? 0), block, mech);
      // Validate and store before touching the queue, so a failed reveal leaves the commits in place.
      const result = setWeightsInternal(subnet, origin, a, block, 'reveal');
      if (queue.length === 0) delete mech.weightCommits[origin];
      else mech.weightCommits[origin] = queue;
      return result;
    }
    case 'setHyperparameters': {
      const subnet = getSubnet(state, call.args.netuid);
      if (subnet.ownerColdkey !== origin) throw new ChainError('NotSubnetOwner');
      const previousCount = mechanismCount(subnet.hp);
      subnet.hp = applyHyperparameterPatch(subnet.hp, call.args.params, subnet.keys.length);
      resizeMechanisms(subnet, previousCount);
      if ('tempo' in call.args.params) subnet.lastEpochBlock = block; // sudo_set_tempo restarts the cycle
      return ok(null, { name: 'HyperparametersSet', block, netuid: subnet.netuid, data: { fields: Object.keys(call.args.params).join(',') } });
    }
    case 'startCall':
    case 'setTempo':
    case 'triggerEpoch':
    case 'setMechanismCount':
    case 'setMechanismEmissionSplit':
      return applyOwnerCall(state, origin, call, block);
  }
}

function ok(result: number | null, ...events: ChainEvent[]): DispatchResult {
  return { result, events };
}

/** The server verified the signature; here the signer must also hold the right role for the call. */
function checkRole(state: ChainState, origin: string, call: ChainCall): void {
  if (CALL_ROLE[call.call] === 'coldkey') {
    const owner = state.hotkeyOwner[origin];
    if (owner !== undefined && owner !== origin) {
      throw new ChainError('BadOrigin', `${call.call} must be signed by a coldkey, but ${origin} is a hotkey of ${owner}`);
    }
  } else if (state.hotkeyOwner[origin] === undefined && Object.values(state.hotkeyOwner).includes(origin)) {
    throw new ChainError('TransactorAccountShouldBeHotKey', `${call.call} must be signed by a hotkey, but ${origin} is a coldkey`);
  }
}

function requireUid(subnet: SubnetState, hotkey: string): number {
  const uid = uidOf(subnet, hotkey);
  if (uid === null) throw new ChainError('HotKeyNotRegisteredInSubNet', `${hotkey} on netuid ${subnet.netuid}`);
  return uid;
}

function claimHotkey(state: ChainState, coldkey: string, hotkey: string): void {
  const owner = state.hotkeyOwner[hotkey];
  if (owner !== undefined && owner !== coldkey) throw new ChainError('NonAssociatedColdKey', `hotkey ${hotkey} belongs to another coldkey`);
}

function registerNetwork(
  state: ChainState,
  coldkey: string,
  ownerHotkey: string,
  overrides: Record<string, unknown> | undefined,
  ctx: DispatchContext,
  block: number,
): DispatchResult {
  if (ownerHotkey === coldkey) throw new ChainError('NonAssociatedColdKey', 'the owner hotkey must differ from the coldkey');
  claimHotkey(state, coldkey, ownerHotkey);
  const hp = overrides ? applyHyperparameterPatch(newSubnetHyperparameters(), overrides, 1) : newSubnetHyperparameters();
  if (balanceOf(state, coldkey) < ctx.networkLockCost) throw new ChainError('CannotAffordLockCost', `lock cost is ${ctx.networkLockCost} RAO`);
  let netuid = 1;
  while (state.subnets[String(netuid)]) netuid++;
  if (netuid > 65535) throw new ChainError('SubnetLimitReached');
  if (ctx.networkLockCost > 0n) debitBalance(state, coldkey, ctx.networkLockCost);
  state.totalBurned += ctx.networkLockCost;
  state.hotkeyOwner[ownerHotkey] = coldkey;
  const subnet: SubnetState = {
    netuid,
    ownerColdkey: coldkey,
    ownerHotkey,
    registeredAt: block,
    hp,
    keys: [],
    blockAtRegistration: [],
    lastUpdate: [],
    weights: [],
    bonds: [],
    validatorPermit: [],
    active: [],
    incentive: [],
    dividends: [],
    consensus: [],
    validatorTrust: [],
    emission: [],
    axons: [],
    weightCommits: {},
    epochIndex: 0,
    lastEpochBlock: block,
    lastMechanismStepBlock: 0,
    pendingEmission: 0n,
    mechanisms: [],
    pendingEpochAt: 0,
    firstEmissionBlock: null,
    ownerLastBlock: {},
  };
  subnet.lastEpochBlock = initialLastEpochBlock(netuid, hp.tempo, block);
  resizeMechanisms(subnet, 1);
  state.subnets[String(netuid)] = subnet;
  appendNeuron(subnet, ownerHotkey, block); // the owner hotkey becomes uid 0, as in do_register_network
  return ok(netuid, { name: 'NetworkAdded', block, netuid, data: { owner: coldkey, ownerHotkey } });
}

function appendNeuron(subnet: SubnetState, hotkey: string, block: number): number {
  subnet.keys.push(hotkey);
  subnet.blockAtRegistration.push(block);
  subnet.lastUpdate.push(block);
  subnet.weights.push([]);
  subnet.bonds.push([]);
  subnet.validatorPermit.push(false);
  subnet.active.push(true);
  subnet.incentive.push(0);
  subnet.dividends.push(0);
  subnet.consensus.push(0);
  subnet.validatorTrust.push(0);
  subnet.emission.push(0n);
  subnet.axons.push(null);
  for (const m of subnet.mechanisms) {
    m.weights.push([]);
    m.bonds.push([]);
    m.lastUpdate.push(block);
    m.incentive.push(0);
  }
  return subnet.keys.length - 1;
}

/** `replace_neuron` + `clear_neuron`: the new hotkey takes the uid with a clean slate. */
function replaceNeuron(subnet: SubnetState, uid: number, hotkey: string, block: number): void {
  const old = subnet.keys[uid]!;
  for (const m of subnet.mechanisms) {
    delete m.weightCommits[old];
    m.weights[uid] = [];
    m.bonds[uid] = [];
    m.lastUpdate[uid] = block;
    m.incentive[uid] = 0;
    for (const row of m.weights) for (const entry of row) if (entry[0] === uid) entry[1] = 0;
  }
  delete subnet.weightCommits[old];
  subnet.keys[uid] = hotkey;
  subnet.blockAtRegistration[uid] = block;
  subnet.lastUpdate[uid] = block;
  subnet.weights[uid] = [];
  subnet.bonds[uid] = [];
  for (const row of subnet.weights) for (const entry of row) if (entry[0] === uid) entry[1] = 0;
  subnet.validatorPermit[uid] = false;
  subnet.active[uid] = true;
  subnet.incentive[uid] = 0;
  subnet.dividends[uid] = 0;
  subnet.consensus[uid] = 0;
  subnet.validatorTrust[uid] = 0;
  subnet.emission[uid] = 0n;
  subnet.axons[uid] = null;
}

function burnedRegister(state: ChainState, coldkey: string, netuid: number, hotkey: string, block: number): DispatchResult {
  const subnet = getSubnet(state, netuid);
  if (uidOf(subnet, hotkey) !== null) throw new ChainError('HotKeyAlreadyRegisteredInSubNet');
  const cost = subnet.hp.burn;
  if (balanceOf(state, coldkey) < cost) throw new ChainError('NotEnoughBalanceToStake', `registration burn is ${cost} RAO`);
  if (hotkey === coldkey) throw new ChainError('NonAssociatedColdKey', 'the hotkey must differ from the coldkey');
  claimHotkey(state, coldkey, hotkey);
  const full = subnet.keys.length >= subnet.hp.maxAllowedUids;
  const prune = full ? neuronToPrune(subnet, block) : null;
  if (full && prune === null) throw new ChainError('NoNeuronIdAvailable', 'the subnet is full and every neuron is immune');
  debitBalance(state, coldkey, cost);
  state.totalBurned += cost;
  state.hotkeyOwner[hotkey] = coldkey;
  let uid: number;
  const events: ChainEvent[] = [];
  if (prune !== null) {
    const old = subnet.keys[prune]!;
    replaceNeuron(subnet, prune, hotkey, block);
    uid = prune;
    events.push({ name: 'NeuronPruned', block, netuid, data: { uid, hotkey: old } });
  } else {
    uid = appendNeuron(subnet, hotkey, block);
  }
  subnet.hp.burn = clampBig((cost * BURN_INCREASE_NUM) / BURN_INCREASE_DEN, subnet.hp.minBurn, subnet.hp.maxBurn);
  events.push({ name: 'NeuronRegistered', block, netuid, data: { uid, hotkey, coldkey, burned: cost.toString() } });
  return { result: uid, events };
}

interface WeightsArgs {
  netuid: number;
  mechid?: number;
  uids: number[];
  values: number[];
  versionKey: bigint;
}

function setWeightsInternal(subnet: SubnetState, hotkey: string, args: WeightsArgs, block: number, kind: 'set_weights' | 'reveal'): DispatchResult {
  const mechid = args.mechid ?? 0;
  const mech = mechanismOf(subnet, mechid);
  const uid = checkSetWeights(subnet, hotkey, args, block, kind, mech);
  mech.weights[uid] = weightRowToStore(args.uids, args.values);
  // With commit-reveal on, LastUpdate moves on commits only (a reveal bypasses the rate limit too).
  if (!subnet.hp.commitRevealWeightsEnabled) mech.lastUpdate[uid] = block;
  const name = kind === 'reveal' ? 'WeightsRevealed' : 'WeightsSet';
  return ok(null, { name, block, netuid: subnet.netuid, data: { hotkey, uid, count: args.uids.length, mechid } });
}
