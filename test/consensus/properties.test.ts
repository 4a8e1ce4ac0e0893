/** fast-check properties of runEpoch, and the optimised path against the BigInt reference. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EpochInput, EpochOutput, SparseRow } from '../../framework/consensus/types.ts';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { runEpochReference } from '../../framework/consensus/reference.ts';
import { baseInput } from './helpers.ts';

const u16 = fc.integer({ min: 0, max: 65535 });

/** A sparse row over n uids, optionally shuffled (stored rows need not be sorted) or with repeated uids. */
function rowArb(n: number, sorted: boolean, duplicates = false): fc.Arbitrary<SparseRow> {
  const uid = fc.integer({ min: 0, max: n - 1 });
  return (duplicates ? fc.array(uid, { maxLength: n + 2 }) : fc.uniqueArray(uid, { maxLength: n }))
    .chain((uids) => fc.tuple(fc.constant(sorted ? uids.slice().sort((a, b) => a - b) : uids), fc.array(u16, { minLength: uids.length, maxLength: uids.length })))
    .map(([uids, vals]) => uids.map((j, k): [number, number] => [j, vals[k]]));
}

function inputArb(opts: { sorted?: boolean; distinctStake?: boolean; duplicates?: boolean } = {}): fc.Arbitrary<EpochInput> {
  return fc.integer({ min: 1, max: 10 }).chain((n) => {
    const perUid = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: n, maxLength: n });
    const stakeArb = opts.distinctStake
      ? fc.uniqueArray(fc.bigInt({ min: 1n, max: 1_000_000n }), { minLength: n, maxLength: n }) // distinct after I32F32 normalisation: permit ties break by uid
      : perUid(fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n }), fc.bigInt({ min: 0n, max: 10n ** 15n })));
    return fc.record({
      stake: stakeArb,
      lastUpdate: perUid(fc.integer({ min: 0, max: 30 })),
      blockAtRegistration: perUid(fc.integer({ min: 0, max: 30 })),
      currentBlock: fc.integer({ min: 0, max: 40 }),
      activityCutoff: fc.integer({ min: 1, max: 40 }),
      validatorPermit: perUid(fc.boolean()),
      maxAllowedValidators: fc.integer({ min: 0, max: n + 1 }),
      weights: perUid(rowArb(n, opts.sorted ?? false, opts.duplicates)),
      bonds: perUid(rowArb(n, !opts.duplicates, opts.duplicates)),
      kappa: fc.oneof(fc.constant(32767), u16),
      bondsPenalty: fc.oneof(fc.constantFrom(0, 65535), u16),
      bondsMovingAverage: fc.oneof(fc.constantFrom(900_000n, 975_000n), fc.bigInt({ min: 0n, max: 1_000_000n })),
      yuma3: fc.boolean(),
      liquidAlpha: fc.boolean(),
      alphas: fc.tuple(u16, u16),
      alphaSigmoidSteepness: fc.oneof(fc.constant(1000), fc.integer({ min: -32768, max: 32767 })),
      tempo: fc.integer({ min: 0, max: 10 }),
      lastMechanismStepBlock: fc.integer({ min: 0, max: 30 }),
      ownerUid: fc.option(fc.integer({ min: 0, max: n - 1 })),
      emission: fc.oneof(fc.constant(1_000_000_000n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
      commitRevealEnabled: fc.boolean(),
      earliestCommitBlock: perUid(fc.option(fc.integer({ min: 0, max: 30 }))),
    }).map(({ alphas, ...r }) => ({ ...r, n, alphaLow: Math.min(...alphas), alphaHigh: Math.max(...alphas) }));
  });
}

const sumBig = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

