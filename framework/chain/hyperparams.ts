import type { SubnetHyperparameters } from './types.ts';
import { ChainError } from './types.ts';
import { hyperparametersPatchSchema, type HyperparametersPatch } from './codec.ts';
import { checkMechanismParams } from './mechanisms.ts';

/** 1 TAO in RAO. */
export const RAO_PER_TAO = 1_000_000_000n;
/** `SubnetOwnerCut` (u16 proportion, 18 %). */
export const SUBNET_OWNER_CUT_U16 = 11_796n;
/** Registration burn: per-block decay half-life and per-registration multiplier (§2). */
export const BURN_HALF_LIFE_BLOCKS = 360;
export const BURN_INCREASE_NUM = 126n;
export const BURN_INCREASE_DEN = 100n;
/** Unrevealed v2 commits kept per hotkey. */
export const MAX_UNREVEALED_COMMITS = 10;
/** `DefaultMinStake` — smaller add/remove amounts fail with AmountTooLow. */
export const MIN_STAKE_RAO = 500_000n;

/** Derived cutoff as HEAD subtensor reads it: max(1, factor·tempo/1000). */
export function activityCutoffFor(tempo: number, factorMilli: number): number {
  return Math.max(1, Math.floor((factorMilli * tempo) / 1000));
}

/** subtensor runtime defaults with the `init_new_network` overrides applied (spec §2). */
export function newSubnetHyperparameters(): SubnetHyperparameters {
  const tempo = 360;
  const factor = 13_889;
  return {
    tempo,
    kappa: 32_767,
    rho: 10,
    immunityPeriod: 5000, // new subnets (runtime default 4096)
    minAllowedWeights: 1, // new subnets (runtime default 1024)
    maxWeightsLimit: 65_535,
    weightsSetRateLimit: 100,
    weightsVersionKey: 0n,
    activityCutoff: activityCutoffFor(tempo, factor),
    activityCutoffFactorMilli: factor,
    maxAllowedValidators: 64, // new subnets (runtime default 128)
    maxAllowedUids: 256,
    bondsMovingAverage: 900_000n,
    bondsPenalty: 65_535,
    bondsResetOn: false,
    commitRevealWeightsEnabled: true,
    revealPeriodEpochs: 1,
    liquidAlphaOn: false,
    alphaLow: 45_875,
    alphaHigh: 58_982,
    alphaSigmoidSteepness: 1000,
    yuma3On: true, // forced on by init_new_network
    servingRateLimit: 50,
    burn: RAO_PER_TAO,
    minBurn: 500_000n,
    maxBurn: 100n * RAO_PER_TAO,
    mechanismCount: 1,
  };
}

/**
 * Validate an owner's patch and return the merged hyperparameters, or throw ChainError with the
 * subtensor/admin-utils error name. This is the root (sudo) path: no freeze window or owner rate
 * limit. Range checks follow subtensor, except tempo (any 1…50 400 here, so demos can run fast
 * epochs; the owner's `setTempo` keeps subtensor's 360…50 400).
 */
export function applyHyperparameterPatch(current: SubnetHyperparameters, patch: unknown, n: number): SubnetHyperparameters {
  if (patch !== null && typeof patch === 'object' && 'activityCutoff' in patch) {
    throw new ChainError('InvalidValue', 'activityCutoff is derived from tempo; set activityCutoffFactorMilli instead');
  }
  if (patch !== null && typeof patch === 'object' && 'revealPeriodEpochs' in patch) {
    const r = (patch as { revealPeriodEpochs: unknown }).revealPeriodEpochs;
    if (typeof r === 'number' && r > 100) throw new ChainError('RevealPeriodTooLarge');
    if (typeof r === 'number' && r < 1) throw new ChainError('RevealPeriodTooSmall');
  }
  const parsed = hyperparametersPatchSchema.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ChainError('InvalidValue', issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'invalid hyperparameters');
  }
  const p: HyperparametersPatch = parsed.data;
  const next: SubnetHyperparameters = { ...current, ...stripUndefined(p) };
  if (p.mechanismCount !== undefined && p.mechanismCount !== (current.mechanismCount ?? 1) && p.mechanismEmissionSplit === undefined) {
    delete next.mechanismEmissionSplit; // a count change resets the split to even
  }
  if (next.maxAllowedUids < n) throw new ChainError('MaxAllowedUIdsLessThanCurrentUIds', `maxAllowedUids ${next.maxAllowedUids} is below the current ${n} neurons`);
  checkMechanismParams(next);
  if (next.alphaLow < 1638 || next.alphaLow > next.alphaHigh) throw new ChainError('AlphaLowOutOfRange');
  if (next.bondsMovingAverage > 975_000n) throw new ChainError('InvalidValue', 'bondsMovingAverage must be ≤ 975000');
  if (next.minBurn > next.maxBurn) throw new ChainError('InvalidValue', 'minBurn must be ≤ maxBurn');
  next.burn = clampBig(next.burn, next.minBurn, next.maxBurn);
  next.activityCutoff = activityCutoffFor(next.tempo, next.activityCutoffFactorMilli ?? 13_889);
  return next;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function clampBig(x: bigint, lo: bigint, hi: bigint): bigint {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Q32 per-block decay factor for a half-life in blocks: 2^(-1/halfLife)·2^32, rounded. */
export function burnDecayFactorQ32(halfLife: number): bigint {
  return BigInt(Math.round(2 ** (-1 / halfLife) * 2 ** 32));
}
