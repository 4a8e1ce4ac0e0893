export { normalizeMaxWeight, processWeightsForNetuid } from './process.ts';
export type { NormalizeOptions, ProcessWeightsParams, ProcessedWeights } from './process.ts';
export { convertWeightsAndUidsForEmit, convertAndNormalizeWeightsAndUids } from './emit.ts';
export type { EmitWeights } from './emit.ts';
export { clipToMaxWeight, conformWeightsV11, weightsForChain, WEIGHTS_SEMANTICS } from './v11.ts';
export type { ConformV11Params, WeightsForChainParams, WeightsSemantics } from './v11.ts';
export { roundHalfEven } from './float.ts';
export type { FloatDtype } from './float.ts';
export {
  validateSetWeights,
  storedWeightRow,
  maxUpscaleU16,
  checkVecMaxLimited,
  passesRateLimit,
  isSelfWeight,
  SET_WEIGHTS_ERRORS,
} from './rules.ts';
export type { SetWeightsCall, SetWeightsState, SetWeightsError } from './rules.ts';
export {
  commitHashV2,
  encodeCommitPayload,
  generateSalt,
  canReveal,
  isCommitExpired,
  revealStatus,
  currentEpochWithLookahead,
  legacyEpochIndex,
  applyCommit,
  applyReveal,
  netuidStorageIndex,
  MAX_UNREVEALED_COMMITS,
  MECHANISM_STORAGE_STRIDE,
  COMMIT_REVEAL_ERRORS,
} from './commit-reveal.ts';
export type {
  CommitHashInput,
  RevealWindowInput,
  RevealStatus,
  CommitCall,
  CommitRevealState,
  CommitOutcome,
  RevealOutcome,
  CommitRevealError,
} from './commit-reveal.ts';
