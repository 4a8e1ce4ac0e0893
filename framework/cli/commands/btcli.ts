import type { Command } from 'commander';
import { z } from 'zod';
import { listNetuids } from '../../chain/index.ts';
import type { Chain, Metagraph } from '../../chain/types.ts';
import { commitHashV2, generateSalt, netuidStorageIndex } from '../../consensus/weights/index.ts';
import { UserError } from '../../errors.ts';
import { listWallets, loadColdkey, loadColdkeyPub, loadHotkey } from '../../wallet/index.ts';
import { renderTable } from '../../util/table.ts';
import { cliInt, cliTao, formatTao } from '../config.ts';
import { chainOptionsSchema, checkWeightLists, explainTooFast, json, out, requireBalance, requireSs58, requireSubnet, resolveCommandOptions, shortKey, walletRefOf, weightsForEmit, withChain, withChainOptions } from './shared.ts';

/** The btcli commands people reach for first, on any chain the framework connects to. */

const group = (program: Command, name: string, description: string) => program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);

/** Hotkeys of the wallet (from its files) as [name, ss58]. */
async function walletHotkeys(walletPath: string, name: string): Promise<Array<[string, string]>> {
  const wallet = (await listWallets(walletPath)).find((w) => w.name === name);
  return (wallet?.hotkeys ?? []).filter((h): h is { name: string; ss58: string } => h.ss58 !== undefined).map((h) => [h.name, h.ss58]);
}

interface StakeRow { netuid: number; hotkeyName: string; hotkey: string; uid: number | null; stake: bigint }

/** Stake of `coldkey` on each of the wallet's hotkeys on every subnet (reads: hotkeys × subnets). */
async function stakesOf(chain: Chain, coldkey: string, hotkeys: Array<[string, string]>): Promise<StakeRow[]> {
  if (!chain.getStake) throw new UserError('this chain adapter cannot read stake per coldkey yet', { hint: 'see the free balance with `subnet wallet balance`, and stake per hotkey with `subnet metagraph`' });
  const rows: StakeRow[] = [];
  for (const netuid of await listNetuids(chain)) {
    for (const [hotkeyName, hotkey] of hotkeys) {
      const stake = await chain.getStake(netuid, hotkey, coldkey);
      if (stake > 0n) rows.push({ netuid, hotkeyName, hotkey, uid: await chain.getUid(netuid, hotkey), stake });
    }
  }
  return rows;
}