describe('runEpoch properties', () => {
  it('optimised path is bit-identical to the BigInt reference', () => {
    fc.assert(fc.property(inputArb(), (input) => {
      expect(runEpoch(structuredClone(input))).toEqual(runEpochReference(structuredClone(input)));
    }), { numRuns: 400 });
  });

  it('… also with repeated uids and unsorted bond rows (the JSON contract allows them)', () => {
    fc.assert(fc.property(inputArb({ duplicates: true }), (input) => {
      expect(runEpoch(structuredClone(input))).toEqual(runEpochReference(structuredClone(input)));
    }), { numRuns: 300 });
  });

  it('bond entries for uids ≥ n are ignored like the Rust does (library callers skip JSON validation)', () => {
    for (const mode of [{ yuma3: false }, { yuma3: true, liquidAlpha: true }, { yuma3: true }]) {
      const input = baseInput(4, {
        ...mode, stake: [5n, 3n, 0n, 0n], validatorPermit: [true, true, false, false], lastUpdate: [3, 3, 0, 0], currentBlock: 4,
        weights: [[[2, 65535], [3, 1000]], [[3, 65535], [2, 5]], [], []],
        bonds: [[[9, 100], [2, 500]], [[3, 7000], [7, 1]], [], []],
      });
      expect(runEpoch(structuredClone(input))).toEqual(runEpochReference(structuredClone(input)));
    }
  });

  it('incentive sums to 65535 (minus rounding) or 0; emissions never exceed the input', () => {
    fc.assert(fc.property(inputArb(), (input) => {
      const o = runEpoch(input);
      const s = o.incentive.reduce((a, b) => a + b, 0);
      expect(s === 0 || (s <= 65535 && s >= 65535 - input.n)).toBe(true);
      expect(sumBig(o.emission)).toBeLessThanOrEqual(input.emission);
      expect(sumBig(o.serverEmission) + sumBig(o.validatorEmission)).toBeLessThanOrEqual(input.emission);
    }), { numRuns: 300 });
  });

  it('relabelling uids permutes the outputs', () => {
    const arb = inputArb({ sorted: true, distinctStake: true }).chain((input) =>
      fc.tuple(fc.constant(input), fc.shuffledSubarray([...Array(input.n).keys()], { minLength: input.n, maxLength: input.n })));
    fc.assert(fc.property(arb, ([input, perm]) => {
      const out = runEpoch(input);
      const permuted = runEpoch(permuteInput(input, perm));
      expect(permuted).toEqual(permuteOutput(out, perm));
    }), { numRuns: 300 });
  });

  it('a cabal with less than kappa of active stake cannot lift consensus above the honest weight', () => {
    const arb = fc.record({
      honest: fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 6 }),
      cabalShare: fc.double({ min: 0, max: 0.45, noNaN: true }),
      cabalCount: fc.integer({ min: 1, max: 4 }),
      miners: fc.integer({ min: 1, max: 5 }),
      seed: fc.array(u16, { minLength: 40, maxLength: 40 }),
    });
    fc.assert(fc.property(arb, ({ honest, cabalShare, cabalCount, miners, seed }) => {
      const H = honest.reduce((a, b) => a + b, 0n);
      const cabalTotal = (H * BigInt(Math.floor(cabalShare * 1e6))) / BigInt(Math.floor((1 - cabalShare) * 1e6));
      const cabal = Array.from({ length: cabalCount }, (_, k) => cabalTotal / BigInt(cabalCount) + (k === 0 ? cabalTotal % BigInt(cabalCount) : 0n));
      const v = honest.length + cabalCount;
      const n = v + miners;
      const honestRow: SparseRow = Array.from({ length: miners }, (_, m): [number, number] => [v + m, seed[m]]);
      const input = baseInput(n, {
        stake: [...honest, ...cabal, ...new Array(miners).fill(0n)],
        validatorPermit: new Array(n).fill(true),
        lastUpdate: new Array(n).fill(5), currentBlock: 6,
      });
      for (let i = 0; i < v; i++) {
        input.weights[i] = i < honest.length ? honestRow
          : Array.from({ length: miners }, (_, m): [number, number] => [v + m, seed[(i * 7 + m) % 40] | 1]);
      }
      const o = runEpoch(input);
      const total = honestRow.reduce((a, [, u]) => a + u, 0);
      for (let m = 0; m < miners; m++) {
        const w = total > 0 ? Math.floor((honestRow[m][1] * 2 ** 32) / total) : 0;
        expect(o.consensus[v + m]).toBeLessThanOrEqual(Math.floor((w * 65535) / 2 ** 32));
      }
    }), { numRuns: 300 });
  });
});

function permuteInput(input: EpochInput, perm: number[]): EpochInput {
  // uid u becomes perm[u]
  const arr = <T>(xs: T[]): T[] => { const out = xs.slice(); xs.forEach((x, u) => { out[perm[u]] = x; }); return out; };
  const row = (r: SparseRow): SparseRow => r.map(([j, v]): [number, number] => [perm[j], v]).sort((a, b) => a[0] - b[0]);
  return {
    ...input,
    stake: arr(input.stake), lastUpdate: arr(input.lastUpdate), blockAtRegistration: arr(input.blockAtRegistration),
    validatorPermit: arr(input.validatorPermit), weights: arr(input.weights.map(row)), bonds: arr(input.bonds.map(row)),
    ownerUid: input.ownerUid === null ? null : perm[input.ownerUid], earliestCommitBlock: arr(input.earliestCommitBlock),
  };
}

function permuteOutput(o: EpochOutput, perm: number[]): EpochOutput {
  const arr = <T>(xs: T[]): T[] => { const out = xs.slice(); xs.forEach((x, u) => { out[perm[u]] = x; }); return out; };
  return {
    active: arr(o.active), validatorPermit: arr(o.validatorPermit), consensus: arr(o.consensus), incentive: arr(o.incentive),
    dividends: arr(o.dividends), validatorTrust: arr(o.validatorTrust), emission: arr(o.emission),
    serverEmission: arr(o.serverEmission), validatorEmission: arr(o.validatorEmission),
    bonds: arr(o.bonds.map((r) => (r === null ? null : r.map(([j, v]): [number, number] => [perm[j], v]).sort((a, b) => a[0] - b[0])))),
  };
}
