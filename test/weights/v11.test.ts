import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../framework/cli/program.ts';
import { registerWeightsCommands } from '../../framework/consensus/weights/cli.ts';
import { clipToMaxWeight, conformWeightsV11, weightsForChain } from '../../framework/consensus/weights/index.ts';
import { computeEmitWeights } from '../../framework/validator/weights.ts';
import type { Metagraph } from '../../framework/chain/types.ts';
import { requirePython } from '../protocol/python-oracle.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Case {
  uids: number[];
  weights: number[];
  minAllowedWeights: number;
  maxWeightsLimit: number;
  selfUid: number | null;
  out?: { uids: number[]; values: number[] };
  error?: 'zero' | 'too_few';
}

if (requirePython('SDK v11 SetWeights vectors')) {
  describe('SDK v11 SetWeights conforming against CPython (scripts/vectors/weights_v11.py, run now)', () => {
    const { cases } = JSON.parse(execFileSync('python3', [`${root}scripts/vectors/weights_v11.py`], { encoding: 'utf8', maxBuffer: 64 << 20 })) as { cases: Case[] };

    it(`all ${cases.length} cases: the same u16 vector, or the same refusal`, () => {
      expect(cases.length).toBeGreaterThan(200);
      expect(cases.filter((c) => c.error === 'too_few').length).toBeGreaterThan(5);
      for (const c of cases) {
        const ctx = JSON.stringify(c);
        const run = () => conformWeightsV11(c.uids, c.weights, c);
        if (c.error === 'too_few') expect(run, ctx).toThrow(/too few non-zero weights/);
        else if (c.error === 'zero') expect(run, ctx).toThrow(/all weights are zero/);
        else expect(run(), ctx).toEqual(c.out);
      }
    });
  });
}

