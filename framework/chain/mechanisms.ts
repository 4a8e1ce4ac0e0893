import type { SparseRow } from '../consensus/types.ts';
import { splitEmissions } from '../consensus/mechanism-split.ts';
import { ChainError, type SubnetHyperparameters, type WeightCommit } from './types.ts';

/**
 * Incentive mechanisms ("sub-subnets", subtensor `MechId`): one subnet, shared uids and stake, but
 * per mechanism its own weights, bonds, LastUpdate, incentive and commits, its own epoch run and its
 * own share of the subnet's emission. Storage is keyed by `mechid·4096 + netuid` on the real chain;
 * mechanism 0 is the netuid itself, which is why LocalChain keeps it in the subnet's own fields.
 */

/** `MaxMechanismCount` (runtime default; root may raise it up to the hard cap). */
export const MAX_MECHANISM_COUNT = 2;
/** `MAX_MECHANISM_COUNT_PER_SUBNET`. */
export const MECHANISM_HARD_CAP = 16;
/** `DefaultMaxAllowedUids`: also the bound on max_allowed_uids × mechanism count. */
export const DEFAULT_MAX_ALLOWED_UIDS = 256;

/** The per-mechanism storage items (the subnet itself satisfies this for mechanism 0). */
export interface MechanismState {
  weights: SparseRow[];
  bonds: SparseRow[];
  lastUpdate: number[];
  incentive: number[];
  weightCommits: Record<string, WeightCommit[]>;
}

interface HasMechanisms extends MechanismState {
  netuid: number;
  hp: SubnetHyperparameters;
  keys: string[];
  blockAtRegistration: number[];
  /** Mechanisms 1 … count−1. */
  mechanisms: MechanismState[];
}

export function mechanismCount(hp: SubnetHyperparameters): number {
  return hp.mechanismCount ?? 1;
}

/** The storage of one mechanism, or `MechanismDoesNotExist`. */
export function mechanismOf(subnet: HasMechanisms, mechid: number): MechanismState {
  if (!Number.isInteger(mechid) || mechid < 0 || mechid >= mechanismCount(subnet.hp)) {
    throw new ChainError('MechanismDoesNotExist', `netuid ${subnet.netuid} has ${mechanismCount(subnet.hp)} mechanism(s); mechid ${mechid}`);
  }
  return mechid === 0 ? subnet : subnet.mechanisms[mechid - 1]!;
}

/**
 * `do_set_mechanism_count` / `do_set_emission_split` / the max-uids rule, checked on a merged
 * hyperparameter record: throws ChainError with subtensor's names.
 */
export function checkMechanismParams(hp: SubnetHyperparameters, maxMechanismCount = MAX_MECHANISM_COUNT): void {
  const count = mechanismCount(hp);
  if (!Number.isInteger(count) || count < 1 || count > maxMechanismCount || count > MECHANISM_HARD_CAP) {
    throw new ChainError('InvalidValue', `mechanismCount must be 1…${Math.min(maxMechanismCount, MECHANISM_HARD_CAP)}`);
  }
  if (hp.maxAllowedUids > DEFAULT_MAX_ALLOWED_UIDS) throw new ChainError('MaxAllowedUidsGreaterThanDefaultMaxAllowedUids', `maxAllowedUids ${hp.maxAllowedUids} > ${DEFAULT_MAX_ALLOWED_UIDS}`);
  if (hp.maxAllowedUids * count > DEFAULT_MAX_ALLOWED_UIDS) {
    throw new ChainError('TooManyUIDsPerMechanism', `maxAllowedUids ${hp.maxAllowedUids} × ${count} mechanisms > ${DEFAULT_MAX_ALLOWED_UIDS}`);
  }
  const split = hp.mechanismEmissionSplit;
  if (split !== undefined) {
    if (split.length === 0 || split.length > count) throw new ChainError('InvalidValue', `mechanismEmissionSplit needs 1…${count} entries`);
    if (split.some((v) => !Number.isInteger(v) || v < 0 || v > 65_535)) throw new ChainError('InvalidValue', 'mechanismEmissionSplit entries are u16');
    if (split.reduce((a, b) => a + b, 0) !== 65_535) throw new ChainError('InvalidValue', 'mechanismEmissionSplit must sum to 65535');
  }
}

/**
 * After a count change (`update_mechanism_counts_if_needed`): grow with empty storage and drop the
 * storage of removed mechanisms. `previousCount` is the old count. (The split reset to even on a
 * count change is done where the hyperparameters are merged, so a patch may set both at once.)
 */
export function resizeMechanisms(subnet: HasMechanisms, previousCount: number): void {
  const count = mechanismCount(subnet.hp);
  if (count === previousCount) return;
  const n = subnet.keys.length;
  subnet.mechanisms = subnet.mechanisms.slice(0, count - 1);
  while (subnet.mechanisms.length < count - 1) {
    subnet.mechanisms.push({
      weights: Array.from({ length: n }, () => []),
      bonds: Array.from({ length: n }, () => []),
      // A fresh mechanism's LastUpdate is empty on chain (0 per uid), so no uid is active there yet.
      lastUpdate: Array.from({ length: n }, () => 0),
      incentive: Array.from({ length: n }, () => 0),
      weightCommits: {},
    });
  }
}

/** Every mechanism's storage, mechanism 0 first. */
export function allMechanisms(subnet: HasMechanisms): MechanismState[] {
  return [subnet, ...subnet.mechanisms];
}

export { splitEmissions };

/** Weight of a mechanism in the aggregated terms: sub/total as U64F64 (mechanism 0 gets 1 when total is 0). */
export function mechanismWeightQ64(sub: bigint, total: bigint, mechid: number): bigint {
  if (total === 0n) return mechid === 0 ? 1n << 64n : 0n;
  return (sub << 64n) / total;
}

/** `weighted_acc_u16`: existing + added·weight, truncated, saturating at u16::MAX. */
export function weightedAccU16(existing: number, added: number, weightQ64: bigint): number {
  const v = BigInt(existing) + ((BigInt(added) * weightQ64) >> 64n);
  return v > 65_535n ? 65_535 : Number(v);
}

/** `weighted_acc_alpha`: the same for RAO amounts. */
export function weightedAccRao(existing: bigint, added: bigint, weightQ64: bigint): bigint {
  return existing + ((added * weightQ64) >> 64n);
}
