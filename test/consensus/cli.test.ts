/** `subnet consensus epoch` spawned as a real process, and the JSON codec. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochInputToJson, epochOutputToJson, parseEpochInputJson } from '../../framework/consensus/json.ts';
import { runEpoch } from '../../framework/consensus/epoch.ts';
import { UserError } from '../../framework/errors.ts';
import { runSubnet, type ProcessResult } from '../support/process.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../docs/examples/epoch-input.json');

function subnet(args: string[], stdin?: string): Promise<ProcessResult> {
  return runSubnet(args, { stdin });
}

type Run = Awaited<ReturnType<typeof subnet>>;
let dir = '';
let exampleText = '';
// The four CLI processes start together: each spends seconds loading the CLI through tsx.
let runs: { file: Run; stdin: Run; invalid: Run; missing: Run };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consensus-cli-'));
  exampleText = await readFile(EXAMPLE, 'utf8');
  const bad = JSON.parse(exampleText) as Record<string, unknown>;
  bad.kappa = 70000;
  const badFile = join(dir, 'bad.json');
  await writeFile(badFile, JSON.stringify(bad));
  const [file, stdin, invalid, missing] = await Promise.all([
    subnet(['consensus', 'epoch', EXAMPLE]),
    subnet(['consensus', 'epoch', '-', '--compact'], exampleText),
    subnet(['consensus', 'epoch', badFile]),
    subnet(['consensus', 'epoch', join(dir, 'nope.json')]),
  ]);
  runs = { file, stdin, invalid, missing };
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('subnet consensus epoch', () => {
  it('runs the documented example file and prints the epoch output', () => {
    const r = runs.file;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = epochOutputToJson(runEpoch(parseEpochInputJson(exampleText)));
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    const out = JSON.parse(r.stdout) as { incentive: number[]; emission: string[]; bonds: unknown[] };
    expect(out.incentive.reduce((a, b) => a + b, 0)).toBeGreaterThan(65535 - 5);
    expect(out.emission.every((e) => /^\d+$/.test(e))).toBe(true);
    expect(out.bonds[4]).toBeNull();
  });

  it('reads stdin with -', () => {
    const a = runs.stdin;
    expect(a.code).toBe(0);
    expect(a.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(JSON.stringify(epochOutputToJson(runEpoch(parseEpochInputJson(exampleText))))));
  });

  it('invalid field → exit 2 and one line naming the field', () => {
    const r = runs.invalid;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: invalid epoch input: kappa: /);
  });

  it('an unreadable file is a user error (exit 2, no stack)', () => {
    const missing = runs.missing;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read .*nope\.json: ENOENT/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('JSON codec', () => {
  const parseError = (mutate: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(exampleText) as Record<string, unknown>;
    mutate(o);
    try {
      parseEpochInputJson(JSON.stringify(o));
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      return (e as Error).message;
    }
    throw new Error('expected a validation error');
  };

  it('names the offending field', () => {
    expect(parseError((o) => { o.stake = [1, 2]; })).toMatch(/stake: expected 5 entries/);
    expect(parseError((o) => { o.weights = [[[7, 1]], [], [], [], []]; })).toMatch(/weights\.0\.0\.0: uid 7 is not below n = 5/);
    expect(parseError((o) => { o.bonds = [[[1, 65536]], [], [], [], []]; })).toMatch(/bonds\.0\.0\.1/);
    expect(parseError((o) => { o.emission = '18446744073709551616'; })).toMatch(/emission: exceeds u64/);
    expect(parseError((o) => { o.stake = [-1, 0, 0, 0, 0]; })).toMatch(/stake\.0/);
    expect(parseError((o) => { o.alphaSigmoidSteepness = 40000; })).toMatch(/alphaSigmoidSteepness/);
    expect(parseError((o) => { o.ownerUid = 9; })).toMatch(/ownerUid/);
    expect(parseError((o) => { o.extra = 1; })).toMatch(/extra/);
    expect(parseError((o) => { delete o.yuma3; })).toMatch(/yuma3/);
  });

  it('rejects malformed JSON with a UserError', () => {
    expect(() => parseEpochInputJson('{"n": 1,')).toThrow(UserError);
    expect(() => parseEpochInputJson('{"n": 1,')).toThrow(/^invalid JSON/);
  });

  it('accepts u64 as numbers or decimal strings and round-trips', () => {
    const input = parseEpochInputJson(exampleText);
    expect(input.stake[0]).toBe(600_000_000_000n);
    expect(input.bondsMovingAverage).toBe(975_000n);
    const again = parseEpochInputJson(JSON.stringify(epochInputToJson(input)));
    expect(again).toEqual(input);
  });
});
