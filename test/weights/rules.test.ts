import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkVecMaxLimited,
  maxUpscaleU16,
  passesRateLimit,
  storedWeightRow,
  validateSetWeights,
  type SetWeightsCall,
  type SetWeightsState,
} from '../../framework/consensus/weights/index.ts';
import { UserError } from '../../framework/errors.ts';

const okState: SetWeightsState = {
  n: 8,
  minAllowedWeights: 3,
  maxWeightsLimit: 65535,
  weightsVersionKey: 5n,
  weightsSetRateLimit: 100,
  commitRevealEnabled: false,
  hasValidatorPermit: true,
};
const okCall: SetWeightsCall = {
  uids: [0, 1, 2, 3],
  values: [100, 200, 300, 400],
  versionKey: 5n,
  hotkeyUid: 1,
  currentBlock: 1000,
  lastUpdate: 900,
};

describe('validateSetWeights', () => {
  it('accepts a valid call', () => {
    expect(validateSetWeights(okCall, okState)).toBeNull();
  });

  it('reports errors in subtensor’s order (fixing one failure reveals the next)', () => {
    // One call breaking every rule; each step repairs the rule just reported.
    const steps: Array<[string, (c: SetWeightsCall, s: SetWeightsState) => void]> = [
      ['CommitRevealEnabled', (_c, s) => { s.commitRevealEnabled = false; }],
      ['CanNotSetRootNetworkWeights', (c) => { c.netuid = 1; }],
      ['WeightVecNotEqualSize', (c) => { c.values = c.values.slice(0, c.uids.length); }],
      ['UidsLengthExceedUidsInSubNet', (_c, s) => { s.n = 3; }],
      ['HotKeyNotRegisteredInSubNet', (c) => { c.hotkeyUid = 1; }],
      ['NotEnoughStakeToSetWeights', (_c, s) => { s.hasEnoughStake = true; }],
      ['IncorrectWeightVersionKey', (c) => { c.versionKey = 7n; }],
      ['SettingWeightsTooFast', (c) => { c.lastUpdate = 0; }],
      ['NeuronNoValidatorPermit', (_c, s) => { s.hasValidatorPermit = true; }],
      ['DuplicateUids', (c) => { c.uids = [0, 2, 9]; }],
      ['UidVecContainInvalidOne', (_c, s) => { s.n = 10; }],
      ['WeightVecLengthIsLow', (_c, s) => { s.minAllowedWeights = 3; }],
      ['MaxWeightExceeded', (_c, s) => { s.maxWeightsLimit = 65534; }],
    ];
    const call: SetWeightsCall = {
      uids: [0, 2, 2], values: [65535, 1, 1, 1], versionKey: 3n, hotkeyUid: null, currentBlock: 1000, lastUpdate: 950, netuid: 0,
    };
    const state: SetWeightsState = {
      ...okState, n: 2, minAllowedWeights: 4, maxWeightsLimit: 30000, weightsVersionKey: 6n,
      commitRevealEnabled: true, hasValidatorPermit: false, hasEnoughStake: false,
    };
    const seen: string[] = [];
    for (const [expected, fix] of steps) {
      const got = validateSetWeights(call, state);
      seen.push(got ?? 'null');
      expect(got).toBe(expected);
      fix(call, state);
    }
    expect(validateSetWeights(call, state)).toBeNull();
    expect(seen).toHaveLength(13);
  });

  it('rate limit: LastUpdate == 0 always passes, else current − last ≥ limit', () => {
    expect(validateSetWeights({ ...okCall, lastUpdate: 901 }, okState)).toBe('SettingWeightsTooFast');
    expect(validateSetWeights({ ...okCall, lastUpdate: 900 }, okState)).toBeNull();
    expect(validateSetWeights({ ...okCall, lastUpdate: 0, currentBlock: 1 }, okState)).toBeNull();
    expect(passesRateLimit(50, 60, 0)).toBe(true); // saturating subtraction
    expect(passesRateLimit(50, 60, 1)).toBe(false);
  });

  it('rate limit is not checked when commit-reveal is on (reveal path)', () => {
    const cr = { ...okState, commitRevealEnabled: true };
    expect(validateSetWeights({ ...okCall, lastUpdate: 999, kind: 'reveal' }, cr)).toBeNull();
  });

  it('version key: network key 0 accepts anything, otherwise key ≥ network key', () => {
    expect(validateSetWeights({ ...okCall, versionKey: 0n }, { ...okState, weightsVersionKey: 0n })).toBeNull();
    expect(validateSetWeights({ ...okCall, versionKey: 4n }, okState)).toBe('IncorrectWeightVersionKey');
    expect(validateSetWeights({ ...okCall, versionKey: 99n }, okState)).toBeNull();
  });

  it('self-weight is exempt from permit, min length and max limit', () => {
    const self = { ...okCall, uids: [1], values: [65535] };
    const strict = { ...okState, hasValidatorPermit: false, minAllowedWeights: 5, maxWeightsLimit: 100 };
    expect(validateSetWeights(self, strict)).toBeNull();
    expect(validateSetWeights({ ...self, uids: [2] }, strict)).toBe('NeuronNoValidatorPermit');
    expect(validateSetWeights({ ...self, uids: [2] }, { ...strict, hasValidatorPermit: true })).toBe('WeightVecLengthIsLow');
    expect(validateSetWeights({ ...self, uids: [2] }, { ...strict, isOwnerUid: true })).toBe('WeightVecLengthIsLow');
  });

  it('min allowed weights is capped by n', () => {
    const small = { ...okState, n: 2, minAllowedWeights: 1024 };
    expect(validateSetWeights({ ...okCall, uids: [0, 1], values: [1, 1] }, small)).toBeNull();
    expect(validateSetWeights({ ...okCall, uids: [0], values: [1] }, small)).toBe('WeightVecLengthIsLow');
  });

  it('max weight limit uses the normalised max-upscaled values', () => {
    const s = { ...okState, minAllowedWeights: 1 };
    // [1, 1] → each 0.5; limit 32767/65535 < 0.5 fails, 32768/65535 > 0.5 passes.
    expect(validateSetWeights({ ...okCall, uids: [0, 2], values: [1, 1] }, { ...s, maxWeightsLimit: 32767 })).toBe('MaxWeightExceeded');
    expect(validateSetWeights({ ...okCall, uids: [0, 2], values: [1, 1] }, { ...s, maxWeightsLimit: 32768 })).toBeNull();
  });

  it('non-u16 input is a UserError (not decodable on chain)', () => {
    expect(() => validateSetWeights({ ...okCall, values: [1, 2, 3, 70000] }, okState)).toThrow(UserError);
    expect(() => validateSetWeights({ ...okCall, uids: [0, 1, 2, -1] }, okState)).toThrow(UserError);
  });
});

