/** `--mechid/--split` of `subnet consensus epoch` as a real process, against runEpoch on the mechanism's share. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { epochOutputToJson, parseEpochInputJson } from '../../framework/consensus/json.ts';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { fractionsToSplit, mechanismEmission } from '../../framework/consensus/mechanism-split.ts';
import { runSubnet } from '../support/process.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../docs/examples/epoch-input.json');

describe('subnet consensus epoch --mechid --split', () => {
  it("runs the mechanism's share of the emission and refuses a mechanism outside the split", async () => {
    const [ok, bad] = await Promise.all([
      runSubnet(['consensus', 'epoch', EXAMPLE, '--mechid', '1', '--split', '0.7,0.3', '--compact']),
      runSubnet(['consensus', 'epoch', EXAMPLE, '--mechid', '3', '--split', '0.7,0.3']),
    ]);
    const input = parseEpochInputJson(await readFile(EXAMPLE, 'utf8'));
    const share = mechanismEmission(input.emission, 1, fractionsToSplit([0.7, 0.3]));
    expect(share).toBe((input.emission * 19_660n) / 65_535n);
    const expected = epochOutputToJson(runEpoch({ ...input, emission: share }));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(ok.stderr).toContain(`mechanism 1: ${share} of ${input.emission} RAO`);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')[0]).toBe('error: --mechid 3 is not one of the 2 mechanisms of --split');
  }, 60_000);
});
