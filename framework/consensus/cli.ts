/** `subnet consensus …`: run one Yuma Consensus epoch on a JSON input (file or stdin). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { describeZodError } from '../cli/program.ts';
import { runEpoch } from './epoch.ts';
import { epochOutputToJson, parseEpochInputJson } from './json.ts';

const optionsSchema = z.object({
  compact: z.boolean().default(false),
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(file: string | undefined): Promise<string> {
  if (file === undefined || file === '-') return readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`cannot read ${file}: ${code}`, { hint: 'pass a readable JSON file, or - for stdin' });
  }
}

export function registerConsensusCommands(program: Command): void {
  const group = program.command('consensus').description('Yuma Consensus (integer-exact emulation of subtensor)');
  group
    .command('epoch')
    .description('run one epoch: read an epoch input as JSON (file or stdin), print the output JSON on stdout')
    .argument('[file]', 'epoch input JSON file, or - (default) for stdin; fields in docs/consensus.md')
    .option('--compact', 'print the output on one line instead of indented')
    .action(async (file: string | undefined, rawOpts: unknown) => {
      const opts = optionsSchema.safeParse(rawOpts);
      if (!opts.success) throw new UserError(describeZodError(opts.error, 'options'));
      const input = parseEpochInputJson(await readInput(file));
      const output = epochOutputToJson(runEpoch(input));
      process.stdout.write(`${JSON.stringify(output, null, opts.data.compact ? undefined : 2)}\n`);
    });
}
