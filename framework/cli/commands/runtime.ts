import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import type { Commodity } from '../../commodity/index.ts';
import { UserError } from '../../errors.ts';
import { serveMetrics } from '../../metrics/index.ts';
import { startMiner } from '../../miner/index.ts';
import { startValidator } from '../../validator/index.ts';
import { loadColdkey, loadHotkey } from '../../wallet/index.ts';
import { cliBool, cliInt, cliPort } from '../config.ts';
import { chainOptionsSchema, openChain, resolveCommandOptions, walletRefOf, withChainOptions } from './shared.ts';

const TEMPLATE_COMMODITY = fileURLToPath(new URL('../../../templates/src/commodity.ts', import.meta.url));
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** Import a commodity module: its default export, or an export named `commodity`, must be a defined Commodity. */
export async function loadCommodityModule(path: string): Promise<Commodity> {
  const full = resolve(path);
  if (!existsSync(full)) throw new UserError(`commodity module not found: ${full}`, { hint: 'pass --commodity PATH to a module that exports a defineCommodity(...) result' });
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`cannot load commodity module ${full}: ${(e as Error).message.split('\n')[0]}`);
  }
  const candidates = [mod.default, mod.commodity, ...Object.values(mod)];
  const found = candidates.find(
    (c): c is Commodity => typeof c === 'object' && c !== null && 'synapse' in c && typeof (c as Commodity).generate === 'function' && typeof (c as Commodity).score === 'function',
  );
  if (!found) throw new UserError(`${full} exports no commodity`, { hint: 'export default defineCommodity({...}) (or `export const commodity = ...`)' });
  return found;
}

