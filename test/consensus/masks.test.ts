/** Hand-reasoned checks of the permit, activity, owner, commit-reveal and bond-storage rules (spec §1.2–1.3). */
import { describe, expect, it } from 'vitest';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { runEpochReference } from '../../framework/consensus/reference.ts';
import type { EpochInput } from '../../framework/consensus/types.ts';
import { baseInput } from './helpers.ts';

function both(input: EpochInput) {
  const out = runEpoch(structuredClone(input));
  expect(out).toEqual(runEpochReference(structuredClone(input)));
  return out;
}

describe('epoch masks and storage rules', () => {
  it('top-k permits: stable ascending sort drops the lower uid among ties; zero stake never gets one', () => {
    const o = both(baseInput(4, { stake: [1n, 1n, 1n, 0n], maxAllowedValidators: 2 }));
    expect(o.validatorPermit).toEqual([false, true, true, false]);
    const few = both(baseInput(3, { stake: [5n, 0n, 1n], maxAllowedValidators: 8 })); // n < k
    expect(few.validatorPermit).toEqual([true, false, true]);
  });

  it('activity: inactive only when lastUpdate + cutoff < currentBlock', () => {
    const o = both(baseInput(3, { lastUpdate: [10, 9, 0], activityCutoff: 5, currentBlock: 15 }));
    expect(o.active).toEqual([true, false, false]);
  });

  it('the owner keeps its permit and its self-weight; others lose the diagonal', () => {
    const input = baseInput(3, { stake: [10n, 0n, 0n], validatorPermit: [true, false, false], lastUpdate: [5, 0, 0], currentBlock: 6 });
    input.weights[0] = [[0, 65535]];
    const withOwner = both({ ...structuredClone(input), ownerUid: 0 });
    expect(withOwner.consensus[0]).toBe(65535);
    expect(withOwner.incentive).toEqual([65535, 0, 0]);
    const noOwner = both(input);
    expect(noOwner.incentive).toEqual([0, 0, 0]); // self-weight masked → zero-emission fallback
    expect(noOwner.emission).toEqual([1_000_000_000n, 0n, 0n]);
    const zeroStakeOwner = both(baseInput(2, { stake: [0n, 3n], ownerUid: 0 }));
    expect(zeroStakeOwner.validatorPermit).toEqual([true, true]);
  });

  it('outdated and commit-reveal masks drop weights to uids registered later', () => {
    const input = baseInput(3, {
      stake: [1n, 0n, 0n], validatorPermit: [true, false, false], blockAtRegistration: [0, 5, 10],
      lastUpdate: [20, 5, 10], currentBlock: 21, commitRevealEnabled: true, earliestCommitBlock: [7, null, null],
    });
    input.weights[0] = [[1, 65535], [2, 65535]];
    expect(both(input).incentive).toEqual([0, 65535, 0]); // committed at 7 < registration of uid 2 (10)
    expect(both({ ...structuredClone(input), commitRevealEnabled: false }).incentive).toEqual([0, 32767, 32767]);
    expect(both({ ...structuredClone(input), lastUpdate: [10, 5, 10], commitRevealEnabled: false }).incentive).toEqual([0, 65535, 0]);
  });

  it('bond rows: written with a new permit, emptied when the permit is lost, untouched (null) otherwise', () => {
    const input = baseInput(3, {
      stake: [4n, 1n, 0n], validatorPermit: [true, true, false], maxAllowedValidators: 1, lastUpdate: [5, 5, 0], currentBlock: 6,
    });
    input.weights[0] = [[2, 65535]];
    input.weights[1] = [[2, 65535]];
    input.bonds[1] = [[2, 65535]];
    const o = both(input);
    expect(o.validatorPermit).toEqual([true, false, false]);
    // EMA (α = 0.1) of ΔB = [0.8, 0.2] over old B = [0, 1]: [0.08, 0.92], column max-upscaled: 0.08/0.92·65535
    expect(o.bonds[0]).toEqual([[2, 5698]]);
    expect(o.bonds[1]).toEqual([]);
    expect(o.bonds[2]).toBeNull();
  });
});
