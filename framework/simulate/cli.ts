import { join } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { mechanismEmission, mechanismFlags } from '../consensus/mechanism-split.ts';
import { UserError } from '../errors.ts';
import { cliInt, resolveConfig } from '../cli/config.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { runScenario } from './index.ts';
import { builtinScenarios, findBuiltinScenario } from './scenarios.ts';
import { parseScenarioFile } from './scenario-file.ts';
import { formatRunTables, formatSummary, renderMetricChart, resultsToJson, slug } from './report.ts';
import { MODES, defaultHyperparameters, type Mode, type Scenario, type SimulationResult } from './types.ts';

const optionsSchema = z.object({
  scenario: z.string().min(1).optional(),
  epochs: cliInt(1, 100_000).optional(),
  mode: z.enum(['yuma2', 'yuma3', 'yuma3-liquid', 'all']).default('all'),
  out: z.string().min(1).optional(),
  json: z.boolean().default(false),
  list: z.boolean().default(false),
  progress: z.boolean().default(false),
  mechid: z.string().optional(),
  split: z.string().optional(),
});

/** flags > env > defaults, validated by the shared config layer (errors name the flag or variable). */
function readOptions(flags: Record<string, unknown>): z.infer<typeof optionsSchema> {
  return resolveConfig({
    schema: optionsSchema,
    flags,
    env: {
      scenario: 'SUBNET_SIMULATE_SCENARIO',
      epochs: 'SUBNET_SIMULATE_EPOCHS',
      mode: 'SUBNET_SIMULATE_MODE',
      out: 'SUBNET_SIMULATE_OUT',
    },
  });
}

async function loadScenario(ref: string): Promise<Scenario> {
  const builtin = findBuiltinScenario(ref);
  if (builtin) return builtin;
  if (/\.(ya?ml|json)$/i.test(ref) || ref.includes('/')) return parseScenarioFile(ref);
  throw new UserError(`unknown scenario '${ref}'`, { hint: 'run `subnet simulate --list`, or pass a .yaml/.json scenario file' });
}

/** A single progress line on stderr: rewritten in place on a TTY, every ~10% otherwise. */
function progressReporter(enabled: boolean, label: string): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  return (done, total) => {
    if (tty) {
      process.stderr.write(`\r${label}: epoch ${done}/${total}`);
      if (done === total) process.stderr.write('\n');
      return;
    }
    const tenth = Math.floor((done * 10) / total);
    if (tenth !== lastTenth || done === total) {
      lastTenth = tenth;
      process.stderr.write(`${label}: epoch ${done}/${total}\n`);
    }
  };
}

async function writeOutputs(dir: string, results: SimulationResult[]): Promise<string[]> {
  const base = slug(results[0].scenario);
  const files = [
    [join(dir, `${base}-dividends.svg`), renderMetricChart(results, 'dividends')],
    [join(dir, `${base}-incentive.svg`), renderMetricChart(results, 'incentive')],
    [join(dir, `${base}.json`), resultsToJson(results)],
  ] as const;
  for (const [path, content] of files) {
    try {
      await writeFileAtomic(path, content, 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UserError(`cannot write ${path}: ${code}`, { hint: 'check that --out names a writable directory' });
    }
  }
  return files.map(([p]) => p);
}

function listScenarios(json: boolean): void {
  if (json) {
    const list = builtinScenarios.map((s) => ({ name: s.name, epochs: s.epochs, description: s.description }));
    process.stdout.write(JSON.stringify(list, null, 2) + '\n');
    return;
  }
  const width = Math.max(...builtinScenarios.map((s) => s.name.length));
  for (const s of builtinScenarios) process.stdout.write(`${s.name.padEnd(width)}  ${s.description}\n`);
}

async function simulateAction(flags: Record<string, unknown>): Promise<void> {
  const opts = readOptions(flags);
  if (opts.list) return listScenarios(opts.json);
  if (!opts.scenario) throw new UserError('missing --scenario', { hint: 'run `subnet simulate --list` for the built-in scenarios' });
  const scenario = await loadScenario(opts.scenario);
  let mech: ReturnType<typeof mechanismFlags>;
  try {
    mech = mechanismFlags(opts.mechid, opts.split);
  } catch (e) {
    throw new UserError((e as Error).message, { hint: 'e.g. --mechid 1 --split 0.7,0.3' });
  }
  if (mech) {
    // the scenario is one mechanism of a subnet: every epoch runs on that mechanism's share
    const hp = (scenario.hyperparameters ??= {});
    const total = hp.emission ?? defaultHyperparameters(hp.tempo).emission;
    hp.emission = mechanismEmission(total, mech.mechid, mech.split);
    process.stderr.write(`mechanism ${mech.mechid}: ${hp.emission} of ${total} RAO per epoch (split ${mech.split.join(',')})\n`);
  }
  const modes: Mode[] = opts.mode === 'all' ? [...MODES] : [opts.mode];
  const showProgress = opts.progress || process.stderr.isTTY === true;
  const results = modes.map((mode) =>
    runScenario(scenario, { mode, epochs: opts.epochs, onEpoch: progressReporter(showProgress, `${scenario.name} [${mode}]`) }),
  );
  if (opts.json) process.stdout.write(resultsToJson(results));
  else {
    for (const r of results) process.stdout.write(formatRunTables(r) + '\n');
    process.stdout.write(formatSummary(results));
  }
  if (opts.out) {
    const files = await writeOutputs(opts.out, results);
    // stdout stays pure JSON with --json, so file notices go to stderr.
    for (const f of files) process.stderr.write(`wrote ${f}\n`);
  }
}

export function registerSimulateCommands(program: Command): void {
  program
    .command('simulate')
    .description('Run a Yuma Consensus scenario over many epochs and compare original Yuma, Yuma 3 and Yuma 3 + liquid alpha')
    .option('-s, --scenario <name|file>', 'built-in scenario name (see --list) or a YAML/JSON scenario file [env SUBNET_SIMULATE_SCENARIO]')
    .option('-e, --epochs <n>', "number of epochs (default: the scenario's own) [env SUBNET_SIMULATE_EPOCHS]")
    .addOption(
      new Option('-m, --mode <mode>', 'which mechanism(s) to run [env SUBNET_SIMULATE_MODE] (default: all)').choices([...MODES, 'all']),
    )
    .option('-o, --out <dir>', 'write SVG charts (dividends, incentive) and the JSON results to this directory [env SUBNET_SIMULATE_OUT]')
    .option('--json', 'print machine-readable results (JSON) instead of tables')
    .option('--list', 'list the built-in scenarios')
    .option('--mechid <k>', "simulate incentive mechanism K of a subnet: each epoch gets its share of the emission (with --split)")
    .option('--split <list>', 'emission split between mechanisms, e.g. 0.7,0.3')
    .option('--progress', 'show a progress line on stderr even when it is not a terminal')
    // Throw commander's errors (bad choice, unknown option) to runCli, which exits 2, instead of exit(1).
    .exitOverride()
    .action(async (flags: Record<string, unknown>) => simulateAction(flags));
}
