export { startValidator } from './runtime.ts';
export type { StartValidatorParams, ValidatorOptions, ValidatorHandle, ValidatorStateView, DendriteLike, DendriteResponseLike, AxonTargetLike } from './types.ts';
export { computeEmitWeights } from './weights.ts';
export type { WeightOutcome } from './commit-reveal.ts';
export { createValidatorMetrics, type ValidatorMetrics } from './metrics.ts';
export { validatorStateSchema, type ValidatorStateFile, type StoredCommit } from './state.ts';
export { looksLikeOwnOutage } from './options.ts';
export { startMechanismValidators, mechanismStatePath, type StartMechanismValidatorsParams, type MechanismValidatorsHandle } from './mechanisms.ts';