describe('v11 edge cases (checked by hand)', () => {
  const noLimit = { minAllowedWeights: 1, maxWeightsLimit: 65535 };
  it('round(w/max·65535), half to even, zeros dropped', () => {
    expect(conformWeightsV11([4, 9], [2, 1], noLimit)).toEqual({ uids: [4, 9], values: [65535, 32768] }); // 32767.5 → 32768
    expect(conformWeightsV11([0, 1, 2], [65535, 2.5, 3.5], noLimit)).toEqual({ uids: [0, 1, 2], values: [65535, 2, 4] });
    expect(conformWeightsV11([0, 1], [131070, 1], noLimit)).toEqual({ uids: [0], values: [65535] }); // 0.5 → 0
  });
  it('no 1e-5 padding and no quantile: too few non-zero weights is an error naming both counts', () => {
    expect(() => conformWeightsV11([0, 1, 2], [1, 0, 0.5], { minAllowedWeights: 3, maxWeightsLimit: 65535 })).toThrow(
      'too few non-zero weights: the subnet requires at least 3, only 2 are non-zero after normalization',
    );
    // v10 pads every uid instead and succeeds
    const v10 = weightsForChain([0, 1, 2], [1, 0, 0.5], { semantics: 'v10', minAllowedWeights: 3, maxWeightsLimit: 65535 });
    expect(v10.uids).toEqual([0, 1, 2]);
    expect(() => weightsForChain([0, 1], [1, 1], { semantics: 'v11', minAllowedWeights: 1, maxWeightsLimit: 65535, excludeQuantile: 100 })).toThrow(/v10 feature/);
    expect(() => conformWeightsV11([0, 1], [0, 0], noLimit)).toThrow('all weights are zero; nothing to set');
  });
  it('the clip lands the largest share on the limit; n·limit ≤ 1 is uniform; a lone self-weight is exempt', () => {
    const clipped = clipToMaxWeight([...Array(11).fill(1), 100], 0.1);
    // just under the limit (the cutoff subtracts 1e-7), never over: the chain checks max/sum ≤ limit
    expect(Math.max(...clipped)).toBeLessThanOrEqual(0.1);
    expect(Math.max(...clipped)).toBeGreaterThan(0.0999);
    expect(clipped.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(clipToMaxWeight([1, 2, 3, 4, 5], 0.2)).toEqual([0.2, 0.2, 0.2, 0.2, 0.2]);
    expect(conformWeightsV11([3], [1], { minAllowedWeights: 8, maxWeightsLimit: 655, selfUid: 3 })).toEqual({ uids: [3], values: [65535] });
    expect(() => conformWeightsV11([3], [1], { minAllowedWeights: 8, maxWeightsLimit: 655, selfUid: 2 })).toThrow(/too few/);
  });
  it('refuses duplicates, negatives, NaN and out-of-range uids', () => {
    expect(() => conformWeightsV11([1, 1], [1, 1], noLimit)).toThrow(/duplicate uids/);
    expect(() => conformWeightsV11([1], [-1], noLimit)).toThrow(/non-negative/);
    expect(() => conformWeightsV11([1], [Number.NaN], noLimit)).toThrow(/finite/);
    expect(() => conformWeightsV11([70000], [1], noLimit)).toThrow(/0\.\.65535/);
  });
});

describe('validator weights under v10 and v11 (an unscored or zero-scoring miner)', () => {
  const hotkeys = ['honest-a', 'honest-b', 'copycat', 'silent', 'self'];
  const metagraph = { n: hotkeys.length, hotkeys } as unknown as Metagraph;
  // the copycat was caught and scored 0; the silent miner never answered; uid 4 is the validator itself
  const scores = new Map([['honest-a', 0.9], ['honest-b', 0.6], ['copycat', 0]]);
  const identity = (w: readonly number[]): number[] => [...w];

  it('prints and asserts what each miner earns; v11 gives cheaters nothing and refuses too few', () => {
    const hyper = { minAllowedWeights: 2, maxWeightsLimit: 65535 };
    const v10 = computeEmitWeights(scores, metagraph, hyper, identity, 4, 'v10');
    const v11 = computeEmitWeights(scores, metagraph, hyper, identity, 4, 'v11');
    const of = (e: typeof v10, uid: number) => e?.values[e.uids.indexOf(uid)] ?? 0;
    const rows = hotkeys.slice(0, 4).map((h, uid) => ({ miner: h, v10: of(v10, uid), v11: of(v11, uid) }));
    console.table(rows);
    expect(rows.map((r) => r.v11)).toEqual([65535, 43690, 0, 0]);
    for (const cheat of [2, 3]) for (const honest of [0, 1]) {
      expect(of(v10, honest)).toBeGreaterThan(of(v10, cheat));
      expect(of(v11, honest)).toBeGreaterThan(of(v11, cheat));
    }
    // with MinAllowedWeights above the number of scored miners, v10 pads (cheaters get 1e-5 → u16 value 1 or 0)
    const strict = { minAllowedWeights: 3, maxWeightsLimit: 65535 };
    const padded = computeEmitWeights(scores, metagraph, strict, identity, 4, 'v10');
    console.table(hotkeys.map((h, uid) => ({ miner: h, v10Padded: of(padded, uid) })));
    expect(of(padded, 0)).toBe(65535);
    expect(of(padded, 2)).toBeLessThanOrEqual(1);
    expect(() => computeEmitWeights(scores, metagraph, strict, identity, 4, 'v11')).toThrow(/too few non-zero weights/);
  });
});

/** `subnet weights …` in-process, capturing stdout and the exit code runCli sets. */
async function weightsCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command('subnet');
  registerWeightsCommands(program);
  let out = '';
  let err = '';
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const saved = process.exitCode;
  process.exitCode = 0;
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    await runCli(program, ['node', 'subnet', 'weights', ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { code, out, err };
}

describe('subnet weights process --semantics', () => {
  it('v11 prints the library result; too few weights is one line and exit 2', async () => {
    const ok = await weightsCli(['process', '--semantics', 'v11', '--uids', '3,1,2', '--weights', '0.1,0.5,0', '--max-weights-limit', '65535']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({ semantics: 'v11', emit: conformWeightsV11([3, 1, 2], [0.1, 0.5, 0], { minAllowedWeights: 1, maxWeightsLimit: 65535 }) });
    const few = await weightsCli(['process', '--semantics', 'v11', '--weights', '1,0,0', '--min-allowed-weights', '2']);
    expect(few.code).toBe(2);
    expect(few.err.trim().split('\n')[0]).toMatch(/^error: too few non-zero weights/);
    const bad = await weightsCli(['process', '--semantics', 'v12', '--weights', '1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/invalid --semantics: must be v10 or v11/);
  });
});
