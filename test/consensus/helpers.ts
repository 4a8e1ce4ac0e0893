import type { EpochInput, EpochOutput, SparseRow } from '../../framework/consensus/types.ts';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { runEpochReference } from '../../framework/consensus/reference.ts';
import { expect } from 'vitest';

/** An epoch input with subtensor's defaults (mock: E = 1e9, kappa 32767, BMA 900 000, β = 1). */
export function baseInput(n: number, over: Partial<EpochInput> = {}): EpochInput {
  return {
    n,
    stake: new Array(n).fill(0n),
    lastUpdate: new Array(n).fill(0),
    blockAtRegistration: new Array(n).fill(0),
    currentBlock: 0,
    activityCutoff: 5000,
    validatorPermit: new Array(n).fill(false),
    maxAllowedValidators: n,
    weights: Array.from({ length: n }, () => []),
    bonds: Array.from({ length: n }, () => []),
    kappa: 32767,
    bondsPenalty: 65535,
    bondsMovingAverage: 900_000n,
    yuma3: false,
    liquidAlpha: false,
    alphaLow: 45875,
    alphaHigh: 58982,
    alphaSigmoidSteepness: 1000,
    tempo: 1,
    lastMechanismStepBlock: 0,
    ownerUid: null,
    emission: 1_000_000_000n,
    commitRevealEnabled: false,
    earliestCommitBlock: new Array(n).fill(null),
    ...over,
  };
}

/**
 * A tiny stand-in for subtensor's storage across epochs, enough to replay the pallet's epoch tests:
 * weights/bonds/permits/last-update persist, each epoch's outputs are written back like `persist_*`.
 */
export class MiniSubnet {
  input: EpochInput;
  last: EpochOutput | null = null;
  constructor(input: EpochInput) {
    this.input = input;
  }
  setWeights(uid: number, row: SparseRow, block = this.input.currentBlock): void {
    this.input.weights[uid] = row;
    this.input.lastUpdate[uid] = block;
  }
  setBlock(block: number): void {
    this.input.currentBlock = block;
  }
  epoch(): EpochOutput {
    const out = runEpoch(structuredClone(this.input));
    const ref = runEpochReference(structuredClone(this.input));
    expect(out).toEqual(ref);
    this.input.validatorPermit = out.validatorPermit.slice();
    this.input.bonds = this.input.bonds.map((row, i) => out.bonds[i] ?? row);
    this.last = out;
    return out;
  }
  bond(i: number, j: number): number {
    return this.input.bonds[i].find(([c]) => c === j)?.[1] ?? 0;
  }
}

/** I32F32 from an f32 literal, as subtensor tests' `fixed(x)` (round to nearest). */
export function fixedF32(x: number): bigint {
  return BigInt(Math.round(Math.fround(x) * 2 ** 32));
}
