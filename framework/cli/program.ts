import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { ChainError } from '../chain/types.ts';
import { describeZodError, isUserError } from '../errors.ts';
import { normaliseBtcliFlags } from './btcli-flags.ts';
import { describeChainError } from './chain-hints.ts';
import { quietPolkadotLogs } from '../util/polkadot-log.ts';

/**
 * Run a CLI action with the project's error policy: user mistakes (UserError, zod validation) print one
 * line to stderr and exit with code 2; anything else is a bug and prints the stack, exit 1.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  // commander copies settings to subcommands only when they are created, so apply them to the tree
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  quietPolkadotLogs();
  if (argv.length <= 2) {
    // `subnet` alone is a usage mistake: show what there is, exit 2 like any other
    program.outputHelp({ error: true });
    process.exitCode = 2;
    return;
  }
  try {
    await program.parseAsync(normaliseBtcliFlags(argv));
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (unknown option, missing argument, --help)
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (isUserError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    return e.exitCode;
  }
  if (e instanceof ChainError) {
    // the chain refused the call (e.g. SettingWeightsTooFast): not a bug, but not a usage error either
    const { message, hint } = describeChainError(e);
    process.stderr.write(`error: the chain rejected the call: ${message}\n`);
    if (hint) process.stderr.write(`hint: ${hint}\n`);
    return 1;
  }
  if (e instanceof ZodError) {
    process.stderr.write(`error: ${describeZodError(e)}\n`);
    return 2;
  }
  process.stderr.write(`internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}
