/** The optimised runEpoch against the BigInt reference on real-sized subnets (bench inputs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { runEpochReference } from '../../framework/consensus/reference.ts';
import { metagraphSchema, metagraphToEpochInput, syntheticEpochInput } from '../../framework/consensus/scenarios.ts';

const META = metagraphSchema.parse(JSON.parse(readFileSync('/work/shared/data/mainnet-sn15-metagraph.json', 'utf8')));

describe('optimised path = reference on large inputs', () => {
  for (const mode of [{ yuma3: false }, { yuma3: true }, { yuma3: true, liquidAlpha: true }]) {
    it(`mainnet sn15 (n = 256) ${JSON.stringify(mode)}`, () => {
      const input = metagraphToEpochInput(META, mode);
      const fast = runEpoch(structuredClone(input));
      expect(fast).toEqual(runEpochReference(structuredClone(input)));
      expect(fast.incentive.reduce((a, b) => a + b, 0)).toBeGreaterThan(65535 - 256);
      expect(fast.dividends.some((d) => d > 0)).toBe(true);
    });
  }

  it('synthetic n = 768, 48 validators, 10 % dense, bonds penalty 0.5', () => {
    const input = syntheticEpochInput(768, 48, 0.1, 7, { yuma3: true });
    input.bondsPenalty = 32768;
    const fast = runEpoch(structuredClone(input));
    expect(fast).toEqual(runEpochReference(structuredClone(input)));
    expect(fast.consensus.filter((c) => c > 0).length).toBeGreaterThan(10);
  });
});
