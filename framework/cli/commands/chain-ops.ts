import { Command } from 'commander';
import { z } from 'zod';
import { isDevChain, type Metagraph, type SubnetHyperparameters } from '../../chain/types.ts';
import { SubtensorChain } from '../../chain/subtensor/index.ts';
import { UserError } from '../../errors.ts';
import { loadColdkey, loadColdkeyPub, loadHotkey, loadHotkeyPub } from '../../wallet/index.ts';
import { cliInt, cliTao, formatTao } from '../config.ts';
import { renderTable } from '../../util/table.ts';
import { registerOwnerCommands } from './owner-ops.ts';
import { metagraphRows, renderMetagraph } from './metagraph-view.ts';
import { watchMetagraph } from './watch.ts';
import { chainOptionsSchema, checkWeightLists, explainTooFast, json, out, requireBalance, requireSs58, requireSubnet, resolveCommandOptions, shortKey, walletRefOf, weightsForEmit, withChain, withChainOptions } from './shared.ts';


/** `subnet register`: burned registration of the wallet's hotkey, paid by its coldkey. */
function registerCommand(program: Command): void {
  withChainOptions(program.command('register'))
    .description("register the wallet's hotkey on a subnet (burned_register, paid by the coldkey)")
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const ref = walletRefOf(o);
      const hotkey = await loadHotkeyPub(ref);
      const coldkey = await loadColdkey(ref, undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const existing = await chain.getUid(o.netuid, hotkey);
        if (existing !== null) return out(`hotkey ${hotkey} is already registered on subnet ${o.netuid} as uid ${existing}`);
        const { burn } = await chain.getHyperparameters(o.netuid);
        const uid = await chain.burnedRegister(coldkey, o.netuid, hotkey);
        out(`registered ${hotkey} on subnet ${o.netuid} as uid ${uid} (burned ≈ ${formatTao(burn)} TAO)`);
      });
    });
}

/** `subnet faucet`: dev chains only. */
function faucetCommand(program: Command): void {
  const schema = chainOptionsSchema.extend({ amount: cliTao.default('1000') });
  withChainOptions(program.command('faucet'))
    .description("credit free TAO to the wallet's coldkey (localnet dev faucet)")
    .option('--amount <tao>', 'amount in TAO (default 1000)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(schema, flags);
      const coldkey = await loadColdkeyPub(walletRefOf(o));
      await withChain(o.chain, async (chain) => {
        if (!isDevChain(chain)) throw new UserError('this chain has no faucet', { hint: 'the faucet exists only on `subnet localnet`' });
        await chain.faucet(coldkey, o.amount);
        out(`credited ${formatTao(o.amount)} TAO to ${coldkey}; balance ${formatTao(await chain.getBalance(coldkey))} TAO`);
      });
    });
}

/** `tempo=20 commitRevealWeightsEnabled=false` → typed partial hyperparameters, by the current values' types. */
export function parseHyperparameterPairs(pairs: string[], current: SubnetHyperparameters): Partial<SubnetHyperparameters> {
  const out: Record<string, number | bigint | boolean | number[]> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z0-9]+)=(.+)$/.exec(pair);
    if (!m) throw new UserError(`expected key=value, got '${pair}'`, { hint: 'e.g. tempo=20; `subnet subnets show` lists the names and current values' });
    const [, key, raw] = m as unknown as [string, string, string];
    if (key === 'mechanismEmissionSplit') {
      // u16 shares summing to 65535, e.g. mechanismEmissionSplit=45875,19660 (the chain checks the sum)
      if (!/^\d+(,\d+)*$/.test(raw)) throw new UserError(`mechanismEmissionSplit takes comma-separated u16 values, got '${raw}'`, { hint: 'or use `subnet subnets mechanisms --split 0.7,0.3`' });
      (out as Record<string, unknown>)[key] = raw.split(',').map(Number);
      continue;
    }
    if (!(key in current)) throw new UserError(`unknown hyperparameter '${key}'`, { hint: `known: ${Object.keys(current).join(', ')}` });
    const was = current[key as keyof SubnetHyperparameters];
    const hint = `e.g. ${key}=${String(was)} (its current value)`;
    if (typeof was === 'boolean') {
      if (!/^(true|false|on|off)$/.test(raw)) throw new UserError(`${key} takes true or false, got '${raw}'`, { hint });
      out[key] = raw === 'true' || raw === 'on';
    } else if (typeof was === 'bigint') {
      if (!/^\d+$/.test(raw)) throw new UserError(`${key} takes a non-negative integer, got '${raw}'`, { hint });
      out[key] = BigInt(raw);
    } else {
      if (!/^-?\d+$/.test(raw)) throw new UserError(`${key} takes an integer, got '${raw}'`, { hint });
      out[key] = Number(raw);
    }
  }
  return out as Partial<SubnetHyperparameters>;
}

/** Hyperparameters that are amounts of RAO: shown in TAO (`--json` keeps RAO, as subtensor stores them). */
const TAO_AMOUNTS = new Set(['burn', 'minBurn', 'maxBurn']);

