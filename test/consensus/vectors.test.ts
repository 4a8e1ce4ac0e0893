/**
 * The reference vectors of /work/shared/specs/yuma-consensus.md §5 (subtensor's tests/epoch.rs, math.rs),
 * replayed epoch by epoch through runEpoch (each epoch is also checked against the BigInt reference).
 */
import { describe, expect, it } from 'vitest';
import { weightedMedianColSparse } from '../../framework/consensus/reference.ts';
import { baseInput, fixedF32, MiniSubnet } from './helpers.ts';

describe('V1 weighted_median_col', () => {
  const sparse = (rows: number[][]) => rows.map((r) => r.flatMap((v, j): Array<[number, bigint]> => (v === 0 ? [] : [[j, fixedF32(v)]])));
  it('stake [0,.75,.25,0]', () => {
    const stake = [0, 0.75, 0.25, 0].map(fixedF32);
    const w = sparse([[0, 0.1, 0], [0, 0.2, 0.4], [0, 0.3, 0.1], [0, 0.4, 0.5]]);
    expect(weightedMedianColSparse(stake, w, 3, fixedF32(0.24))).toEqual([0, 0.3, 0.4].map(fixedF32));
    expect(weightedMedianColSparse(stake, w, 3, fixedF32(0.26))).toEqual([0, 0.2, 0.4].map(fixedF32));
    expect(weightedMedianColSparse(stake, w, 3, fixedF32(0.76))).toEqual([0, 0.2, 0.1].map(fixedF32));
  });
  it('stake [0,.3,.2,.5], kappa .51', () => {
    const stake = [0, 0.3, 0.2, 0.5].map(fixedF32);
    const w = sparse([[0, 0.1, 0], [0, 0.2, 0.4], [0, 0.3, 0.1], [0, 0, 0.5]]);
    expect(weightedMedianColSparse(stake, w, 3, fixedF32(0.51))).toEqual([0, 0, 0.4].map(fixedF32));
  });
});

describe('V2 test_active_stake (original Yuma)', () => {
  it('three epochs', () => {
    const s = new MiniSubnet(baseInput(4, { stake: [1n, 1n, 1n, 1n], maxAllowedValidators: 4 }));
    s.epoch(); // block 0: issue permits
    s.setBlock(1);
    s.setWeights(0, [[2, 65535], [3, 65535]]);
    s.setWeights(1, [[2, 65535], [3, 65535]]);
    let o = s.epoch();
    expect(o.dividends).toEqual([32767, 32767, 0, 0]);
    expect(o.emission).toEqual([250_000_000n, 250_000_000n, 250_000_000n, 250_000_000n]);
    expect(s.input.bonds[0]).toEqual([[2, 65535], [3, 65535]]);
    expect(s.input.bonds[1]).toEqual([[2, 65535], [3, 65535]]);

    s.setBlock(5002);
    s.setWeights(0, [[2, 65535], [3, 65535]]);
    o = s.epoch();
    expect(o.active).toEqual([true, false, false, false]);
    expect(o.dividends).toEqual([36044, 29490, 0, 0]);
    expect(o.emission).toEqual([274_999_999n, 224_999_999n, 250_000_000n, 250_000_000n]);
    expect([s.bond(0, 2), s.bond(0, 3), s.bond(1, 2), s.bond(1, 3)]).toEqual([65535, 65535, 53619, 53619]);

    s.setWeights(1, [[2, 65535], [3, 65535]]);
    s.setBlock(5003);
    o = s.epoch();
    expect(o.dividends).toEqual([35716, 29818, 0, 0]);
    expect(o.emission).toEqual([272_501_132n, 227_498_866n, 250_000_000n, 250_000_000n]);
    expect([s.bond(0, 2), s.bond(1, 2), s.bond(1, 3)]).toEqual([65535, 54712, 54712]);
  });
});

