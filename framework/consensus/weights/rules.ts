/**
 * Chain-side validation of `set_weights`, in the order subtensor's `internal_set_weights` checks it
 * (pallets/subtensor/src/subnets/weights.rs), and the stored (max-upscaled) form of a weight row.
 * Fixed-point steps use subtensor's I32F32 arithmetic exactly (BigInt raw values, 32 fractional bits).
 */
import { UserError } from '../../errors.ts';

const U16_MAX = 65535;
const FRAC = 32n;
const ONE = 1n << FRAC;
const HALF = 1n << (FRAC - 1n);

/** `check_rate_limit`: never set (`LastUpdate == 0`) or `current − LastUpdate ≥ limit` (saturating). */
export function passesRateLimit(currentBlock: number, lastUpdate: number, rateLimit: number): boolean {
  if (lastUpdate === 0) return true;
  return Math.max(0, currentBlock - lastUpdate) >= rateLimit;
}

/** `is_self_weight`: exactly one weight, on the caller's own uid. */
export function isSelfWeight(uid: number, uids: readonly number[], values: readonly number[]): boolean {
  return values.length === 1 && uids.length > 0 && uids[0] === uid;
}

/** I32F32 round(): nearest, ties away from zero (inputs here are non-negative). */
function roundFixedToInt(raw: bigint): bigint {
  return (raw + HALF) >> FRAC;
}

/**
 * `vec_u16_max_upscale_to_u16`: scale so the max becomes 65535, in I32F32. Above 32768 subtensor multiplies
 * by `65535 / max` (to stay inside I32F32's range), otherwise it computes `v·65535 / max`; both round.
 */
export function maxUpscaleU16(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const max = BigInt(values.reduce((m, v) => (v > m ? v : m), 0));
  if (max === 0n) return values.map(() => 0);
  const u16Max = BigInt(U16_MAX);
  if (max > 32768n) {
    const ratioRaw = (u16Max * ONE) / max; // safe_div truncates
    return values.map((v) => Math.min(U16_MAX, Number(roundFixedToInt(BigInt(v) * ratioRaw))));
  }
  return values.map((v) => Math.min(U16_MAX, Number(roundFixedToInt((BigInt(v) * u16Max * ONE) / max))));
}

/** `check_vec_max_limited`: after normalising to sum 1 (I32F32), is the largest ≤ limit/65535? */
export function checkVecMaxLimited(values: readonly number[], maxLimit: number): boolean {
  if (values.length === 0) return true;
  const limitRaw = (BigInt(maxLimit) * ONE) / BigInt(U16_MAX);
  const sum = values.reduce((a, v) => a + BigInt(v), 0n);
  if (sum === 0n) return true; // inplace_normalize leaves zeros, and 0 ≤ any limit
  const maxRaw = values.reduce((m, v) => {
    const raw = (BigInt(v) * ONE) / sum;
    return raw > m ? raw : m;
  }, 0n);
  return maxRaw <= limitRaw;
}

/** The row subtensor writes to `Weights[netuid][uid]`: `[[uid, maxUpscaled], …]` in call order. */
export function storedWeightRow(uids: readonly number[], values: readonly number[]): Array<[number, number]> {
  assertU16s(uids, 'uid');
  assertU16s(values, 'weight value');
  const up = maxUpscaleU16(values);
  const n = Math.min(uids.length, up.length);
  return Array.from({ length: n }, (_, i): [number, number] => [uids[i], up[i]]);
}

function assertU16s(xs: readonly number[], what: string): void {
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 0 || x > U16_MAX) throw new UserError(`${what} ${x} is not a u16`);
  }
}

/** Every error validateSetWeights can return, in the order subtensor checks them. */
export const SET_WEIGHTS_ERRORS = [
  'CommitRevealEnabled',
  'CanNotSetRootNetworkWeights',
  'WeightVecNotEqualSize',
  'UidsLengthExceedUidsInSubNet',
  'HotKeyNotRegisteredInSubNet',
  'NotEnoughStakeToSetWeights',
  'IncorrectWeightVersionKey',
  'SettingWeightsTooFast',
  'NeuronNoValidatorPermit',
  'DuplicateUids',
  'UidVecContainInvalidOne',
  'WeightVecLengthIsLow',
  'MaxWeightExceeded',
] as const;
export type SetWeightsError = (typeof SET_WEIGHTS_ERRORS)[number];

