export type { EpochInput, EpochOutput, SparseRow } from './types.ts';
export { runEpoch } from './epoch.ts';
export { runEpochReference } from './reference.ts';
export { parseEpochInputJson, epochOutputToJson, epochInputToJson, epochInputSchema } from './json.ts';
export { metagraphToEpochInput, syntheticEpochInput, maxUpscaleRow, metagraphSchema, warmUp } from './scenarios.ts';
export type { MetagraphJson, ScenarioOptions } from './scenarios.ts';
