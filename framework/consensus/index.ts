export type { EpochInput, EpochOutput, SparseRow } from './types.ts';
export { runEpoch } from './epoch.ts';
export { runEpochReference } from './reference.ts';
