import { Command } from 'commander';
import { runCli } from './program.ts';
import { registerWeightsCommands } from '../consensus/weights/cli.ts';
import { registerConsensusCommands } from '../consensus/cli.ts';
import { registerSimulateCommands } from '../simulate/cli.ts';
import { registerWalletCommands } from '../wallet/cli.ts';
import { registerChainOpsCommands } from './commands/chain-ops.ts';
import { registerRuntimeCommands } from './commands/runtime.ts';
import { registerChainCommands } from '../chain/cli.ts';

// Each concept contributes its own subcommands; add one import and one call per concept.
const program = new Command('subnet')
  .description('TypeScript framework for Bittensor-style subnets')
  .showHelpAfterError('(run with --help for usage)');

registerWalletCommands(program);
registerSimulateCommands(program);
registerConsensusCommands(program);
registerWeightsCommands(program);
registerChainOpsCommands(program);
registerRuntimeCommands(program);
registerChainCommands(program);

await runCli(program, process.argv);
