import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { cliBool, cliInt, cliPort, cliTao, formatTao, resolveConfig } from '../cli/config.ts';
import { DEV_ACCOUNT_BALANCE, LocalChain } from './local-chain.ts';
import { mountExplorer } from '../explorer/index.ts';
import { LOCALNET_SERVER_DEFAULTS, startLocalnetServer } from './localnet-server.ts';

export const DEFAULT_LOCALNET_STATE = join(homedir(), '.subnetkit', 'localnet', 'state.json');

const localnetSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: cliPort.default(9944),
  blockTime: cliInt(0, 3_600_000).default(12_000),
  state: z.string().min(1).default(DEFAULT_LOCALNET_STATE),
  fresh: cliBool.default(false),
  ephemeral: cliBool.default(false),
  persistEvery: cliInt(1, 100_000).default(1),
  blockEmission: cliTao.default('1'),
  explorer: cliBool.default(true),
  maxUsedNonces: cliInt(100, 10_000_000).default(50_000),
  requestTimeout: cliInt(100, 3_600_000).default(LOCALNET_SERVER_DEFAULTS.requestTimeoutMs),
  wsMaxBuffered: cliInt(1024, 1024 * 1024 * 1024).default(LOCALNET_SERVER_DEFAULTS.wsMaxBufferedBytes),
  wsMaxCatchUp: cliInt(0, 100_000).default(LOCALNET_SERVER_DEFAULTS.wsMaxCatchUpBlocks),
});

/** `subnet localnet`: run a LocalChain and serve it to other processes. */
export function registerChainCommands(program: Command): void {
  program
    .command('localnet')
    .description('run a local development chain (subtensor-like) and serve it over HTTP JSON + WebSocket')
    .option('--host <host>', 'interface to bind (env SUBNET_LOCALNET_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 = any free port (env SUBNET_LOCALNET_PORT; default 9944)')
    .option('--block-time <ms>', 'milliseconds per block: 12000 like subtensor, e.g. 100 for demos (env SUBNET_LOCALNET_BLOCK_TIME)')
    .option('--state <path>', `chain state file, recovered on restart (env SUBNET_LOCALNET_STATE; default ${DEFAULT_LOCALNET_STATE})`)
    .option('--fresh', 'start from genesis, overwriting an existing state file')
    .option('--ephemeral', 'keep the chain in memory only (no state file)')
    .option('--persist-every <blocks>', 'write the state every N blocks (writes from calls are always persisted; default 1)')
    .option('--block-emission <tao>', 'TAO emitted per block per subnet (env SUBNET_LOCALNET_BLOCK_EMISSION; default 1)')
    .option('--no-explorer', 'do not serve the explorer web page at /')
    .option('--max-used-nonces <n>', 'signed writes remembered for replay protection within the ±60 s window (default 50000)')
    .option('--request-timeout <ms>', 'a request (headers + body) must arrive within this, else 408 (default 15000)')
    .option('--ws-max-buffered <bytes>', 'close a WebSocket subscriber with more than this unread (default 1048576)')
    .option('--ws-max-catch-up <blocks>', 'most blocks replayed to a subscriber that asks fromBlock (default 256)')
    .action(async (flags: Record<string, unknown>) => {
      const cfg = resolveConfig({
        schema: localnetSchema,
        flags,
        env: {
          host: 'SUBNET_LOCALNET_HOST',
          port: 'SUBNET_LOCALNET_PORT',
          blockTime: 'SUBNET_LOCALNET_BLOCK_TIME',
          state: 'SUBNET_LOCALNET_STATE',
          blockEmission: 'SUBNET_LOCALNET_BLOCK_EMISSION',
        },
      });
      await runLocalnet(cfg);
    });
}

async function runLocalnet(cfg: z.infer<typeof localnetSchema>): Promise<void> {
  const statePath = cfg.ephemeral ? undefined : resolve(cfg.state);
  const chain = await LocalChain.create({
    blockTimeMs: cfg.blockTime,
    statePath,
    fresh: cfg.fresh,
    persistEveryBlocks: cfg.persistEvery,
    blockEmission: cfg.blockEmission,
    maxUsedNonces: cfg.maxUsedNonces,
  });
  let server;
  try {
    server = await startLocalnetServer({
      chain,
      host: cfg.host,
      port: cfg.port,
      blockTimeMs: cfg.blockTime,
      mount: cfg.explorer ? (app) => mountExplorer(app, { chain }) : undefined,
      requestTimeoutMs: cfg.requestTimeout,
      wsMaxBufferedBytes: cfg.wsMaxBuffered,
      wsMaxCatchUpBlocks: cfg.wsMaxCatchUp,
    });
  } catch (e) {
    await chain.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${cfg.port} on ${cfg.host} is already in use`, { hint: 'stop the other localnet or pass --port 0' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot bind to host '${cfg.host}'`);
    throw e;
  }
  const head = await chain.getBlock();
  const out = process.stdout;
  out.write('subnetkit localnet\n');
  out.write(`  rpc:   ${server.url}\n`);
  out.write(`  ws:    ${server.wsUrl}\n`);
  if (cfg.explorer) out.write(`  explorer: ${server.url}/\n`);
  out.write(`  block: #${head.number}, ${cfg.blockTime > 0 ? `one every ${cfg.blockTime} ms` : 'manual (block time 0)'}\n`);
  out.write(`  state: ${statePath ?? '(in memory)'}\n`);
  out.write(`  emission: ${formatTao(cfg.blockEmission)} TAO per block per subnet (18 % owner, 41 % miners, 41 % validators)\n`);
  out.write(`  dev accounts (${formatTao(DEV_ACCOUNT_BALANCE)} TAO each at genesis; more via the faucet, POST /faucet):\n`);
  for (const a of chain.devAccounts) out.write(`    ${a.uri.padEnd(9)} ${a.address}\n`);

  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      out.write('localnet: shutting down, saving state\n');
      void server
        .close()
        .catch(() => undefined)
        .then(() => chain.close())
        .then(done, (e: unknown) => {
          process.stderr.write(`localnet: final save failed: ${(e as Error).message}\n`);
          done();
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
