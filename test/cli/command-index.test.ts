import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, ROOT_COMMANDS, commandNamed, registerCommandsFor } from '../../framework/cli/command-index.ts';
import { SUBNET_BIN, runProcess } from '../support/process.ts';

const fresh = () => new Command('subnet').description('TypeScript framework for Bittensor-style subnets').version('0.0.0', '-V, --version', 'print the subnetkit version');

async function everything(): Promise<Command> {
  const program = fresh();
  for (const m of COMMAND_MODULES) (await m.load())(program);
  return program;
}

describe('CLI command index (modules load on demand)', () => {
  it("each module's `touches` are exactly the top-level commands it creates or extends", async () => {
    for (const m of COMMAND_MODULES) {
      const alone = fresh();
      (await m.load())(alone);
      expect(alone.commands.map((c) => c.name()).sort()).toEqual([...m.touches].sort());
    }
  });

  it('the root listing without modules is the help of the fully loaded CLI', async () => {
    const lazy = fresh();
    await registerCommandsFor(lazy, ['node', 'subnet', '--help']);
    expect(lazy.helpInformation()).toBe((await everything()).helpInformation());
    expect(ROOT_COMMANDS.map((c) => c.name)).toEqual((await everything()).commands.map((c) => c.name()));
  });

  it('a command gets its whole group, as the full CLI has it', async () => {
    const full = await everything();
    for (const name of ['wallet', 'subnets', 'stake', 'weights', 'miner']) {
      const lazy = fresh();
      await registerCommandsFor(lazy, ['node', 'subnet', name, '--help']);
      const a = lazy.commands.find((c) => c.name() === name)!;
      const b = full.commands.find((c) => c.name() === name)!;
      expect(a.helpInformation()).toBe(b.helpInformation());
    }
    expect(commandNamed(['node', 'subnet', 'help', 'stake'])).toBe('stake');
    expect(commandNamed(['node', 'subnet', '--help'])).toBeUndefined();
  });

  it('an unknown command still gets commander\'s suggestion, exit 2', async () => {
    const r = await runProcess(process.execPath, [SUBNET_BIN, 'walet'], { env: { ...process.env, NO_COLOR: '1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'walet'[\s\S]*Did you mean wallet\?/);
  });
});
