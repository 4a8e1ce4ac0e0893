import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Command } from 'commander';
import { registerSimulateCommands } from '../../framework/simulate/cli.ts';
import { runCli } from '../../framework/cli/program.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSubnet, type ProcessResult } from '../support/process.ts';

function subnet(args: string[], env: Record<string, string> = {}): Promise<ProcessResult> {
  return runSubnet(args, { env: { ...process.env, ...env } });
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'g' });

/** Number of series drawn in each panel of an SVG written by the CLI. */
function seriesPerPanel(svg: string): number[] {
  const doc = parser.parse(svg) as { svg: { g: Array<Record<string, unknown>> } };
  return doc.svg.g
    .filter((g) => g['@class'] === 'panel')
    .map((p) => ((p.g as Array<Record<string, unknown>>) ?? []).filter((g) => g['@class'] === 'series').length);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'simulate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('subnet simulate', () => {
  it('documents every option in --help', () => {
    const program = new Command('subnet');
    registerSimulateCommands(program);
    const help = program.commands.find((c) => c.name() === 'simulate')!.helpInformation();
    for (const flag of ['--scenario', '--epochs', '--mode', '--out', '--json', '--list', '--progress']) expect(help).toContain(flag);
  });

  it('lists built-ins, runs all modes to JSON, and writes well-formed SVG charts', async () => {
    const out = join(dir, 'charts');
    const [list, run] = await Promise.all([
      subnet(['simulate', '--list']),
      subnet(['simulate', '--scenario', 'weight copier', '--epochs', '8', '--out', out, '--json', '--progress']),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^kappa-moves-first\s/m);
    expect(list.stdout).toMatch(/^cabal-above-kappa\s/m);

    expect(run.stderr).not.toContain('internal error');
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as Array<{ mode: string; epochs: number; perEpoch: Array<{ emission: string[] }> }>;
    expect(results.map((r) => r.mode)).toEqual(['yuma2', 'yuma3', 'yuma3-liquid']);
    expect(results[0].perEpoch).toHaveLength(8);
    expect(typeof results[0].perEpoch[0].emission[0]).toBe('string'); // bigint RAO as decimal strings
    expect(run.stderr).toMatch(/weight-copier \[yuma3\]: epoch 8\/8/); // --progress off a TTY
    expect(run.stderr).toContain(join(out, 'weight-copier-dividends.svg'));

    const div = await readFile(join(out, 'weight-copier-dividends.svg'), 'utf8');
    const inc = await readFile(join(out, 'weight-copier-incentive.svg'), 'utf8');
    expect(XMLValidator.validate(div)).toBe(true);
    expect(XMLValidator.validate(inc)).toBe(true);
    expect(seriesPerPanel(div)).toEqual([3, 3, 3]); // H1, H2, copier in each of the three modes
    expect(seriesPerPanel(inc)).toEqual([4, 4, 4]); // s1…s4
    expect(JSON.parse(await readFile(join(out, 'weight-copier.json'), 'utf8'))).toHaveLength(3);
  });

  it('runs a YAML scenario file in one mode and prints tables', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(
      file,
      'name: file-case\nepochs: 3\nparticipants:\n  - { name: V, role: validator, stake: "1 TAO", weights: [{ fromEpoch: 0, to: { m1: 1 } }] }\n  - { name: m1, role: miner }\n',
    );
    const r = await subnet(['simulate', '--scenario', file], { SUBNET_SIMULATE_MODE: 'yuma3' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('== file-case · Yuma 3 · 3 epochs ==');
    expect(r.stdout).not.toContain('Yuma 2');
    expect(r.stdout).toMatch(/^summary: file-case/m);
  });

  it('exits 2 with one line for user mistakes (spawned)', async () => {
    const runs = await Promise.all([
      subnet(['simulate', '--scenario', 'no-such-scenario']),
      subnet(['simulate', '--scenario', 'weight-copier', '--mode', 'yuma9']),
    ]);
    const expected = [/unknown scenario 'no-such-scenario'/, /yuma9/];
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(expected[i]);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(r.stdout).toBe('');
    });
  });

  /** Run the CLI in this process (cheaper than a spawn) and capture its exit code and stderr. */
  async function inProcess(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
    const program = new Command('subnet');
    registerSimulateCommands(program);
    let stderr = '';
    const write = process.stderr.write.bind(process.stderr);
    const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
    Object.assign(process.env, env);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += chunk.toString();
      return true;
    }) as typeof process.stderr.write;
    try {
      process.exitCode = 0;
      await runCli(program, ['node', 'subnet', ...args]);
      return { code: Number(process.exitCode ?? 0), stderr };
    } finally {
      process.stderr.write = write;
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      process.exitCode = 0;
    }
  }

  it('reports bad files, flags and env values as one-line errors with exit 2 (in process)', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'name: bad\nparticipants:\n  - { name: V, role: validator, stake: -1 }\n');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['simulate', '--scenario', bad], {}, /participants\.0\.stake/],
      [['simulate', '--scenario', 'weight-copier', '--epochs', '0'], {}, /--epochs/],
      [['simulate'], { SUBNET_SIMULATE_EPOCHS: 'many' }, /SUBNET_SIMULATE_EPOCHS/],
      [['simulate'], {}, /missing --scenario/],
      [['simulate', '--scenario', join(dir, 'missing.yaml')], {}, /cannot read scenario file/],
    ];
    for (const [args, env, pattern] of cases) {
      const r = await inProcess(args, env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'))).toHaveLength(1);
    }
  });
});