/** `subnet subnets create|set|show`. */
function subnetsCommands(program: Command): void {
  const group = program.command('subnets').description('create a subnet and inspect its hyperparameters');
  withChainOptions(group.command('create'))
    .description("create a subnet owned by the wallet's coldkey; its hotkey becomes the owner neuron")
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const ref = walletRefOf(o);
      const ownerHotkey = await loadHotkeyPub(ref);
      const coldkey = await loadColdkey(ref, undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        const netuid = await chain.registerNetwork(coldkey, ownerHotkey);
        out(`created subnet ${netuid} (owner coldkey ${coldkey.ss58Address}, owner hotkey ${ownerHotkey}); emission starts after \`subnet subnets start --netuid ${netuid}\``);
      });
    });
  withChainOptions(group.command('set'))
    .description('set hyperparameters, e.g. `subnets set tempo=20 commitRevealWeightsEnabled=false`: on a localnet as the owner; on subtensor as the owner (AdminUtils, owner-settable ones only) or, on a dev chain, with --as-sudo')
    .argument('<key=value...>', 'hyperparameters by their subtensor names in camelCase (see `subnets show`)')
    .option('--as-sudo', "subtensor dev chains: the wallet's coldkey is the chain's sudo key; wrap the AdminUtils calls in sudo.sudo")
    .action(async (pairs: string[], flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ asSudo: z.boolean().optional() }), flags);
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        const subtensor = chain instanceof SubtensorChain ? chain : null;
        if (!isDevChain(chain) && !subtensor) throw new UserError('this chain cannot set hyperparameters');
        if (o.asSudo && !subtensor) throw new UserError('--as-sudo is for subtensor dev chains (ws://…); on a localnet the subnet owner sets them');
        await requireSubnet(chain, o.netuid);
        const params = parseHyperparameterPairs(pairs, await chain.getHyperparameters(o.netuid));
        if (subtensor) await subtensor.setHyperparameters(coldkey, o.netuid, params, { asSudo: o.asSudo === true });
        else if (isDevChain(chain)) await chain.setHyperparameters(coldkey, o.netuid, params);
        out(`subnet ${o.netuid}: ${Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
      });
    });
  withChainOptions(group.command('show').alias('hyperparameters'), { wallet: false })
    .description('print the subnet hyperparameters (subtensor names; burn amounts in TAO)')
    .option('--json', 'machine-readable output')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const hp = await chain.getHyperparameters(o.netuid);
        if (o.json) return json(hp);
        out(renderTable(Object.entries(hp), [
          { header: 'hyperparameter', value: ([k]) => k, align: 'left' },
          { header: 'value', value: ([k, v]) => (TAO_AMOUNTS.has(k) ? `${formatTao(v as bigint)} τ` : String(v)), align: 'left' },
        ]));
      });
    });
}

/** `subnet stake add|remove`. */
function stakeCommands(program: Command): void {
  const schema = chainOptionsSchema.extend({ amount: cliTao, hotkeyAddress: z.string().min(1).optional() });
  const group = program.command('stake').description("move TAO between the coldkey's balance and a hotkey's stake on a subnet");
  for (const action of ['add', 'remove'] as const) {
    withChainOptions(group.command(action))
      .description(action === 'add' ? 'stake TAO from the coldkey to a hotkey' : "unstake TAO from a hotkey back to the coldkey")
      .requiredOption('--amount <tao>', 'amount in TAO, e.g. 10 or 0.5')
      .option('--hotkey-address <ss58>', action === 'add' ? "hotkey to stake to (default: the wallet's hotkey)" : "hotkey to unstake from (default: the wallet's hotkey)")
      .action(async (flags: Record<string, unknown>) => {
        const o = resolveCommandOptions(schema, flags);
        const ref = walletRefOf(o);
        const hotkey = o.hotkeyAddress !== undefined ? requireSs58(o.hotkeyAddress, '--hotkey-address') : await loadHotkeyPub(ref);
        const coldkey = await loadColdkey(ref, undefined, { prompt: true });
        await withChain(o.chain, async (chain) => {
          await requireSubnet(chain, o.netuid);
          if (action === 'add') await requireBalance(chain, coldkey.ss58Address, o.amount, `stake ${formatTao(o.amount)} TAO`);
          if (action === 'add') await chain.addStake(coldkey, hotkey, o.netuid, o.amount);
          else await chain.removeStake(coldkey, hotkey, o.netuid, o.amount);
          out(`${action === 'add' ? 'staked' : 'unstaked'} ${formatTao(o.amount)} TAO ${action === 'add' ? 'to' : 'from'} ${hotkey} on subnet ${o.netuid}; coldkey balance ${formatTao(await chain.getBalance(coldkey.ss58Address))} TAO`);
        });
      });
  }
}

/** `subnet metagraph`: a readable table of a subnet's neurons; `--watch` redraws it every block. */
function metagraphCommand(program: Command): void {
  withChainOptions(program.command('metagraph'), { wallet: false })
    .description("print a subnet's neurons: stake, permits, incentive, dividends, emission, axons")
    .option('--json', 'machine-readable output (amounts in RAO and TAO, proportions as 0..1 and u16)')
    .option('--watch', 'redraw the table on every new block until interrupted')
    .option('--mechid <n>', 'incentive mechanism whose incentive and last update to show (default 0)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional(), watch: z.boolean().optional(), mechid: cliInt(0, 15).default(0) }), flags);
      if (o.watch && o.json) throw new UserError('--watch and --json do not go together', { hint: 'poll `subnet metagraph --json` instead' });
      if (o.watch) return watchMetagraph(o.chain, o.netuid, o.mechid);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const m = await chain.getMetagraph(o.netuid, o.mechid ? { mechid: o.mechid } : undefined);
        if (o.json) return json({ netuid: m.netuid, block: m.block, n: m.n, neurons: metagraphRows(m) });
        out(renderMetagraph(m, o.mechid));
      });
    });
}

const floatList = z.string().transform((s, ctx) => {
  const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
  const nums = parts.map(Number);
  if (parts.length === 0 || nums.some((x) => !Number.isFinite(x) || x < 0)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a comma-separated list of non-negative numbers, got '${s}'` });
    return z.NEVER;
  }
  return nums;
});