describe('V3 test_bonds (original Yuma)', () => {
  it('seven steps', () => {
    const s = new MiniSubnet(baseInput(8, {
      stake: [1n, 2n, 3n, 4n, 0n, 0n, 0n, 0n], maxAllowedValidators: 8,
      blockAtRegistration: new Array(8).fill(1), lastUpdate: new Array(8).fill(1), currentBlock: 1,
    }));
    s.epoch();
    expect(s.input.validatorPermit).toEqual([true, true, true, true, false, false, false, false]);
    s.setBlock(2);
    for (let uid = 0; uid < 4; uid++) s.setWeights(uid, [[4, 16383], [5, 32767], [6, 49149], [7, 65535]]);
    const col = (j: number) => [0, 1, 2, 3].map((i) => s.bond(i, j));
    s.epoch();
    expect(col(4)).toEqual([16383, 32767, 49151, 65535]);
    const steps: Array<[() => void, number, number[]]> = [
      [() => s.setWeights(0, [[0, 65535]]), 4, [14582, 32767, 49151, 65535]],
      [() => s.setWeights(1, [[1, 65535]]), 4, [12603, 28321, 49151, 65535]],
      [() => s.setWeights(2, [[2, 65535]]), 7, [12602, 28320, 49150, 65535]],
      [() => s.setWeights(2, [[7, 65535]]), 7, [10951, 24609, 49150, 65535]],
      [() => {}, 7, [9559, 21482, 49150, 65535]],
      [() => {}, 7, [8376, 18824, 49150, 65535]],
    ];
    for (const [change, j, expected] of steps) {
      change(); // at the current block, then the chain moves one block and runs the epoch
      s.setBlock(s.input.currentBlock + 1);
      s.epoch();
      expect(col(j)).toEqual(expected);
    }
    expect(s.last?.emission).toEqual([29_518_068n, 66_336_137n, 173_203_134n, 230_942_659n, 0n, 0n, 0n, 500_000_000n]);
  });
});

describe('V4 zero-emission fallback and outdated weights', () => {
  it('test_10_graph: self-weights only → stake fallback', () => {
    const s = new MiniSubnet(baseInput(10, { stake: new Array(10).fill(1n), tempo: 65534, currentBlock: 1 }));
    for (let i = 0; i < 10; i++) s.setWeights(i, [[i, 65535]]);
    const o = s.epoch();
    expect(o.incentive.every((x) => x === 0) && o.dividends.every((x) => x === 0)).toBe(true);
    expect(o.emission).toEqual(new Array(10).fill(99_999_999n));
  });

  it('test_zero_weights', () => {
    const s = new MiniSubnet(baseInput(2, { stake: [1n, 0n], tempo: 65534 }));
    expect(s.epoch().emission).toEqual([1_000_000_000n, 0n]);
    s.setBlock(1);
    s.setWeights(1, [[1, 65535]]);
    expect(s.epoch().emission).toEqual([1_000_000_000n, 0n]);
    s.setBlock(2);
    s.setWeights(0, [[1, 65535]]);
    // uid 1 re-registers in the same block: weights to it become outdated
    s.input.blockAtRegistration[1] = 2;
    s.input.weights[1] = [];
    s.input.lastUpdate[1] = 2;
    expect(s.epoch().emission).toEqual([1_000_000_000n, 0n]);
    s.setBlock(3);
    s.setWeights(0, [[1, 65535]]);
    expect(s.epoch().emission).toEqual([500_000_000n, 500_000_000n]);
  });

  it('test_outdated_weights', () => {
    const s = new MiniSubnet(baseInput(4, { stake: [1n, 1n, 1n, 1n], tempo: 0, activityCutoff: 1 }));
    s.epoch();
    s.setBlock(1);
    for (const uid of [0, 1]) s.setWeights(uid, [[2, 65535], [3, 32768]]);
    for (const uid of [2, 3]) s.setWeights(uid, [[uid, 65535]]);
    let o = s.epoch();
    expect(o.emission).toEqual([250_000_000n, 250_000_000n, 333_331_637n, 166_668_361n]);
    // uid 3 is replaced at block 1: no stake, no permit, no weights; then only uid 0 refreshes at block 2
    s.input.stake[3] = 0n;
    s.input.validatorPermit[3] = false;
    s.input.blockAtRegistration[3] = 1;
    s.input.lastUpdate[3] = 1;
    s.input.weights[3] = [];
    s.input.bonds[3] = [];
    s.setBlock(2);
    s.setWeights(0, [[2, 65535], [3, 32768]]);
    o = s.epoch();
    expect(o.dividends[0]).toBe(32767);
    expect(o.emission[0]).toBe(250_000_000n);
    expect([s.bond(0, 2), s.bond(0, 3)]).toEqual([65535, 65535]);
  });
});

