export { normalizeMaxWeight, processWeightsForNetuid } from './process.ts';
export type { NormalizeOptions, ProcessWeightsParams, ProcessedWeights } from './process.ts';
export { convertWeightsAndUidsForEmit } from './emit.ts';
export type { EmitWeights } from './emit.ts';
export { roundHalfEven } from './float.ts';
export type { FloatDtype } from './float.ts';