function onShutdown(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (e: Error) => {
        log.error({ err: e }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

const minerSchema = chainOptionsSchema.extend({
  commodity: z.string().min(1).default(TEMPLATE_COMMODITY),
  host: z.string().min(1).default('0.0.0.0'),
  port: cliPort.default(8091),
  externalIp: z.string().min(1).optional(),
  externalPort: cliPort.optional(),
  register: cliBool.default(false),
  logLevel,
});

const validatorSchema = chainOptionsSchema.extend({
  commodity: z.string().min(1).default(TEMPLATE_COMMODITY),
  stateDir: z.string().min(1).optional(),
  alpha: z.coerce.number().gt(0).max(1).default(0.1),
  resyncBlocks: cliInt(1).default(10),
  roundIntervalMs: cliInt(1).default(1000),
  concurrency: cliInt(1, 64).default(1),
  disableWeights: cliBool.default(false),
  metricsPort: cliPort.optional(),
  metricsHost: z.string().min(1).default('127.0.0.1'),
  logLevel,
});

export function registerRuntimeCommands(program: Command): void {
  withChainOptions(program.command('miner'))
    .description("run a miner: serve the commodity's handler on an axon and announce it on chain")
    .option('--commodity <module>', 'module exporting the commodity (env SUBNET_COMMODITY; default: the template puzzle commodity)')
    .option('--host <ip>', 'bind address (env SUBNET_HOST; default 0.0.0.0)')
    .option('--port <n>', 'axon port (env SUBNET_PORT; default 8091; 0 = any free port)')
    .option('--external-ip <ip>', 'IP announced on chain (env SUBNET_EXTERNAL_IP; default: the bind address — set it when binding 0.0.0.0 behind NAT)')
    .option('--external-port <n>', 'port announced on chain (env SUBNET_EXTERNAL_PORT; default: the bound port)')
    .option('--register', 'register the hotkey first if needed, funded by the dev faucet (localnet only)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL; default info)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(minerSchema, flags, {
        commodity: 'SUBNET_COMMODITY', host: 'SUBNET_HOST', port: 'SUBNET_PORT', externalIp: 'SUBNET_EXTERNAL_IP', externalPort: 'SUBNET_EXTERNAL_PORT', logLevel: 'LOG_LEVEL',
      });
      const log = pino({ level: o.logLevel });
      const commodity = await loadCommodityModule(o.commodity);
      if (!commodity.miner) throw new UserError(`commodity ${commodity.name} has no miner side`, { hint: 'add `miner: { handle(query, ctx) {...} }` to its definition' });
      const ref = walletRefOf(o);
      const hotkey = await loadHotkey(ref);
      const coldkey = o.register ? await loadColdkey(ref, undefined, { prompt: true }) : undefined;
      const chain = await openChain(o.chain);
      try {
        const handle = await startMiner({
          chain, netuid: o.netuid, hotkey, coldkey, commodity, register: o.register, logger: log,
          axon: { host: o.host, port: o.port, externalIp: o.externalIp, externalPort: o.externalPort },
          // a pruned miner earns nothing: exit non-zero so a supervisor notices
          onDeregistered: () => void handle.stop().then(() => chain.close()).finally(() => process.exit(1)),
        });
        log.info({ uid: handle.uid, port: handle.port, hotkey: hotkey.ss58Address }, `miner serving ${commodity.name}`);
        onShutdown(async () => { await handle.stop(); await chain.close(); }, log);
      } catch (e) {
        await chain.close();
        throw e;
      }
    });

  withChainOptions(program.command('validator'))
    .description('run a validator: query miners with the commodity, score them, and set weights on chain')
    .option('--commodity <module>', 'module exporting the commodity (env SUBNET_COMMODITY; default: the template puzzle commodity)')
    .option('--state-dir <dir>', 'where scores and pending tasks persist (env SUBNET_STATE_DIR; default ~/.subnetkit/validators/<wallet>/<hotkey>/netuid<N>)')
    .option('--alpha <x>', 'EMA alpha for score aggregation, 0 < x ≤ 1 (default 0.1)')
    .option('--resync-blocks <n>', 'reload the metagraph every N blocks (default 10)')
    .option('--concurrency <n>', 'rounds in flight at once (default 1)')
    .option('--round-interval-ms <ms>', 'minimum time between the starts of two rounds in one slot (default 1000)')
    .option('--disable-weights', 'score only; never submit weights')
    .option('--metrics-port <n>', 'serve Prometheus metrics on this port (env SUBNET_METRICS_PORT; off by default)')
    .option('--metrics-host <ip>', 'bind address for metrics (default 127.0.0.1)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL; default info)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(validatorSchema, flags, {
        commodity: 'SUBNET_COMMODITY', stateDir: 'SUBNET_STATE_DIR', metricsPort: 'SUBNET_METRICS_PORT', logLevel: 'LOG_LEVEL',
      });
      const log = pino({ level: o.logLevel });
      const commodity = await loadCommodityModule(o.commodity);
      const ref = walletRefOf(o);
      const hotkey = await loadHotkey(ref);
      const statePath = o.stateDir ?? join(homedir(), '.subnetkit', 'validators', ref.name, ref.hotkey, `netuid${o.netuid}`);
      const chain = await openChain(o.chain);
      try {
        const uid = await chain.getUid(o.netuid, hotkey.ss58Address);
        if (uid === null) throw new UserError(`hotkey ${hotkey.ss58Address} is not registered on subnet ${o.netuid}`, { hint: 'register it with `subnet register`, and stake to it with `subnet stake add`' });
        const handle = await startValidator({
          chain, netuid: o.netuid, hotkey, commodity, statePath, options: {
            alpha: o.alpha, resyncEveryBlocks: o.resyncBlocks, concurrency: o.concurrency, roundIntervalMs: o.roundIntervalMs, disableWeights: o.disableWeights, logger: log,
          },
        });
        const metrics = o.metricsPort !== undefined ? await serveMetrics(handle.metrics, { port: o.metricsPort, host: o.metricsHost }) : null;
        if (metrics) log.info({ port: metrics.port }, 'metrics on /metrics');
        log.info({ uid, statePath, hotkey: hotkey.ss58Address }, `validator running ${commodity.name}`);
        onShutdown(async () => {
          await metrics?.close();
          await handle.stop();
          await chain.close();
        }, log);
      } catch (e) {
        await chain.close();
        throw e;
      }
    });
}
