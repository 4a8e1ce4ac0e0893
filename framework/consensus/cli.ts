/** `subnet consensus …`: run one Yuma Consensus epoch on a JSON input (file or stdin). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { describeZodError, UserError } from '../errors.ts';
import { runEpoch } from './epoch.ts';
import { epochOutputToJson, parseEpochInputJson } from './json.ts';
import { mechanismEmission, mechanismFlags } from './mechanism-split.ts';

const optionsSchema = z.object({
  compact: z.boolean().default(false),
  mechid: z.string().optional(),
  split: z.string().optional(),
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
    .option('--mechid <k>', "run the epoch as incentive mechanism K: on its share of the input's emission (with --split)")
    .option('--split <list>', 'emission split between mechanisms, e.g. 0.7,0.3 (subtensor split_emissions rounding)')
    .action(async (file: string | undefined, rawOpts: unknown) => {
      const opts = optionsSchema.safeParse(rawOpts);
      if (!opts.success) throw new UserError(describeZodError(opts.error, 'options'));
      let mech: ReturnType<typeof mechanismFlags>;
      try {
        mech = mechanismFlags(opts.data.mechid, opts.data.split);
      } catch (e) {
        throw new UserError((e as Error).message, { hint: 'e.g. --mechid 1 --split 0.7,0.3' });
      }
      const input = parseEpochInputJson(await readInput(file));
      if (mech) {
        const total = input.emission;
        input.emission = mechanismEmission(total, mech.mechid, mech.split);
        process.stderr.write(`mechanism ${mech.mechid}: ${input.emission} of ${total} RAO (split ${mech.split.join(',')})\n`);
      }
      const output = epochOutputToJson(runEpoch(input));
      process.stdout.write(`${JSON.stringify(output, null, opts.data.compact ? undefined : 2)}\n`);
    });
}
