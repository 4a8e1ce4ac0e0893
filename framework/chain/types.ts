import type { Keypair } from '../wallet/keypair.ts';

/**
 * The chain as the framework sees it, shaped after subtensor (pallet SubtensorModule): storage-backed
 * reads and signed extrinsics. Implemented by LocalChain (in-process), the localnet HTTP/WS client,
 * and later a real-subtensor adapter on @polkadot/api — so every method is async and every write is
 * signed by the key subtensor would require (coldkey or hotkey, as noted).
 */

export type Ss58 = string;

export interface BlockInfo {
  number: number;
  /** 0x-prefixed 32-byte hash (randomness source for seeded tasks). */
  hash: string;
  /** Unix ms when the block was produced. */
  timestamp: number;
}

/** subtensor `AxonInfo` (ip as a dotted/colon string here; u128 on chain). */
export interface AxonInfo {
  block: number;
  version: number;
  ip: string;
  port: number;
  ipType: 4 | 6;
  protocol: number;
  placeholder1: number;
  placeholder2: number;
}

/** Subnet hyperparameters, subtensor storage names in camelCase. */
export interface SubnetHyperparameters {
  tempo: number;
  kappa: number;
  rho: number;
  immunityPeriod: number;
  minAllowedWeights: number;
  maxWeightsLimit: number;
  weightsSetRateLimit: number;
  weightsVersionKey: bigint;
  activityCutoff: number;
  /** HEAD subtensor derives the cutoff as max(1, factor·tempo/1000); LocalChain fills this. */
  activityCutoffFactorMilli?: number;
  maxAllowedValidators: number;
  maxAllowedUids: number;
  bondsMovingAverage: bigint;
  bondsPenalty: number;
  bondsResetOn: boolean;
  commitRevealWeightsEnabled: boolean;
  revealPeriodEpochs: number;
  liquidAlphaOn: boolean;
  alphaLow: number;
  alphaHigh: number;
  alphaSigmoidSteepness: number;
  yuma3On: boolean;
  servingRateLimit: number;
  /** Current burn cost of registration, RAO. */
  burn: bigint;
  minBurn: bigint;
  maxBurn: bigint;
  /** `MechanismCountCurrent`: incentive mechanisms of the subnet (1 when absent). */
  mechanismCount?: number;
  /** `MechanismEmissionSplit`: u16 shares per mechanism summing to 65535; absent = even split. */
  mechanismEmissionSplit?: number[];
}

/** Selects an incentive mechanism (subtensor `MechId`); absent means mechanism 0. */
export interface MechanismOption {
  mechid?: number;
}

/** Epoch schedule of a subnet (`LastEpochBlock`, `PendingEpochAt`, `FirstEmissionBlockNumber`). */
export interface EpochSchedule {
  tempo: number;
  lastEpochBlock: number;
  /** Block of an owner-triggered epoch; 0 = none pending. */
  pendingEpochAt: number;
  /** `get_next_epoch_start_block`. */
  nextEpochBlock: number;
  /** `FirstEmissionBlockNumber`: null until the owner's `start_call`. */
  firstEmissionBlock: number | null;
  epochIndex: number;
}

/**
 * A snapshot of one subnet's neurons, indexed by uid (subtensor `Metagraph` runtime API, or
 * `get_mechagraph` for another mechanism: then `incentive` and `lastUpdate` are that mechanism's).
 */
export interface Metagraph {
  netuid: number;
  /** Mechanism whose incentive/lastUpdate this is (absent = 0). */
  mechid?: number;
  block: number;
  n: number;
  ownerHotkey: Ss58 | null;
  hotkeys: Ss58[];
  coldkeys: Ss58[];
  /** Stake weight per uid, RAO (alpha + tao_weight·tao on the real chain). */
  stake: bigint[];
  validatorPermit: boolean[];
  active: boolean[];
  lastUpdate: number[];
  blockAtRegistration: number[];
  axons: Array<AxonInfo | null>;
  /** u16 proportions as stored. */
  incentive: number[];
  dividends: number[];
  consensus: number[];
  validatorTrust: number[];
  /** RAO per uid from the last epoch. */
  emission: bigint[];
}

export interface ServeAxonParams {
  version: number;
  ip: string;
  port: number;
  ipType: 4 | 6;
  protocol: number;
}

/** A v2 commit as stored in `WeightCommits`. */
export interface WeightCommit {
  hash: string;
  commitEpoch: number;
  commitBlock: number;
}

export type Unsubscribe = () => void;

export interface Chain {
  readonly kind: 'local' | 'localnet' | 'subtensor';
  getBlock(): Promise<BlockInfo>;
  /** Called once per new block, in order. */
  subscribeBlocks(onBlock: (block: BlockInfo) => void): Unsubscribe;