export interface SetWeightsCall {
  uids: number[];
  values: number[];
  versionKey: bigint;
  /** The signing hotkey's uid on the subnet, null if not registered. */
  hotkeyUid: number | null;
  currentBlock: number;
  /** `LastUpdate` block of the hotkey's uid, 0 = never. */
  lastUpdate: number;
  /**
   * 'set_weights' (default): the extrinsic, refused with CommitRevealEnabled when commit-reveal is on.
   * 'reveal': the `do_set_weights` step of a successful reveal (no CommitRevealEnabled check).
   */
  kind?: 'set_weights' | 'reveal';
  /** When given, netuid 0 (root) is refused with CanNotSetRootNetworkWeights. */
  netuid?: number;
}

export interface SetWeightsState {
  /** `SubnetworkN`; uids 0..n−1 exist. */
  n: number;
  minAllowedWeights: number;
  maxWeightsLimit: number;
  weightsVersionKey: bigint;
  weightsSetRateLimit: number;
  commitRevealEnabled: boolean;
  hasValidatorPermit: boolean;
  /** The caller is the subnet owner's uid (acts as validator regardless of permit). Default false. */
  isOwnerUid?: boolean;
  /** `check_weights_min_stake` (StakeThreshold, default 0). Default true. */
  hasEnoughStake?: boolean;
}

/**
 * subtensor's verdict on a weight-setting call: the error name it would return, or null if accepted.
 * Order: CommitRevealEnabled → CanNotSetRootNetworkWeights → WeightVecNotEqualSize →
 * UidsLengthExceedUidsInSubNet → HotKeyNotRegisteredInSubNet → NotEnoughStakeToSetWeights →
 * IncorrectWeightVersionKey → SettingWeightsTooFast (only with commit-reveal off) → NeuronNoValidatorPermit →
 * DuplicateUids → UidVecContainInvalidOne → WeightVecLengthIsLow → MaxWeightExceeded.
 * Throws UserError for values that are not u16 (such a call could not even be decoded).
 */
export function validateSetWeights(call: SetWeightsCall, state: SetWeightsState): SetWeightsError | null {
  assertU16s(call.uids, 'uid');
  assertU16s(call.values, 'weight value');
  const { uids, values } = call;
  if ((call.kind ?? 'set_weights') === 'set_weights' && state.commitRevealEnabled) return 'CommitRevealEnabled';
  if (call.netuid === 0) return 'CanNotSetRootNetworkWeights';
  if (uids.length !== values.length) return 'WeightVecNotEqualSize';
  if (uids.length > state.n) return 'UidsLengthExceedUidsInSubNet';
  if (call.hotkeyUid === null) return 'HotKeyNotRegisteredInSubNet';
  const uid = call.hotkeyUid;
  if (state.hasEnoughStake === false) return 'NotEnoughStakeToSetWeights';
  if (!(state.weightsVersionKey === 0n || call.versionKey >= state.weightsVersionKey)) return 'IncorrectWeightVersionKey';
  if (!state.commitRevealEnabled && !passesRateLimit(call.currentBlock, call.lastUpdate, state.weightsSetRateLimit)) {
    return 'SettingWeightsTooFast';
  }
  const self = isSelfWeight(uid, uids, values);
  if (!(self || state.isOwnerUid === true || state.hasValidatorPermit)) return 'NeuronNoValidatorPermit';
  if (new Set(uids).size !== uids.length) return 'DuplicateUids';
  if (uids.some((u) => u >= state.n)) return 'UidVecContainInvalidOne';
  const minAllowed = Math.min(state.n, state.minAllowedWeights);
  if (!(self || values.length >= minAllowed)) return 'WeightVecLengthIsLow';
  const upscaled = maxUpscaleU16(values);
  if (!(self || state.maxWeightsLimit === U16_MAX || checkVecMaxLimited(upscaled, state.maxWeightsLimit))) {
    return 'MaxWeightExceeded';
  }
  return null;
}
