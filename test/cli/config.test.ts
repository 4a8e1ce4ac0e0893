import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cliInt, cliTao, formatTao, resolveConfig } from '../../framework/cli/config.ts';
import { runSubnet, type ProcessResult } from '../support/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-config-'));
const schema = z.object({ chain: z.string().default('http://127.0.0.1:9944'), netuid: cliInt(0, 65535).default(1), amount: cliTao.optional() });
const env = { chain: 'SUBNET_CHAIN', netuid: 'SUBNET_NETUID' } as const;

describe('layered configuration', () => {
  it('takes flags over env over file over defaults', () => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'chain: http://file:1\nnetuid: 3\n');
    expect(resolveConfig({ schema, flags: {}, env, processEnv: {} })).toEqual({ chain: 'http://127.0.0.1:9944', netuid: 1 });
    expect(resolveConfig({ schema, flags: {}, env, configPath: file, processEnv: {} })).toEqual({ chain: 'http://file:1', netuid: 3 });
    expect(resolveConfig({ schema, flags: {}, env, configPath: file, processEnv: { SUBNET_NETUID: '4' } }).netuid).toBe(4);
    expect(resolveConfig({ schema, flags: { netuid: '5' }, env, configPath: file, processEnv: { SUBNET_NETUID: '4' } }).netuid).toBe(5);
  });

  it('names the field and where the bad value came from', () => {
    expect(() => resolveConfig({ schema, flags: {}, env, processEnv: { SUBNET_NETUID: 'abc' } })).toThrow(/invalid \$SUBNET_NETUID: expected an integer/);
    expect(() => resolveConfig({ schema, flags: { netuid: '70000' }, env, processEnv: {} })).toThrow(/invalid --netuid/);
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"netuid": "x"}');
    expect(() => resolveConfig({ schema, flags: {}, env, configPath: file, processEnv: {} })).toThrow(/invalid netuid in .*bad\.json/);
    writeFileSync(file, '{"nope": 1}');
    expect(() => resolveConfig({ schema, flags: {}, env, configPath: file, processEnv: {} })).toThrow(/unknown option 'nope'/);
    expect(() => resolveConfig({ schema, flags: {}, env, configPath: join(dir, 'missing.yaml'), processEnv: {} })).toThrow(/config file not found/);
  });

  it('parses TAO amounts exactly and formats RAO back', () => {
    expect(cliTao.parse('1.5')).toBe(1_500_000_000n);
    expect(cliTao.parse('0.000000001')).toBe(1n);
    expect(cliTao.safeParse('1.0000000001').success).toBe(false);
    expect(cliTao.safeParse('-1').success).toBe(false);
    expect(formatTao(1_500_000_000n)).toBe('1.5');
    expect(formatTao(2_000_000_000n)).toBe('2');
  });
});

function subnet(args: string[], extraEnv: Record<string, string> = {}): Promise<ProcessResult> {
  return runSubnet(args, { env: { ...process.env, ...extraEnv } });
}

describe('subnet CLI error policy', () => {
  it('exits 2 with one line for usage mistakes, without a stack trace', async () => {
    const cases = await Promise.all([
      subnet(['nosuch']),
      subnet(['stake', 'add', '--amount', 'lots']),
      subnet(['metagraph', '--netuid', 'x']),
      subnet(['metagraph', '--chain', 'local']),
      subnet(['metagraph'], { SUBNET_CONFIG: join(dir, 'missing.yaml') }),
      subnet(['validator', '--redis', 'redis://127.0.0.1:6379', '--scored-retention-ms', '5']),
      subnet(['validator', '--scored-retention-ms', '3600000']),
    ]);
    for (const c of cases) {
      expect(c.code, c.out).toBe(2);
      expect(c.out).toMatch(/^error: /m);
      expect(c.out).not.toMatch(/\n\s+at /);
    }
    expect(cases[3]!.out).toMatch(/throw-away in-process chain/);
    expect(cases[5]!.out).toMatch(/invalid --scored-retention-ms/);
    expect(cases[6]!.out).toMatch(/--scored-retention-ms needs --redis URL/);
  });

  it('reports an unreachable localnet as one line', async () => {
    const c = await subnet(['metagraph', '--chain', 'http://127.0.0.1:9']);
    expect(c.code).not.toBe(0);
    expect(c.out.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(c.out).not.toMatch(/\n\s+at /);
  });

  it('prints help with exit 0', async () => {
    const c = await subnet(['validator', '--help']);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/--commodity <module>/);
  });
});

describe('subnets set key=value parsing', async () => {
  const { parseHyperparameterPairs } = await import('../../framework/cli/commands/chain-ops.ts');
  const { newSubnetHyperparameters } = await import('../../framework/chain/index.ts');
  const current = newSubnetHyperparameters();
  it('types values by the current hyperparameters', () => {
    expect(parseHyperparameterPairs(['tempo=20', 'commitRevealWeightsEnabled=off', 'bondsMovingAverage=975000'], current)).toEqual({
      tempo: 20, commitRevealWeightsEnabled: false, bondsMovingAverage: 975000n,
    });
  });
  it('rejects unknown keys and badly typed values with one line', () => {
    expect(() => parseHyperparameterPairs(['tempo'], current)).toThrow(/expected key=value/);
    expect(() => parseHyperparameterPairs(['temp=1'], current)).toThrow(/unknown hyperparameter 'temp'/);
    expect(() => parseHyperparameterPairs(['tempo=fast'], current)).toThrow(/tempo takes an integer/);
    expect(() => parseHyperparameterPairs(['yuma3On=maybe'], current)).toThrow(/takes true or false/);
  });
});