  getBalance(coldkey: Ss58): Promise<bigint>;
  subnetExists(netuid: number): Promise<boolean>;
  /** Netuids that exist, ascending (optional: a chain without it is probed with `subnetExists`). */
  listSubnets?(): Promise<number[]>;
  getHyperparameters(netuid: number): Promise<SubnetHyperparameters>;
  getMetagraph(netuid: number, opts?: MechanismOption): Promise<Metagraph>;
  getUid(netuid: number, hotkey: Ss58): Promise<number | null>;
  /** `SubnetEpochIndex`: number of epochs run so far (commit-reveal timing). */
  getEpochIndex(netuid: number): Promise<number>;
  getWeightCommits(netuid: number, hotkey: Ss58, opts?: MechanismOption): Promise<WeightCommit[]>;
  /** Stake of `coldkey` on `hotkey` in a subnet, RAO (optional: adapters without a per-coldkey read omit it). */
  getStake?(netuid: number, hotkey: Ss58, coldkey: Ss58): Promise<bigint>;
  /** Stored weight rows for a uid, `[[uid, u16], …]` (of mechanism `opts.mechid`, default 0). */
  getWeights(netuid: number, uid: number, opts?: MechanismOption): Promise<Array<[number, number]>>;

  /**
   * Signed by the coldkey; returns the new netuid. Dev chains also accept initial hyperparameter
   * overrides (applied atomically with the registration, same checks as setHyperparameters).
   */
  registerNetwork(coldkey: Keypair, ownerHotkey: Ss58, hyperparameters?: Partial<SubnetHyperparameters>): Promise<number>;
  /** `burned_register`, signed by the coldkey; returns the uid. */
  burnedRegister(coldkey: Keypair, netuid: number, hotkey: Ss58): Promise<number>;
  /** `serve_axon`, signed by the hotkey. */
  serveAxon(hotkey: Keypair, netuid: number, axon: ServeAxonParams): Promise<void>;
  /** `add_stake`, signed by the coldkey, amount in RAO. */
  addStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void>;
  removeStake(coldkey: Keypair, hotkey: Ss58, netuid: number, amount: bigint): Promise<void>;
  /** `Balances.transfer_keep_alive`, signed by the coldkey, amount in RAO (optional: not every chain adapter has it yet). */
  transfer?(coldkey: Keypair, dest: Ss58, amount: bigint): Promise<void>;
  /**
   * `set_weights` (or `set_mechanism_weights` when `opts.mechid` is given), signed by the hotkey;
   * values are u16 as emitted by convertWeightsAndUidsForEmit.
   */
  setWeights(hotkey: Keypair, netuid: number, uids: number[], values: number[], versionKey: bigint, opts?: MechanismOption): Promise<void>;
  /** `commit_weights` / `commit_mechanism_weights` (commit-reveal v2), signed by the hotkey. */
  commitWeights(hotkey: Keypair, netuid: number, commitHash: string, opts?: MechanismOption): Promise<void>;
  /** `reveal_weights` / `reveal_mechanism_weights`, signed by the hotkey. */
  revealWeights(
    hotkey: Keypair,
    netuid: number,
    uids: number[],
    values: number[],
    salt: number[],
    versionKey: bigint,
    opts?: MechanismOption,
  ): Promise<void>;
  /** `start_call`, signed by the owner coldkey: emission starts the next block. */
  startCall?(coldkey: Keypair, netuid: number): Promise<void>;
  /** Owner `set_tempo` (360–50 400, outside the freeze window, once per 360 blocks); restarts the cycle. */
  setTempo?(coldkey: Keypair, netuid: number, tempo: number): Promise<void>;
  /** Owner `trigger_epoch`: an epoch fires after the freeze window; refused while commit-reveal is on. */
  triggerEpoch?(coldkey: Keypair, netuid: number): Promise<void>;
  /** Owner `sudo_set_mechanism_count`. */
  setMechanismCount?(coldkey: Keypair, netuid: number, count: number): Promise<void>;
  /** Owner `sudo_set_mechanism_emission_split` (null resets to the even split). */
  setMechanismEmissionSplit?(coldkey: Keypair, netuid: number, split: number[] | null): Promise<void>;
  /** Scheduler state (`LastEpochBlock`, `PendingEpochAt`, `FirstEmissionBlockNumber`). */
  getEpochSchedule?(netuid: number): Promise<EpochSchedule>;
  close(): Promise<void>;
}

/** Extra calls only a development chain offers (LocalChain and the localnet server). */
export interface DevChain extends Chain {
  /** Credit free balance to a coldkey (dev faucet), RAO. */
  faucet(coldkey: Ss58, amount: bigint): Promise<void>;
  /** Owner-only (sudo on localnet): set hyperparameters of a subnet. */
  setHyperparameters(owner: Keypair, netuid: number, params: Partial<SubnetHyperparameters>): Promise<void>;
}

/** True for chains that offer the development calls (faucet, setHyperparameters). */
export function isDevChain(chain: Chain): chain is DevChain {
  return typeof (chain as Partial<DevChain>).faucet === 'function';
}

/**
 * A failed extrinsic. `code` is subtensor's error name (e.g. `SettingWeightsTooFast`,
 * `HotKeyNotRegisteredInSubNet`, `NotEnoughBalanceToStake`) so callers can branch on it.
 */
export class ChainError extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'ChainError';
    this.code = code;
  }
}
