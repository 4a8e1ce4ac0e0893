import type { Command } from 'commander';
import { z } from 'zod';
import { connectChain } from '../../chain/index.ts';
import type { Chain, DevChain } from '../../chain/types.ts';
import { UserError } from '../../errors.ts';
import { resolveWalletRef, type WalletRef } from '../../wallet/index.ts';
import { cliInt, resolveConfig } from '../config.ts';

export const DEFAULT_LOCALNET = 'http://127.0.0.1:9944';

/** Options shared by every command that talks to a chain. */
export const chainOptionsSchema = z.object({
  chain: z.string().min(1).default(DEFAULT_LOCALNET),
  netuid: cliInt(0, 65535).default(1),
  walletPath: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  hotkey: z.string().min(1).optional(),
});
export type ChainOptions = z.infer<typeof chainOptionsSchema>;

export const chainOptionsEnv = {
  chain: 'SUBNET_CHAIN',
  netuid: 'SUBNET_NETUID',
  walletPath: 'BT_WALLET_PATH',
  name: 'BT_WALLET_NAME',
  hotkey: 'BT_WALLET_HOTKEY',
} as const;

export function withChainOptions(cmd: Command, opts: { wallet?: boolean } = {}): Command {
  cmd
    .option('--chain <url>', `localnet URL (env SUBNET_CHAIN, default ${DEFAULT_LOCALNET})`)
    .option('--netuid <n>', 'subnet id (env SUBNET_NETUID, default 1)')
    .option('--config <file>', 'JSON or YAML file with any of these options (env SUBNET_CONFIG)');
  if (opts.wallet !== false) {
    cmd
      .option('--wallet-path <dir>', 'wallets root (env BT_WALLET_PATH, default ~/.bittensor/wallets)')
      .option('--name <name>', 'wallet name (env BT_WALLET_NAME, default "default")')
      .option('--hotkey <name>', 'hotkey name (env BT_WALLET_HOTKEY, default "default")');
  }
  return cmd;
}

/** Resolve flags > env > config file for a command built with withChainOptions (+ extra fields). */
export function resolveCommandOptions<T extends z.ZodRawShape>(
  schema: z.ZodObject<T>,
  flags: Record<string, unknown>,
  env: Partial<Record<keyof T & string, string>> = {},
): z.infer<z.ZodObject<T>> {
  const configPath = (flags.config as string | undefined) ?? (process.env.SUBNET_CONFIG || undefined);
  const { config: _ignored, ...rest } = flags;
  return resolveConfig({ schema, flags: rest, env: { ...chainOptionsEnv, ...env } as Partial<Record<keyof T & string, string>>, configPath });
}

export function walletRefOf(o: { walletPath?: string; name?: string; hotkey?: string }): WalletRef {
  return resolveWalletRef({ path: o.walletPath, name: o.name, hotkey: o.hotkey });
}

/**
 * Connect for a one-shot command. `local` would be a throw-away in-process chain, which is never what
 * a one-shot command means, so it is refused with a hint.
 */
export async function openChain(spec: string): Promise<Chain | DevChain> {
  if (spec.trim() === 'local') {
    throw new UserError('`--chain local` starts a throw-away in-process chain, so this command would have no effect', {
      hint: `start one with \`subnet localnet\` and pass --chain ${DEFAULT_LOCALNET}`,
    });
  }
  return connectChain(spec);
}

/** Run `fn` with a chain connection that is always closed afterwards. */
export async function withChain<T>(spec: string, fn: (chain: Chain | DevChain) => Promise<T>): Promise<T> {
  const chain = await openChain(spec);
  try {
    return await fn(chain);
  } finally {
    await chain.close();
  }
}

export async function requireSubnet(chain: Chain, netuid: number): Promise<void> {
  if (!(await chain.subnetExists(netuid))) {
    throw new UserError(`subnet ${netuid} does not exist on this chain`, { hint: 'create one with `subnet subnets create`, or pass --netuid' });
  }
}

export function shortKey(ss58: string): string {
  return ss58.length > 12 ? `${ss58.slice(0, 6)}…${ss58.slice(-4)}` : ss58;
}
