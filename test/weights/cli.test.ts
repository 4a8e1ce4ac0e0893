import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { runCli } from '../../framework/cli/program.ts';
import { registerWeightsCommands } from '../../framework/consensus/weights/cli.ts';
import { commitHashV2, convertWeightsAndUidsForEmit, processWeightsForNetuid } from '../../framework/consensus/weights/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Run `subnet weights …` in-process (the command code and runCli's error policy), capturing stdout. */
async function inProcess(args: string[]): Promise<{ code: number; out: string }> {
  const program = new Command('subnet');
  registerWeightsCommands(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const saved = process.exitCode;
  process.exitCode = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await runCli(program, ['node', 'subnet', 'weights', ...args]);
  } finally {
    process.stdout.write = write;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { code, out };
}

describe('subnet weights CLI', () => {
  it('process prints the same result as the library', async () => {
    const r = await inProcess(['process', '--uids', '3,1,2,0', '--weights', '0.1,0.5,0.4,0.25', '--max-weights-limit', '26214']);
    expect(r.code).toBe(0);
    const processed = processWeightsForNetuid([3, 1, 2, 0], [0.1, 0.5, 0.4, 0.25], { minAllowedWeights: 1, maxWeightsLimit: 26214 });
    expect(JSON.parse(r.out)).toEqual({ processed, emit: convertWeightsAndUidsForEmit(processed.uids, processed.weights) });
  });

  it('hash takes the netuid from SUBNET_NETUID when the flag is absent, and the flag wins over it', async () => {
    const hotkey = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
    const base = ['hash', '--hotkey', hotkey, '--uids', '0,1', '--values', '65535,1', '--salt', '9,8', '--version-key', '7'];
    const expected = (netuidIndex: number) => commitHashV2({ hotkey, netuidIndex, uids: [0, 1], values: [65535, 1], salt: [9, 8], versionKey: 7n });
    process.env.SUBNET_NETUID = '12';
    try {
      expect((await inProcess(base)).out.trim()).toBe(expected(12));
      expect((await inProcess([...base, '--netuid', '5'])).out.trim()).toBe(expected(5));
    } finally {
      delete process.env.SUBNET_NETUID;
    }
    expect((await inProcess([...base, '--mecid', '1', '--netuid', '5'])).out.trim()).toBe(expected(4101));
  });

  it('salt prints --length u16 values', async () => {
    const r = await inProcess(['salt', '--length', '5']);
    const items = r.out.trim().split(',').map(Number);
    expect(items).toHaveLength(5);
    expect(items.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535)).toBe(true);
  });

  it('in a real process: a bad flag is one line on stderr and exit code 2', () => {
    // Only this concept's commands are loaded, so other concepts' work in progress cannot break the test.
    const entry = [
      "import { Command } from 'commander';",
      "import { runCli } from './framework/cli/program.ts';",
      "import { registerWeightsCommands } from './framework/consensus/weights/cli.ts';",
      "const program = new Command('subnet'); registerWeightsCommands(program);",
      'await runCli(program, process.argv);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, 'subnet', 'weights', 'process', '--weights', '1,x'], {
      cwd: root, encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: invalid --weights/);
  });
});
