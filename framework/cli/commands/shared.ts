import type { Command } from 'commander';
import { z } from 'zod';
import { connectChain } from '../../chain/index.ts';
import { ChainError, isDevChain, type Chain, type DevChain } from '../../chain/types.ts';
import { weightsForChain } from '../../consensus/weights/index.ts';
import { UserError } from '../../errors.ts';
import { resolveWalletRef, ss58Decode, type WalletRef } from '../../wallet/index.ts';
import { cliInt, formatTao, resolveConfig } from '../config.ts';

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
    .option('--chain <url>', `local, a localnet URL, ws(s):// subtensor node, or finney / test / archive (env SUBNET_CHAIN, default ${DEFAULT_LOCALNET})`)
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

/** An SS58 address from a flag, checked before anything is signed or sent. */
export function requireSs58(address: string, flag: string): string {
  try {
    ss58Decode(address);
  } catch {
    throw new UserError(`${flag} '${address}' is not a valid SS58 address`, { hint: 'SS58 addresses look like 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY' });
  }
  return address;
}

/** Refuse a payment the coldkey cannot make, in TAO and with what to do, before the chain says so in RAO. */
export async function requireBalance(chain: Chain, coldkey: string, amount: bigint, what: string): Promise<void> {
  const balance = await chain.getBalance(coldkey);
  if (balance >= amount) return;
  throw new UserError(`cannot ${what}: coldkey ${coldkey} has ${formatTao(balance)} TAO`, {
    hint: isDevChain(chain) ? `ask less, or top it up with \`subnet faucet\` (localnet)` : 'ask less, or transfer TAO to the coldkey first',
  });
}

/** `--uids` / `--weights` of the same length with at least one positive weight. */
export function checkWeightLists(uids: number[], weights: number[]): void {
  if (uids.length !== weights.length) {
    throw new UserError(`--uids has ${uids.length} entries but --weights has ${weights.length}`, { hint: 'give one weight per uid, in the same order: --uids 1,2,3 --weights 0.2,0.3,0.5' });
  }
  if (weights.every((w) => w === 0)) {
    // The SDK's processing turns an all-zero vector into uniform weights over every uid, this
    // validator's own included; that is never what someone typing zeros meant.
    throw new UserError('all weights are zero', { hint: 'give at least one positive weight (the SDK would otherwise set uniform weights over every uid, including your own)' });
  }
}

/**
 * SDK-exact processing and u16 conversion, as `set_weights` / `commit_weights` take them: v10
 * `process_weights_for_netuid` (default) or v11 `SetWeights` (see docs/weights.md).
 */
export async function weightsForEmit(
  chain: Chain,
  netuid: number,
  uids: number[],
  weights: number[],
  opts: { semantics?: 'v10' | 'v11'; hotkey?: string } = {},
): Promise<{ uids: number[]; values: number[] }> {
  const [hp, m] = await Promise.all([chain.getHyperparameters(netuid), chain.getMetagraph(netuid)]);
  const outside = uids.find((u) => u >= m.n);
  if (outside !== undefined) throw new UserError(`uid ${outside} is not registered on subnet ${netuid} (${m.n} neurons)`);
  const selfUid = opts.hotkey ? m.hotkeys.indexOf(opts.hotkey) : -1;
  return weightsForChain(uids, weights, {
    semantics: opts.semantics ?? 'v10', minAllowedWeights: hp.minAllowedWeights, maxWeightsLimit: hp.maxWeightsLimit, n: m.n, selfUid: selfUid >= 0 ? selfUid : null,
  });
}

/** `SettingWeightsTooFast` with the block from which the next update is allowed. */
export async function explainTooFast(chain: Chain, netuid: number, hotkey: string, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (e) {
    if (!(e instanceof ChainError) || e.code !== 'SettingWeightsTooFast') throw e;
    const [hp, m, head] = await Promise.all([chain.getHyperparameters(netuid), chain.getMetagraph(netuid), chain.getBlock()]);
    const uid = m.hotkeys.indexOf(hotkey);
    const next = (m.lastUpdate[uid] ?? 0) + hp.weightsSetRateLimit;
    throw new ChainError('SettingWeightsTooFast', `last update at block ${m.lastUpdate[uid] ?? 0}, weightsSetRateLimit ${hp.weightsSetRateLimit}: next allowed at block ${next} (now ${head.number})`);
  }
}

/** One line to stdout. */
export const out = (s: string): void => void process.stdout.write(`${s}\n`);
/** `--json` output: indented, bigints as decimal strings. */
export const json = (v: unknown): void => out(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));
