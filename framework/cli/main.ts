import { Command } from 'commander';
import { runCli } from './program.ts';
import { registerWeightsCommands } from '../consensus/weights/cli.ts';
import { registerSimulateCommands } from '../simulate/cli.ts';
import { registerWalletCommands } from '../wallet/cli.ts';

// Each concept contributes its own subcommands; add one import and one call per concept.
const program = new Command('subnet')
  .description('TypeScript framework for Bittensor-style subnets')
  .showHelpAfterError('(run with --help for usage)');

registerWalletCommands(program);
registerSimulateCommands(program);
registerWeightsCommands(program);

await runCli(program, process.argv);
