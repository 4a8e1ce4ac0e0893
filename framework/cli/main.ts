import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runCli } from './program.ts';
import { registerCommandsFor } from './command-index.ts';

// Each concept contributes its own subcommands, loaded on demand: add a concept in command-index.ts.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('subnet')
  .description('TypeScript framework for Bittensor-style subnets')
  .version(version, '-V, --version', 'print the subnetkit version')
  .showHelpAfterError('(run with --help for usage)');

await registerCommandsFor(program, process.argv);

await runCli(program, process.argv);
