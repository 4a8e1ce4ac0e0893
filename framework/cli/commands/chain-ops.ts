import { Command } from 'commander';
import { z } from 'zod';
import { RAO_PER_TAO } from '../../chain/index.ts';
import { isDevChain, type Metagraph, type SubnetHyperparameters } from '../../chain/types.ts';
import { convertWeightsAndUidsForEmit, processWeightsForNetuid } from '../../consensus/weights/index.ts';
import { UserError } from '../../errors.ts';
import { loadColdkey, loadColdkeyPub, loadHotkey, loadHotkeyPub } from '../../wallet/index.ts';
import { cliInt, cliTao, formatTao } from '../config.ts';
import { renderTable, u16Fraction } from '../table.ts';
import { chainOptionsSchema, requireSubnet, resolveCommandOptions, shortKey, walletRefOf, withChain, withChainOptions } from './shared.ts';

const out = (s: string) => process.stdout.write(`${s}\n`);
const json = (v: unknown) => out(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2));

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
  const out: Record<string, number | bigint | boolean> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z0-9]+)=(.+)$/.exec(pair);
    if (!m) throw new UserError(`expected key=value, got '${pair}'`, { hint: 'e.g. tempo=20' });
    const [, key, raw] = m as unknown as [string, string, string];
    if (!(key in current)) throw new UserError(`unknown hyperparameter '${key}'`, { hint: `known: ${Object.keys(current).join(', ')}` });
    const was = current[key as keyof SubnetHyperparameters];
    if (typeof was === 'boolean') {
      if (!/^(true|false|on|off)$/.test(raw)) throw new UserError(`${key} takes true or false, got '${raw}'`);
      out[key] = raw === 'true' || raw === 'on';
    } else if (typeof was === 'bigint') {
      if (!/^\d+$/.test(raw)) throw new UserError(`${key} takes a non-negative integer, got '${raw}'`);
      out[key] = BigInt(raw);
    } else {
      if (!/^-?\d+$/.test(raw)) throw new UserError(`${key} takes an integer, got '${raw}'`);
      out[key] = Number(raw);
    }
  }
  return out as Partial<SubnetHyperparameters>;
}

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
        out(`created subnet ${netuid} (owner coldkey ${coldkey.ss58Address}, owner hotkey ${ownerHotkey})`);
      });
    });
  withChainOptions(group.command('set'))
    .description('owner only, dev chains: set hyperparameters, e.g. `subnets set tempo=20 commitRevealWeightsEnabled=false`')
    .argument('<key=value...>', 'hyperparameters by their subtensor names in camelCase (see `subnets show`)')
    .action(async (pairs: string[], flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        if (!isDevChain(chain)) throw new UserError('setting hyperparameters directly is only possible on a dev chain');
        await requireSubnet(chain, o.netuid);
        const params = parseHyperparameterPairs(pairs, await chain.getHyperparameters(o.netuid));
        await chain.setHyperparameters(coldkey, o.netuid, params);
        out(`subnet ${o.netuid}: ${Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
      });
    });
  withChainOptions(group.command('show'), { wallet: false })
    .description('print the subnet hyperparameters (subtensor names)')
    .option('--json', 'machine-readable output')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const hp = await chain.getHyperparameters(o.netuid);
        if (o.json) return json(hp);
        out(renderTable(Object.entries(hp), [
          { header: 'hyperparameter', value: ([k]) => k, align: 'left' },
          { header: 'value', value: ([, v]) => String(v), align: 'left' },
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
      .option('--hotkey-address <ss58>', "hotkey to stake to (default: the wallet's hotkey)")
      .action(async (flags: Record<string, unknown>) => {
        const o = resolveCommandOptions(schema, flags);
        const ref = walletRefOf(o);
        const hotkey = o.hotkeyAddress ?? (await loadHotkeyPub(ref));
        const coldkey = await loadColdkey(ref, undefined, { prompt: true });
        await withChain(o.chain, async (chain) => {
          await requireSubnet(chain, o.netuid);
          if (action === 'add') await chain.addStake(coldkey, hotkey, o.netuid, o.amount);
          else await chain.removeStake(coldkey, hotkey, o.netuid, o.amount);
          out(`${action === 'add' ? 'staked' : 'unstaked'} ${formatTao(o.amount)} TAO ${action === 'add' ? 'to' : 'from'} ${hotkey} on subnet ${o.netuid}; coldkey balance ${formatTao(await chain.getBalance(coldkey.ss58Address))} TAO`);
        });
      });
  }
}

export function metagraphRows(m: Metagraph) {
  return m.hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey,
    coldkey: m.coldkeys[uid]!,
    stake: m.stake[uid]!,
    validatorPermit: m.validatorPermit[uid]!,
    active: m.active[uid]!,
    incentive: m.incentive[uid]!,
    dividends: m.dividends[uid]!,
    consensus: m.consensus[uid]!,
    validatorTrust: m.validatorTrust[uid]!,
    emission: m.emission[uid]!,
    lastUpdate: m.lastUpdate[uid]!,
    axon: m.axons[uid] ? `${m.axons[uid]!.ip}:${m.axons[uid]!.port}` : '',
  }));
}

/** `subnet metagraph`: a readable table of a subnet's neurons. */
function metagraphCommand(program: Command): void {
  withChainOptions(program.command('metagraph'), { wallet: false })
    .description("print a subnet's neurons: stake, permits, incentive, dividends, emission, axons")
    .option('--json', 'machine-readable output')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const m = await chain.getMetagraph(o.netuid);
        const rows = metagraphRows(m);
        if (o.json) return json({ netuid: m.netuid, block: m.block, n: m.n, neurons: rows });
        out(`subnet ${m.netuid} at block ${m.block}: ${m.n} neurons`);
        out(renderTable(rows, [
          { header: 'uid', value: (r) => r.uid },
          { header: 'hotkey', value: (r) => shortKey(r.hotkey), align: 'left' },
          { header: 'stake τ', value: (r) => Number(formatTao(r.stake)).toFixed(3) },
          { header: 'vpermit', value: (r) => (r.validatorPermit ? 'yes' : '') },
          { header: 'active', value: (r) => (r.active ? 'yes' : '') },
          { header: 'incentive', value: (r) => u16Fraction(r.incentive) },
          { header: 'dividends', value: (r) => u16Fraction(r.dividends) },
          { header: 'consensus', value: (r) => u16Fraction(r.consensus) },
          { header: 'vtrust', value: (r) => u16Fraction(r.validatorTrust) },
          { header: 'emission τ', value: (r) => (Number(r.emission) / Number(RAO_PER_TAO)).toFixed(4) },
          { header: 'updated', value: (r) => r.lastUpdate },
          { header: 'axon', value: (r) => r.axon, align: 'left' },
        ]));
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
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ uid: cliInt(0, 65535) }), flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const row = await chain.getWeights(o.netuid, o.uid);
        if (row.length === 0) return out(`uid ${o.uid} has no weights on subnet ${o.netuid}`);
        const total = row.reduce((s, [, v]) => s + v, 0);
        out(renderTable(row, [
          { header: 'to uid', value: ([u]) => u },
          { header: 'u16', value: ([, v]) => v },
          { header: 'share', value: ([, v]) => (v / total).toFixed(4) },
        ]));
      });
    });
  const schema = chainOptionsSchema.extend({ uids: z.string().transform((s) => s.split(',').map((x) => Number(x.trim()))).pipe(z.array(z.number().int().min(0).max(65535))), weights: floatList, versionKey: cliInt().default(0) });
  withChainOptions(group.command('set'))
    .description('process weights like the Python SDK (min allowed, max limit) and set them from the hotkey')
    .requiredOption('--uids <list>', 'comma-separated uids, e.g. 1,2,3')
    .requiredOption('--weights <list>', 'comma-separated non-negative weights, e.g. 0.2,0.3,0.5')
    .option('--version-key <n>', 'weights version key (default 0)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(schema, flags);
      if (o.uids.length !== o.weights.length) throw new UserError(`--uids has ${o.uids.length} entries but --weights has ${o.weights.length}`);
      const hotkey = await loadHotkey(walletRefOf(o));
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const [hp, m] = await Promise.all([chain.getHyperparameters(o.netuid), chain.getMetagraph(o.netuid)]);
        const processed = processWeightsForNetuid(o.uids, o.weights, { minAllowedWeights: hp.minAllowedWeights, maxWeightsLimit: hp.maxWeightsLimit, n: m.n });
        const emit = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
        if (hp.commitRevealWeightsEnabled) {
          throw new UserError(`subnet ${o.netuid} has commit-reveal enabled; direct set_weights is rejected by the chain`, { hint: 'run a validator (`subnet validator`), which commits and reveals on schedule' });
        }
        await chain.setWeights(hotkey, o.netuid, emit.uids, emit.values, BigInt(o.versionKey));
        out(`set weights on subnet ${o.netuid}: ${emit.uids.map((u, i) => `${u}:${emit.values[i]}`).join(' ')}`);
      });
    });
}

export function registerChainOpsCommands(program: Command): void {
  registerCommand(program);
  faucetCommand(program);
  subnetsCommands(program);
  stakeCommands(program);
  metagraphCommand(program);
  weightsChainCommands(program);
}
