import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../../errors.ts';
import { commitHashV2, generateSalt, netuidStorageIndex } from './commit-reveal.ts';
import { convertWeightsAndUidsForEmit } from './emit.ts';
import { processWeightsForNetuid } from './process.ts';
import { conformWeightsV11 } from './v11.ts';

const NETUID_ENV = 'SUBNET_NETUID';

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function parse<T extends z.ZodTypeAny>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`invalid --${kebab(String(issue?.path[0] ?? 'option'))}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

const u16 = z.coerce.number().int().min(0).max(65535);
const numberList = (item: z.ZodNumber) =>
  z
    .string()
    .transform((s) => (s.trim() === '' ? [] : s.split(',').map((x) => x.trim())))
    .pipe(z.array(z.coerce.number().pipe(item)));
const u16List = numberList(z.number().int().min(0).max(65535));
const floatList = numberList(z.number().finite());

const WeightsFile = z.object({ uids: z.array(z.number().int().min(0).max(65535)), weights: z.array(z.number().finite()) });

const ProcessFlags = z.object({
  uids: u16List.optional(),
  weights: floatList.optional(),
  file: z.string().min(1).optional(),
  n: u16.optional(),
  minAllowedWeights: u16,
  maxWeightsLimit: u16,
  excludeQuantile: u16,
  semantics: z.enum(['v10', 'v11'], { message: 'must be v10 or v11' }),
  selfUid: u16.optional(),
});

async function weightsInput(f: z.infer<typeof ProcessFlags>): Promise<{ uids: number[]; weights: number[] }> {
  if (f.file !== undefined) {
    if (f.uids || f.weights) throw new UserError('pass either --file or --uids/--weights, not both');
    let text: string;
    try {
      text = await readFile(f.file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read ${f.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UserError(`${f.file} is not valid JSON`, { hint: 'expected {"uids": [..], "weights": [..]}' });
    }
    const r = WeightsFile.safeParse(json);
    if (!r.success) throw new UserError(`${f.file}: ${r.error.issues[0]?.path.join('.') || '(root)'}: ${r.error.issues[0]?.message}`);
    return r.data;
  }
  if (!f.weights) throw new UserError('no weights given', { hint: 'pass --weights 0.2,0.8 (and --uids 0,1) or --file scores.json' });
  return { uids: f.uids ?? f.weights.map((_, i) => i), weights: f.weights };
}

function netuidFrom(flag: unknown): number {
  return parse(z.object({ netuid: u16 }), { netuid: flag ?? process.env[NETUID_ENV] ?? 1 }).netuid;
}

export function registerWeightsCommands(program: Command): void {
  const weights = program.command('weights').description('SDK-exact weight processing and commit-reveal v2 helpers');

  weights
    .command('process')
    .description('weights → u16 as the bittensor SDK does it: v10 process_weights_for_netuid + convert_weights_and_uids_for_emit, or v11 SetWeights')
    .option('--uids <list>', 'comma-separated uids (default 0..len-1)')
    .option('--weights <list>', 'comma-separated float weights')
    .option('--file <path>', 'JSON file {"uids": [...], "weights": [...]} instead of --uids/--weights')
    .option('--n <count>', 'number of neurons in the subnet (default: number of weights)')
    .option('--min-allowed-weights <count>', 'MinAllowedWeights hyperparameter', '1')
    .option('--max-weights-limit <u16>', 'MaxWeightsLimit hyperparameter as stored (65535 = no limit)', '65535')
    .option('--exclude-quantile <u16>', 'drop weights below this u16-scaled quantile (v10 only)', '0')
    .option('--semantics <v10|v11>', 'v10 process_weights_for_netuid, or v11 SetWeights (no padding, no quantile, error on too few)', 'v10')
    .option('--self-uid <uid>', "v11: the setter's uid (a lone self-weight is exempt from the limits)")
    .action(async (raw: Record<string, unknown>) => {
      const f = parse(ProcessFlags, raw);
      const input = await weightsInput(f);
      if (f.semantics === 'v11') {
        if (f.excludeQuantile !== 0) throw new UserError('--exclude-quantile is v10 only: SDK v11 SetWeights has no quantile exclusion');
        const emit = conformWeightsV11(input.uids, input.weights, { minAllowedWeights: f.minAllowedWeights, maxWeightsLimit: f.maxWeightsLimit, selfUid: f.selfUid });
        process.stdout.write(`${JSON.stringify({ semantics: 'v11', emit })}\n`);
        return;
      }
      const processed = processWeightsForNetuid(input.uids, input.weights, {
        n: f.n,
        minAllowedWeights: f.minAllowedWeights,
        maxWeightsLimit: f.maxWeightsLimit,
        excludeQuantile: f.excludeQuantile,
      });
      const emit = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
      process.stdout.write(`${JSON.stringify({ processed, emit })}\n`);
    });

  weights
    .command('hash')
    .description('commit-reveal v2 commit hash: blake2-256 of SCALE(hotkey, netuid_index, uids, values, salt, version_key)')
    .requiredOption('--hotkey <ss58>', 'hotkey SS58 address')
    .option('--netuid <netuid>', `subnet id (env ${NETUID_ENV}, default 1)`)
    .option('--mecid <id>', 'mechanism id (storage index = mecid·4096 + netuid)', '0')
    .requiredOption('--uids <list>', 'comma-separated uids, as emitted')
    .requiredOption('--values <list>', 'comma-separated u16 values, as emitted')
    .requiredOption('--salt <list>', 'comma-separated u16 salt (see `weights salt`)')
    .option('--version-key <u64>', 'weights version key', '0')
    .action((raw: Record<string, unknown>) => {
      const f = parse(
        z.object({
          hotkey: z.string().min(1),
          mecid: z.coerce.number().int().min(0).max(15),
          uids: u16List,
          values: u16List,
          salt: u16List,
          versionKey: z.string().regex(/^\d+$/, 'must be a non-negative integer').transform((s) => BigInt(s)),
        }),
        raw,
      );
      const hash = commitHashV2({
        hotkey: f.hotkey,
        netuidIndex: netuidStorageIndex(netuidFrom(raw.netuid), f.mecid),
        uids: f.uids,
        values: f.values,
        salt: f.salt,
        versionKey: f.versionKey,
      });
      process.stdout.write(`${hash}\n`);
    });

  weights
    .command('salt')
    .description('print a random u16 salt for a commit (keep it: the reveal needs it)')
    .option('--length <count>', 'number of u16 items', '8')
    .action((raw: Record<string, unknown>) => {
      const f = parse(z.object({ length: z.coerce.number().int().min(1).max(1024) }), raw);
      process.stdout.write(`${generateSalt(f.length).join(',')}\n`);
    });
}