describe('stored form (subtensor math vec_u16_max_upscale_to_u16 / check_vec_max_limited)', () => {
  it('reproduces subtensor’s own unit-test cases', () => {
    const cases: Array<[number[], number[]]> = [
      [[], []], [[0], [0]], [[0, 0], [0, 0]], [[1], [65535]], [[0, 1], [0, 65535]],
      [[65534], [65535]], [[65535], [65535]], [[65535, 65535], [65535, 65535]],
      [[0, 1, 65534], [0, 1, 65535]], [[0, 1, 2, 3, 4, 65533, 65535], [0, 1, 2, 3, 4, 65533, 65535]],
    ];
    for (const [input, expected] of cases) expect(maxUpscaleU16(input)).toEqual(expected);
    const limited: Array<[number[], number, boolean]> = [
      [[], 0, true], [[], 65535, true], [[65535], 65535, true], [[65535], 65534, false], [[65535], 0, false],
      [[0], 65535, true], [[0, 65535], 65535, true], [[0, 65535, 65535], 32767, false],
      [[0, 65535, 65535], 32768, true], [[0, 65535, 65535, 65535], 21844, false], [[0, 65535, 65535, 65535], 21845, true],
    ];
    for (const [v, lim, ok] of limited) expect(checkVecMaxLimited(v, lim), `${v} ${lim}`).toBe(ok);
  });

  it('is fixed-point, not float: truncated 65535/max ratio above 32768, v·65535/max below', () => {
    // Real 20000·65535/40000 = 32767.5 would round to 32768; I32F32 truncates 65535/40000 first.
    expect(maxUpscaleU16([40000, 20000])).toEqual([65535, 32767]);
    // At or below 32768 the product is exact, so the tie rounds away from zero.
    expect(maxUpscaleU16([32768, 16384])).toEqual([65535, 32768]);
    expect(maxUpscaleU16([2, 1])).toEqual([65535, 32768]);
  });

  it('storedWeightRow zips uids with upscaled values in call order', () => {
    expect(storedWeightRow([5, 2, 9], [10, 20, 5])).toEqual([[5, 32768], [2, 65535], [9, 16384]]);
    expect(() => storedWeightRow([70000], [1])).toThrow(UserError);
  });

  it('upscaled max is 65535 and order is preserved (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 64 }), (v) => {
        const up = maxUpscaleU16(v);
        if (v.every((x) => x === 0)) {
          // (not `return expect(…)`: fast-check takes any returned value other than true/undefined as a failure)
          expect(up.every((x) => x === 0)).toBe(true);
          return;
        }
        expect(Math.max(...up)).toBe(65535);
        for (let i = 0; i < v.length; i++) {
          for (let j = 0; j < v.length; j++) if (v[i] <= v[j]) expect(up[i]).toBeLessThanOrEqual(up[j]);
          // Within one unit of the exact real-valued upscale.
          expect(Math.abs(up[i] - (v[i] * 65535) / Math.max(...v))).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});