function walletCommands(program: Command): void {
  const wallet = group(program, 'wallet', 'wallets');
  withChainOptions(wallet.command('balance'))
    .description("the coldkey's free balance and what it has staked (btcli wallet balance)")
    .option('--json', 'machine-readable output (RAO and TAO)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      const ref = walletRefOf(o);
      const coldkey = await loadColdkeyPub(ref);
      await withChain(o.chain, async (chain) => {
        const free = await chain.getBalance(coldkey);
        // Adapters without a per-coldkey stake read (the subtensor one, for now) show the free balance only.
        const staked = chain.getStake ? (await stakesOf(chain, coldkey, await walletHotkeys(ref.path, ref.name))).reduce((a, r) => a + r.stake, 0n) : null;
        if (o.json) {
          return json({ wallet: ref.name, coldkey, free: free.toString(), freeRao: free, freeTao: Number(formatTao(free)), stakedRao: staked, stakedTao: staked === null ? null : Number(formatTao(staked)) });
        }
        const tao = (v: bigint | null) => (v === null ? 'n/a' : formatTao(v));
        out(renderTable([{ name: ref.name, coldkey, free, staked }], [
          { header: 'wallet', value: (r) => r.name, align: 'left' },
          { header: 'coldkey', value: (r) => r.coldkey, align: 'left' },
          { header: 'free τ', value: (r) => formatTao(r.free) },
          { header: 'staked τ', value: (r) => tao(r.staked) },
          { header: 'total τ', value: (r) => tao(r.staked === null ? null : r.free + r.staked) },
        ]));
      });
    });

  withChainOptions(wallet.command('overview'))
    .description("the wallet's hotkeys on every subnet: uid, stake, permit, incentive, dividends, emission, axon (btcli wallet overview)")
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const ref = walletRefOf(o);
      const coldkey = await loadColdkeyPub(ref);
      const hotkeys = await walletHotkeys(ref.path, ref.name);
      await withChain(o.chain, async (chain) => {
        out(`wallet ${ref.name} · coldkey ${coldkey} · free ${formatTao(await chain.getBalance(coldkey))} TAO · ${hotkeys.length} hotkey(s)`);
        const rows: Array<{ netuid: number; name: string; hotkey: string; uid: number; m: Metagraph }> = [];
        for (const netuid of await listNetuids(chain)) {
          const m = await chain.getMetagraph(netuid);
          for (const [name, hotkey] of hotkeys) {
            const uid = m.hotkeys.indexOf(hotkey);
            if (uid >= 0) rows.push({ netuid, name, hotkey, uid, m });
          }
        }
        if (rows.length === 0) return out('none of its hotkeys is registered on any subnet (register one with `subnet register`)');
        out(renderTable(rows, [
          { header: 'netuid', value: (r) => r.netuid },
          { header: 'hotkey', value: (r) => `${r.name} ${shortKey(r.hotkey)}`, align: 'left' },
          { header: 'uid', value: (r) => r.uid },
          { header: 'stake τ', value: (r) => Number(formatTao(r.m.stake[r.uid]!)).toFixed(3) },
          { header: 'vpermit', value: (r) => (r.m.validatorPermit[r.uid] ? 'yes' : '') },
          { header: 'incentive', value: (r) => (r.m.incentive[r.uid]! / 65535).toFixed(4) },
          { header: 'dividends', value: (r) => (r.m.dividends[r.uid]! / 65535).toFixed(4) },
          { header: 'emission τ', value: (r) => Number(formatTao(r.m.emission[r.uid]!)).toFixed(4) },
          { header: 'updated', value: (r) => (r.m.lastUpdate[r.uid] ? `${r.m.block - r.m.lastUpdate[r.uid]!} blocks ago` : 'never') },
          { header: 'axon', value: (r) => (r.m.axons[r.uid] ? `${r.m.axons[r.uid]!.ip}:${r.m.axons[r.uid]!.port}` : ''), align: 'left' },
        ]));
      });
    });

  withChainOptions(wallet.command('transfer'))
    .description('send TAO from the coldkey to another address (Balances.transfer_keep_alive)')
    .requiredOption('--dest <ss58>', 'destination address')
    .requiredOption('--amount <tao>', 'amount in TAO, e.g. 10 or 0.5')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ dest: z.string().min(1), amount: cliTao }), flags);
      const dest = requireSs58(o.dest, '--dest');
      if (o.amount === 0n) throw new UserError('--amount must be more than 0 TAO');
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        if (!chain.transfer) throw new UserError('this chain adapter cannot transfer yet');
        await requireBalance(chain, coldkey.ss58Address, o.amount, `transfer ${formatTao(o.amount)} TAO`);
        await chain.transfer(coldkey, dest, o.amount);
        out(`sent ${formatTao(o.amount)} TAO to ${dest}; balance ${formatTao(await chain.getBalance(coldkey.ss58Address))} TAO`);
      });
    });
}

function stakeList(program: Command): void {
  withChainOptions(group(program, 'stake', 'stake').command('list'))
    .description("what the coldkey has staked, per subnet and hotkey of the wallet (btcli stake list)")
    .option('--json', 'machine-readable output (RAO and TAO)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      const ref = walletRefOf(o);
      const coldkey = await loadColdkeyPub(ref);
      await withChain(o.chain, async (chain) => {
        const rows = await stakesOf(chain, coldkey, await walletHotkeys(ref.path, ref.name));
        if (o.json) return json(rows.map((r) => ({ ...r, stakeRao: r.stake, stakeTao: Number(formatTao(r.stake)), stake: undefined })));
        if (rows.length === 0) return out(`coldkey ${coldkey} has nothing staked on the wallet's hotkeys (stake with \`subnet stake add\`)`);
        out(renderTable(rows, [
          { header: 'netuid', value: (r) => r.netuid },
          { header: 'hotkey', value: (r) => `${r.hotkeyName} ${shortKey(r.hotkey)}`, align: 'left' },
          { header: 'uid', value: (r) => (r.uid === null ? '—' : r.uid) },
          { header: 'stake τ', value: (r) => formatTao(r.stake) },
        ]));
        out(`total ${formatTao(rows.reduce((a, r) => a + r.stake, 0n))} TAO`);
      });
    });
}

function subnetsList(program: Command): void {
  withChainOptions(group(program, 'subnets', 'subnets').command('list'), { wallet: false })
    .description('every subnet on the chain: neurons, tempo, burn, emission, owner (btcli subnets list)')
    .option('--json', 'machine-readable output')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ json: z.boolean().optional() }), flags);
      await withChain(o.chain, async (chain) => {
        const rows = [];
        for (const netuid of await listNetuids(chain)) {
          const [m, hp] = await Promise.all([chain.getMetagraph(netuid), chain.getHyperparameters(netuid)]);
          rows.push({ netuid, n: m.n, maxUids: hp.maxAllowedUids, tempo: hp.tempo, burnRao: hp.burn, emissionRao: m.emission.reduce((a, b) => a + b, 0n), ownerHotkey: m.ownerHotkey });
        }
        if (o.json) return json(rows);
        if (rows.length === 0) return out('no subnets yet (create one with `subnet subnets create`)');
        out(renderTable(rows, [
          { header: 'netuid', value: (r) => r.netuid },
          { header: 'neurons', value: (r) => `${r.n}/${r.maxUids}` },
          { header: 'tempo', value: (r) => r.tempo },
          { header: 'burn τ', value: (r) => formatTao(r.burnRao) },
          { header: 'emission τ', value: (r) => Number(formatTao(r.emissionRao)).toFixed(4) },
          { header: 'owner hotkey', value: (r) => r.ownerHotkey ?? '', align: 'left' },
        ]));
        out(rows.length === 1 ? '1 subnet' : `${rows.length} subnets`);
      });
    });
}

