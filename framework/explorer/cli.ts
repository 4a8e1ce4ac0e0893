import type { Command } from 'commander';
import { z } from 'zod';
import { connectChain } from '../chain/index.ts';
import { cliPort, resolveConfig } from '../cli/config.ts';
import { UserError } from '../errors.ts';
import { startExplorer } from './server.ts';

const schema = z.object({
  chain: z.string().min(1).default('http://127.0.0.1:9944'),
  host: z.string().min(1).default('127.0.0.1'),
  port: cliPort.default(8090),
});

/** `subnet explorer`: the explorer page for any chain the framework connects to. */
export function registerExplorerCommands(program: Command): void {
  program
    .command('explorer')
    .description('serve the explorer web page (subnets, metagraph, history charts, weights heatmap) for a chain')
    .option('--chain <url>', 'local | http://… (localnet) | ws(s)://… (subtensor) (env SUBNET_CHAIN, default http://127.0.0.1:9944)')
    .option('--host <host>', 'interface to bind (env SUBNET_EXPLORER_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port, 0 = any free port (env SUBNET_EXPLORER_PORT; default 8090)')
    .option('--config <file>', 'JSON or YAML file with any of these options (env SUBNET_CONFIG)')
    .action(async (flags: Record<string, unknown>) => {
      const { config, ...rest } = flags;
      const cfg = resolveConfig({
        schema,
        flags: rest,
        env: { chain: 'SUBNET_CHAIN', host: 'SUBNET_EXPLORER_HOST', port: 'SUBNET_EXPLORER_PORT' },
        configPath: (config as string | undefined) ?? (process.env.SUBNET_CONFIG || undefined),
      });
      const chain = await connectChain(cfg.chain);
      let server;
      try {
        server = await startExplorer({ chain, host: cfg.host, port: cfg.port });
      } catch (e) {
        await chain.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`port ${cfg.port} on ${cfg.host} is already in use`, { hint: 'pass --port 0 for any free port' });
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot bind to host '${cfg.host}'`);
        throw e;
      }
      process.stdout.write(`subnetkit explorer for ${cfg.chain} (${chain.kind}) at ${server.url}/\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(() => chain.close()).then(done, () => done());
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
