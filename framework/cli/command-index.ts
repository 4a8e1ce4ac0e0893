import { Help, type Command } from 'commander';

/**
 * The CLI's command modules, loaded on demand: `subnet wallet …` imports only the modules that define or
 * extend `wallet`, and `subnet --help` none (importing all of them pulls in @polkadot/api, fastify, ioredis…,
 * about 1 s of start-up). test/cli/command-index.test.ts checks this table against the modules themselves.
 */
export interface CommandModule {
  /** Top-level commands the module creates or adds subcommands to. */
  touches: readonly string[];
  load: () => Promise<(program: Command) => void>;
}

// Registration order is the order of `subnet --help` and of subcommands within a shared group.
export const COMMAND_MODULES: readonly CommandModule[] = [
  { touches: ['wallet'], load: async () => (await import('../wallet/cli.ts')).registerWalletCommands },
  { touches: ['simulate'], load: async () => (await import('../simulate/cli.ts')).registerSimulateCommands },
  { touches: ['consensus'], load: async () => (await import('../consensus/cli.ts')).registerConsensusCommands },
  { touches: ['weights'], load: async () => (await import('../consensus/weights/cli.ts')).registerWeightsCommands },
  { touches: ['register', 'faucet', 'subnets', 'stake', 'metagraph', 'weights'], load: async () => (await import('./commands/chain-ops.ts')).registerChainOpsCommands },
  { touches: ['wallet', 'stake', 'subnets', 'weights'], load: async () => (await import('./commands/btcli.ts')).registerBtcliCommands },
  { touches: ['miner', 'validator'], load: async () => (await import('./commands/runtime.ts')).registerRuntimeCommands },
  { touches: ['localnet'], load: async () => (await import('../chain/cli.ts')).registerChainCommands },
  { touches: ['explorer'], load: async () => (await import('../explorer/cli.ts')).registerExplorerCommands },
];

/** What `subnet --help` lists, without loading a module: the help term (name and usage) and description. */
export const ROOT_COMMANDS: ReadonlyArray<{ name: string; term: string; description: string }> = [
  { name: 'wallet', term: 'wallet', description: 'create, regenerate, list and show wallets (btwallet/btcli file layout)' },
  { name: 'simulate', term: 'simulate [options]', description: 'Run a Yuma Consensus scenario over many epochs and compare original Yuma, Yuma 3 and Yuma 3 + liquid alpha' },
  { name: 'consensus', term: 'consensus', description: 'Yuma Consensus (integer-exact emulation of subtensor)' },
  { name: 'weights', term: 'weights', description: 'SDK-exact weight processing and commit-reveal v2 helpers' },
  { name: 'register', term: 'register [options]', description: "register the wallet's hotkey on a subnet (burned_register, paid by the coldkey)" },
  { name: 'faucet', term: 'faucet [options]', description: "credit free TAO to the wallet's coldkey (localnet dev faucet)" },
  { name: 'subnets', term: 'subnets', description: 'create a subnet and inspect its hyperparameters' },
  { name: 'stake', term: 'stake', description: "move TAO between the coldkey's balance and a hotkey's stake on a subnet" },
  { name: 'metagraph', term: 'metagraph [options]', description: "print a subnet's neurons: stake, permits, incentive, dividends, emission, axons" },
  { name: 'miner', term: 'miner [options]', description: "run a miner: serve the commodity's handler on an axon and announce it on chain" },
  { name: 'validator', term: 'validator [options]', description: 'run a validator: query miners with the commodity, score them, and set weights on chain' },
  { name: 'localnet', term: 'localnet [options]', description: 'run a local development chain (subtensor-like) and serve it over HTTP JSON + WebSocket' },
  { name: 'explorer', term: 'explorer [options]', description: 'serve the explorer web page (subnets, metagraph, history charts, weights heatmap) for a chain' },
];

/** The top-level command an argv names (`subnet help wallet` names wallet), or undefined for the root. */
export function commandNamed(argv: readonly string[]): string | undefined {
  const positional = argv.slice(2).filter((a) => !a.startsWith('-'));
  return positional[0] === 'help' ? positional[1] : positional[0];
}

/**
 * Register what `argv` needs on `program`: the modules touching its command, in registration order; all of
 * them for an unknown command (so commander can suggest the right one); none for the root, where the
 * listing comes from ROOT_COMMANDS.
 */
export async function registerCommandsFor(program: Command, argv: readonly string[]): Promise<void> {
  const name = commandNamed(argv);
  if (name === undefined) {
    for (const c of ROOT_COMMANDS) program.command(c.name).description(c.description);
    const terms = new Map(ROOT_COMMANDS.map((c) => [c.name, c.term]));
    const fallback = new Help();
    program.configureHelp({ ...program.configureHelp(), subcommandTerm: (cmd) => terms.get(cmd.name()) ?? fallback.subcommandTerm(cmd) });
    return;
  }
  const touching = COMMAND_MODULES.filter((m) => m.touches.includes(name));
  const modules = touching.length > 0 ? touching : COMMAND_MODULES;
  for (const register of await Promise.all(modules.map((m) => m.load()))) register(program);
}