/** setup_yuma_3_scenario: 3 validators (uids 0-2), servers 3 and 4, Yuma 3, β = 0, BMA 975 000. */
function yuma3Subnet(stake: bigint[], liquidAlpha: boolean): MiniSubnet {
  const s = new MiniSubnet(baseInput(5, {
    stake, maxAllowedValidators: 3, bondsPenalty: 0, bondsMovingAverage: 975_000n, yuma3: true, liquidAlpha,
    alphaLow: 6553, alphaHigh: 19660, alphaSigmoidSteepness: 1000, tempo: 1,
    blockAtRegistration: new Array(5).fill(1), lastUpdate: new Array(5).fill(1), currentBlock: 2,
  }));
  s.epoch(); // permits
  return s;
}

const TO = { s3: [[3, 65535], [4, 0]] as Array<[number, number]>, s4: [[3, 0], [4, 65535]] as Array<[number, number]> };

function runYuma3(s: MiniSubnet, schedule: Array<Array<'s3' | 's4'> | null>, bonds: number[][][], dividends: number[][]): void {
  schedule.forEach((targets, e) => {
    if (targets) targets.forEach((t, uid) => s.setWeights(uid, TO[t]));
    s.setBlock(s.input.currentBlock + 1);
    const o = s.epoch();
    for (let v = 0; v < 3; v++) {
      expect(Math.abs(o.dividends[v] / 65535 - dividends[e][v]), `e${e} D${v}`).toBeLessThanOrEqual(1e-4);
      for (let k = 0; k < 2; k++) {
        expect(Math.abs(s.bond(v, 3 + k) / 65535 - bonds[e][v][k]), `e${e} B${v},${3 + k}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });
}

describe('V5 Yuma 3 with liquid alpha: kappa_moves_first', () => {
  it('six epochs', () => {
    const s = yuma3Subnet([8n, 1n, 1n, 0n, 0n], true);
    runYuma3(s,
      [['s3', 's3', 's3'], ['s4', 's3', 's3'], ['s4', 's4', 's3'], ['s4', 's4', 's4'], null, null],
      [
        [[0.1013, 0], [0.1013, 0], [0.1013, 0]],
        [[0.0908, 0.1013], [0.3697, 0], [0.3697, 0]],
        [[0.0815, 0.1924], [0.3170, 0.1013], [0.5580, 0]],
        [[0.0731, 0.2742], [0.2765, 0.1924], [0.4306, 0.1013]],
        [[0.0656, 0.3478], [0.2435, 0.2742], [0.3589, 0.1924]],
        [[0.0588, 0.4139], [0.2157, 0.3478], [0.3089, 0.2742]],
      ],
      [[0.8, 0.1, 0.1], [1, 0, 0], [0.9382, 0.0618, 0], [0.8819, 0.0773, 0.0407], [0.8564, 0.0844, 0.0592], [0.8418, 0.0884, 0.0697]],
    );
  });
});

describe('V6 Yuma 3 without liquid alpha (α = 0.025)', () => {
  it('six epochs', () => {
    const s = yuma3Subnet([33n, 33n, 34n, 0n, 0n], false);
    const all3: Array<'s3' | 's4'> = ['s3', 's3', 's3'];
    const b = (ab: number, c3: number, c4: number) => [[ab, 0], [ab, 0], [c3, c4]];
    runYuma3(s,
      [all3, all3, ['s3', 's3', 's4'], all3, all3, all3],
      [b(0.025, 0.025, 0), b(0.0494, 0.0494, 0), b(0.0731, 0.0481, 0.025), b(0.0963, 0.0719, 0.0244), b(0.1189, 0.0951, 0.0238), b(0.1409, 0.1178, 0.0232)],
      [[0.33, 0.33, 0.34], [0.33, 0.33, 0.34], [0.3734, 0.3734, 0.2532], [0.3611, 0.3611, 0.2779], [0.3541, 0.3541, 0.2919], [0.3495, 0.3495, 0.3009]],
    );
  });
});
