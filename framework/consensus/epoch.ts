/**
 * `runEpoch`: one Yuma Consensus epoch, integer-exact with subtensor's sparse `epoch_mechanism`.
 * Pure function, no I/O.
 */
import type { EpochInput, EpochOutput } from './types.ts';
import { runEpochReference } from './reference.ts';

export function runEpoch(input: EpochInput): EpochOutput {
  return runEpochReference(input);
}
