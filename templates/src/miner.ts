import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { pino } from 'pino';
import { z } from 'zod';
import { connectChain } from 'subnetkit/chain';
import { startMiner, type MinerHandle } from 'subnetkit/miner';
import { loadColdkey, loadHotkey, resolveWalletRef } from 'subnetkit/wallet';
import { puzzleCommodity, puzzleMiner } from './commodity.ts';
import { closeOnSignals, commonFlags, pick, reportAndExit } from './flags.ts';

export const minerFlags = commonFlags.extend({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.coerce.number().int().min(0).max(65535).default(8091),
  externalIp: z.string().min(1).optional(),
  externalPort: z.coerce.number().int().min(1).max(65535).optional(),
  behavior: z.enum(['honest', 'wrong', 'slow', 'offline']).default('honest'),
  slowMs: z.coerce.number().int().min(0).default(1500),
  register: z.boolean().default(false),
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
});
export type MinerFlags = z.infer<typeof minerFlags>;

export function minerCommand(): Command {
  return new Command('miner')
    .description('Run a puzzle subnet miner')
    .option('--chain <target>', 'chain: a localnet URL (default http://127.0.0.1:9944), or "local" for a throw-away in-process chain (env SUBNET_CHAIN)')
    .option('--netuid <n>', 'subnet id (env SUBNET_NETUID)')
    .option('--wallet-path <dir>', 'wallet directory (env BT_WALLET_PATH)')
    .option('--name <wallet>', 'wallet name (env BT_WALLET_NAME)')
    .option('--hotkey <name>', 'hotkey name (env BT_WALLET_HOTKEY)')
    .option('--host <ip>', 'bind address (default 0.0.0.0)')
    .option('--port <n>', 'axon port (env SUBNET_PORT; default 8091; 0 = any free port)')
    .option('--external-ip <ip>', 'address announced on chain (env SUBNET_EXTERNAL_IP)')
    .option('--external-port <n>', 'port announced on chain (env SUBNET_EXTERNAL_PORT)')
    .option('--behavior <mode>', 'honest | wrong | slow | offline (env MINER_BEHAVIOR; demo misbehaviour)')
    .option('--slow-ms <ms>', 'extra delay in slow mode (default 1500)')
    .option('--register', 'register the hotkey from the dev faucet if needed (dev chains only)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on 127.0.0.1:<n>/metrics (env SUBNET_METRICS_PORT; off by default; never on the axon port)')
    .option('--log-level <level>', 'pino level (env LOG_LEVEL; default info)');
}

export function parseMinerFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): MinerFlags {
  const o = minerCommand().exitOverride().parse(argv, { from: 'user' }).opts<Record<string, string | boolean | undefined>>();
  return minerFlags.parse({
    chain: pick(o.chain, env.SUBNET_CHAIN) ?? 'http://127.0.0.1:9944',
    netuid: pick(o.netuid, env.SUBNET_NETUID) ?? 1,
    walletPath: o.walletPath,
    name: o.name,
    hotkey: o.hotkey,
    host: o.host,
    port: pick(o.port, env.SUBNET_PORT),
    externalIp: pick(o.externalIp, env.SUBNET_EXTERNAL_IP),
    externalPort: pick(o.externalPort, env.SUBNET_EXTERNAL_PORT),
    behavior: pick(o.behavior, env.MINER_BEHAVIOR),
    slowMs: o.slowMs,
    register: o.register === true,
    metricsPort: pick(o.metricsPort, env.SUBNET_METRICS_PORT),
    logLevel: pick(o.logLevel, env.LOG_LEVEL),
  });
}

export async function runMiner(flags: MinerFlags): Promise<{ handle: MinerHandle; close: () => Promise<void> }> {
  const ref = resolveWalletRef({ path: flags.walletPath, name: flags.name, hotkey: flags.hotkey });
  const hotkey = await loadHotkey(ref);
  const coldkey = flags.register ? await loadColdkey(ref, undefined, { prompt: true }) : undefined;
  const chain = await connectChain(flags.chain);
  try {
    const handle = await startMiner({
      chain,
      netuid: flags.netuid,
      hotkey,
      coldkey,
      commodity: puzzleCommodity,
      miner: puzzleMiner(flags.behavior, { slowMs: flags.slowMs }),
      axon: { host: flags.host, port: flags.port, externalIp: flags.externalIp, externalPort: flags.externalPort },
      register: flags.register,
      metrics: flags.metricsPort !== undefined ? { port: flags.metricsPort } : undefined,
      logger: pino({ level: flags.logLevel }),
    });
    return { handle, close: async () => { await handle.stop(); await chain.close(); } };
  } catch (e) {
    await chain.close();
    throw e;
  }
}

async function main(): Promise<void> {
  closeOnSignals((await runMiner(parseMinerFlags(process.argv.slice(2)))).close);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main().catch(reportAndExit);