const u16List = (what: string) =>
  z.string().transform((s, ctx) => {
    const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
    const nums = parts.map(Number);
    if (parts.length === 0 || nums.some((x) => !Number.isInteger(x) || x < 0 || x > 65535)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected comma-separated ${what} (integers 0..65535), got '${s}'` });
      return z.NEVER;
    }
    return nums;
  });

function weightsCommitReveal(program: Command): void {
  const weights = group(program, 'weights', 'weights');
  const floats = z.string().transform((s, ctx) => {
    const nums = s.split(',').map((p) => Number(p.trim()));
    if (nums.some((x) => !Number.isFinite(x) || x < 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a comma-separated list of non-negative numbers, got '${s}'` });
      return z.NEVER;
    }
    return nums;
  });
  withChainOptions(weights.command('commit'))
    .description('commit-reveal v2: process weights like the SDK, commit their hash, and print what the reveal needs')
    .requiredOption('--uids <list>', 'comma-separated uids, e.g. 1,2,3')
    .requiredOption('--weights <list>', 'comma-separated non-negative weights, e.g. 0.2,0.3,0.5')
    .option('--salt <list>', 'comma-separated u16 salt (default: 8 random values)')
    .option('--version-key <n>', 'weights version key (default 0)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ uids: u16List('uids'), weights: floats, salt: u16List('salt values').optional(), versionKey: cliInt().default(0) }), flags);
      checkWeightLists(o.uids, o.weights);
      const hotkey = await loadHotkey(walletRefOf(o));
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        const hp = await chain.getHyperparameters(o.netuid);
        if (!hp.commitRevealWeightsEnabled) throw new UserError(`subnet ${o.netuid} has commit-reveal off; the chain takes weights directly`, { hint: 'use `subnet weights set`' });
        const emit = await weightsForEmit(chain, o.netuid, o.uids, o.weights);
        const salt = o.salt ?? generateSalt();
        const versionKey = BigInt(o.versionKey);
        const hash = commitHashV2({ hotkey: hotkey.ss58Address, netuidIndex: netuidStorageIndex(o.netuid), uids: emit.uids, values: emit.values, salt, versionKey });
        await chain.commitWeights(hotkey, o.netuid, hash);
        out(`committed ${hash} on subnet ${o.netuid}`);
        out(`reveal after ${hp.revealPeriodEpochs} epoch(s) with:`);
        out(`  subnet weights reveal --netuid ${o.netuid} --uids ${emit.uids.join(',')} --values ${emit.values.join(',')} --salt ${salt.join(',')}${versionKey ? ` --version-key ${versionKey}` : ''}`);
      });
    });
  withChainOptions(weights.command('reveal'))
    .description('commit-reveal v2: reveal weights committed with `weights commit` (exactly the printed values and salt)')
    .requiredOption('--uids <list>', 'comma-separated uids, as printed by `weights commit`')
    .requiredOption('--values <list>', 'comma-separated u16 values, as printed by `weights commit`')
    .requiredOption('--salt <list>', 'comma-separated u16 salt, as printed by `weights commit`')
    .option('--version-key <n>', 'weights version key (default 0)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ uids: u16List('uids'), values: u16List('values'), salt: u16List('salt values'), versionKey: cliInt().default(0) }), flags);
      if (o.uids.length !== o.values.length) throw new UserError(`--uids has ${o.uids.length} entries but --values has ${o.values.length}`, { hint: 'paste the command `weights commit` printed' });
      const hotkey = await loadHotkey(walletRefOf(o));
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        await explainTooFast(chain, o.netuid, hotkey.ss58Address, () => chain.revealWeights(hotkey, o.netuid, o.uids, o.values, o.salt, BigInt(o.versionKey)));
        out(`revealed weights on subnet ${o.netuid}: ${o.uids.map((u, i) => `${u}:${o.values[i]}`).join(' ')}`);
      });
    });
}

export function registerBtcliCommands(program: Command): void {
  walletCommands(program);
  stakeList(program);
  subnetsList(program);
  weightsCommitReveal(program);
}