/** `subnet weights show|set` (added to the weights group next to the offline helpers). */
function weightsChainCommands(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'weights') ?? program.command('weights').description('weights');
  withChainOptions(group.command('show'), { wallet: false })
    .description('print the weights stored on chain for a uid (u16, max-upscaled as subtensor stores them)')
    .requiredOption('--uid <uid>', 'validator uid')
    .option('--mechid <n>', 'incentive mechanism (default 0)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ uid: cliInt(0, 65535), mechid: cliInt(0, 15).default(0) }), flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const { n } = await chain.getMetagraph(o.netuid);
        if (o.uid >= n) throw new UserError(`uid ${o.uid} is not registered on subnet ${o.netuid} (${n === 1 ? '1 neuron' : `${n} neurons`}: uids 0..${n - 1})`);
        const row = await chain.getWeights(o.netuid, o.uid, o.mechid ? { mechid: o.mechid } : undefined);
        if (row.length === 0) return out(`uid ${o.uid} has no weights on subnet ${o.netuid}`);
        const total = row.reduce((s, [, v]) => s + v, 0);
        out(renderTable(row, [
          { header: 'to uid', value: ([u]) => u },
          { header: 'u16', value: ([, v]) => v },
          { header: 'share', value: ([, v]) => (v / total).toFixed(4) },
        ]));
      });
    });
  const schema = chainOptionsSchema.extend({ uids: z.string().transform((s) => s.split(',').map((x) => Number(x.trim()))).pipe(z.array(z.number().int().min(0).max(65535))), weights: floatList, versionKey: cliInt().default(0), mechid: cliInt(0, 15).default(0), semantics: z.enum(['v10', 'v11'], { message: 'must be v10 or v11' }).default('v10') });
  withChainOptions(group.command('set'))
    .description('process weights like the Python SDK (min allowed, max limit) and set them from the hotkey')
    .requiredOption('--uids <list>', 'comma-separated uids, e.g. 1,2,3')
    .requiredOption('--weights <list>', 'comma-separated non-negative weights, e.g. 0.2,0.3,0.5')
    .option('--version-key <n>', 'weights version key (default 0)')
    .option('--mechid <n>', 'incentive mechanism to set weights on (set_mechanism_weights; default 0)')
    .option('--semantics <v10|v11>', 'SDK weight pipeline: v10 process_weights_for_netuid (default) or v11 SetWeights (docs/weights.md)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(schema, flags);
      checkWeightLists(o.uids, o.weights);
      const hotkey = await loadHotkey(walletRefOf(o));
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const hp = await chain.getHyperparameters(o.netuid);
        if (hp.commitRevealWeightsEnabled) {
          throw new UserError(`subnet ${o.netuid} has commit-reveal enabled; direct set_weights is rejected by the chain`, { hint: 'use `subnet weights commit` and later `subnet weights reveal`, or run a validator (`subnet validator`), which commits and reveals on schedule' });
        }
        const emit = await weightsForEmit(chain, o.netuid, o.uids, o.weights, { semantics: o.semantics, hotkey: hotkey.ss58Address });
        await explainTooFast(chain, o.netuid, hotkey.ss58Address, () => chain.setWeights(hotkey, o.netuid, emit.uids, emit.values, BigInt(o.versionKey), o.mechid ? { mechid: o.mechid } : undefined));
        out(`set weights on subnet ${o.netuid}${o.mechid ? ` mechanism ${o.mechid}` : ''}: ${emit.uids.map((u, i) => `${u}:${emit.values[i]}`).join(' ')}`);
      });
    });
}

export function registerChainOpsCommands(program: Command): void {
  registerCommand(program);
  faucetCommand(program);
  subnetsCommands(program);
  registerOwnerCommands(program);
  stakeCommands(program);
  metagraphCommand(program);
  weightsChainCommands(program);
}
