import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { connectChain } from 'subnetkit/chain';
import { serveMetrics } from 'subnetkit/metrics';
import { startValidator, type ValidatorHandle } from 'subnetkit/validator';
import { loadHotkey, resolveWalletRef } from 'subnetkit/wallet';
import { createPuzzleCommodity } from './commodity.ts';
import { closeOnSignals, commonFlags, pick, reportAndExit } from './flags.ts';

export const validatorFlags = commonFlags.extend({
  stateDir: z.string().min(1).optional(),
  alpha: z.coerce.number().gt(0).lte(1).default(0.1),
  roundIntervalMs: z.coerce.number().int().min(10).default(2000),
  concurrency: z.coerce.number().int().min(1).max(64).default(2),
  resyncBlocks: z.coerce.number().int().min(1).default(10),
  sampleSize: z.coerce.number().int().min(1).default(16),
  timeoutMs: z.coerce.number().int().min(50).default(5000),
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
});
export type ValidatorFlags = z.infer<typeof validatorFlags>;

export function validatorCommand(): Command {
  return new Command('validator')
    .description('Run the puzzle subnet validator')
    .option('--chain <target>', 'chain: a localnet URL (default http://127.0.0.1:9944), or "local" for a throw-away in-process chain (env SUBNET_CHAIN)')
    .option('--netuid <n>', 'subnet id (env SUBNET_NETUID)')
    .option('--wallet-path <dir>', 'wallet directory (env BT_WALLET_PATH)')
    .option('--name <wallet>', 'wallet name (env BT_WALLET_NAME)')
    .option('--hotkey <name>', 'hotkey name (env BT_WALLET_HOTKEY)')
    .option('--state-dir <dir>', 'where scores and pending tasks are kept (env SUBNET_STATE_DIR)')
    .option('--alpha <x>', 'EMA alpha for scores, (0, 1] (env SUBNET_ALPHA; default 0.1)')
    .option('--round-interval-ms <ms>', 'minimum ms between rounds per slot (default 2000)')
    .option('--concurrency <n>', 'rounds in flight (default 2)')
    .option('--resync-blocks <n>', 'resync the metagraph every N blocks (default 10)')
    .option('--sample-size <n>', 'miners queried per round (default 16)')
    .option('--timeout-ms <ms>', 'per-query timeout (default 5000)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on 127.0.0.1:<n>/metrics (env SUBNET_METRICS_PORT; off by default)')
    .option('--log-level <level>', 'pino level (env LOG_LEVEL; default info)');
}

export function parseValidatorFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): ValidatorFlags {
  const o = validatorCommand().exitOverride().parse(argv, { from: 'user' }).opts<Record<string, string | undefined>>();
  return validatorFlags.parse({
    chain: pick(o.chain, env.SUBNET_CHAIN) ?? 'http://127.0.0.1:9944',
    netuid: pick(o.netuid, env.SUBNET_NETUID) ?? 1,
    walletPath: o.walletPath,
    name: o.name,
    hotkey: o.hotkey,
    stateDir: pick(o.stateDir, env.SUBNET_STATE_DIR),
    alpha: pick(o.alpha, env.SUBNET_ALPHA),
    roundIntervalMs: o.roundIntervalMs,
    concurrency: o.concurrency,
    resyncBlocks: o.resyncBlocks,
    sampleSize: o.sampleSize,
    timeoutMs: o.timeoutMs,
    metricsPort: pick(o.metricsPort, env.SUBNET_METRICS_PORT),
    logLevel: pick(o.logLevel, env.LOG_LEVEL),
  });
}

export async function runValidator(flags: ValidatorFlags): Promise<{ handle: ValidatorHandle; metricsPort: number | null; close: () => Promise<void> }> {
  const ref = resolveWalletRef({ path: flags.walletPath, name: flags.name, hotkey: flags.hotkey });
  const hotkey = await loadHotkey(ref);
  const chain = await connectChain(flags.chain);
  const stateDir = flags.stateDir ?? join(homedir(), '.subnetkit', 'validators', ref.name, ref.hotkey, `netuid${flags.netuid}`);
  const commodity = createPuzzleCommodity({ sampleSize: flags.sampleSize, timeoutMs: flags.timeoutMs });
  try {
    const handle = await startValidator({
      chain,
      netuid: flags.netuid,
      hotkey,
      commodity,
      statePath: stateDir,
      options: {
        alpha: flags.alpha,
        roundIntervalMs: flags.roundIntervalMs,
        concurrency: flags.concurrency,
        resyncEveryBlocks: flags.resyncBlocks,
        logger: pino({ level: flags.logLevel }),
      },
    });
    const metrics = flags.metricsPort !== undefined ? await serveMetrics(handle.metrics, { port: flags.metricsPort }) : null;
    return {
      handle,
      metricsPort: metrics?.port ?? null,
      close: async () => {
        await metrics?.close();
        await handle.stop();
        await chain.close();
      },
    };
  } catch (e) {
    await chain.close();
    throw e;
  }
}

async function main(): Promise<void> {
  closeOnSignals((await runValidator(parseValidatorFlags(process.argv.slice(2)))).close);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main().catch(reportAndExit);
