import type { Command } from 'commander';
import { z } from 'zod';
import type { Chain } from '../../chain/types.ts';
import { UserError } from '../../errors.ts';
import { fractionsToSplit } from '../../consensus/mechanism-split.ts';
import { loadColdkey } from '../../wallet/index.ts';
import { cliInt } from '../config.ts';
import { chainOptionsSchema, out, requireSubnet, resolveCommandOptions, walletRefOf, withChain, withChainOptions } from './shared.ts';


/** The owner calls a Chain may lack (optional members): a clear line instead of a TypeError. */
function need<K extends 'startCall' | 'setTempo' | 'triggerEpoch' | 'setMechanismCount' | 'setMechanismEmissionSplit'>(chain: Chain, name: K): NonNullable<Chain[K]> {
  const fn = chain[name];
  if (typeof fn !== 'function') throw new UserError(`this chain (${chain.kind}) does not offer ${name}`);
  return fn.bind(chain) as NonNullable<Chain[K]>;
}

/** `0.7,0.3` → u16 shares (consensus/mechanism-split.ts), with a CLI error line. */
export function splitToU16(s: string): number[] {
  try {
    return fractionsToSplit(s.split(',').map((p) => Number(p.trim())));
  } catch (e) {
    throw new UserError(`--split takes comma-separated non-negative numbers (not all zero), got '${s}'`, { cause: e });
  }
}

/** `subnet subnets start|tempo|trigger-epoch|mechanisms|schedule`: the subnet owner's 2026 calls. */
export function registerOwnerCommands(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'subnets') ?? program.command('subnets');
  withChainOptions(group.command('start'))
    .description('owner: start_call — emission to the subnet starts the next block')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        await need(chain, 'startCall')(coldkey, o.netuid);
        const first = chain.getEpochSchedule ? (await chain.getEpochSchedule(o.netuid)).firstEmissionBlock : null;
        out(`subnet ${o.netuid}: start_call done; emission starts ${first === null ? 'with the next block' : `at block ${first}`}`);
      });
    });
  withChainOptions(group.command('tempo'))
    .description('owner: set_tempo (360–50400 blocks, outside the freeze window, once per 360 blocks); restarts the epoch cycle')
    .argument('<blocks>', 'new tempo in blocks')
    .action(async (blocks: string, flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ tempo: cliInt(1, 65535) }), { ...flags, tempo: blocks });
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        await need(chain, 'setTempo')(coldkey, o.netuid, o.tempo);
        out(`subnet ${o.netuid}: tempo ${o.tempo}`);
      });
    });
  withChainOptions(group.command('trigger-epoch'))
    .description('owner: trigger_epoch — an epoch fires after the 10-block freeze window (refused while commit-reveal is on)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        await need(chain, 'triggerEpoch')(coldkey, o.netuid);
        const at = chain.getEpochSchedule ? (await chain.getEpochSchedule(o.netuid)).pendingEpochAt : null;
        out(`subnet ${o.netuid}: epoch triggered${at ? `, fires at block ${at}` : ''}`);
      });
    });
  withChainOptions(group.command('mechanisms'))
    .description('owner: set the number of incentive mechanisms and/or their emission split')
    .option('--count <n>', 'mechanism count (1…MaxMechanismCount; max_allowed_uids × count ≤ 256)')
    .option('--split <list>', "emission shares per mechanism, e.g. 0.7,0.3, or 'even'")
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema.extend({ count: cliInt(0, 255).optional(), split: z.string().min(1).optional() }), flags);
      if (o.count === undefined && o.split === undefined) throw new UserError('nothing to set', { hint: 'pass --count and/or --split' });
      const split = o.split === undefined ? undefined : o.split === 'even' ? null : splitToU16(o.split);
      const coldkey = await loadColdkey(walletRefOf(o), undefined, { prompt: true });
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        if (o.count !== undefined) await need(chain, 'setMechanismCount')(coldkey, o.netuid, o.count);
        if (split !== undefined) await need(chain, 'setMechanismEmissionSplit')(coldkey, o.netuid, split);
        const hp = await chain.getHyperparameters(o.netuid);
        out(`subnet ${o.netuid}: ${hp.mechanismCount ?? 1} mechanism(s), split ${hp.mechanismEmissionSplit?.join(',') ?? 'even'}`);
      });
    });
  withChainOptions(group.command('schedule'), { wallet: false })
    .description('print the epoch schedule: tempo, last and next epoch block, pending trigger, first emission block')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(chainOptionsSchema, flags);
      await withChain(o.chain, async (chain) => {
        await requireSubnet(chain, o.netuid);
        if (!chain.getEpochSchedule) throw new UserError(`this chain (${chain.kind}) does not report its epoch schedule`);
        const s = await chain.getEpochSchedule(o.netuid);
        out(`subnet ${o.netuid}: tempo ${s.tempo}, epoch #${s.epochIndex} at block ${s.lastEpochBlock}, next at block ${s.nextEpochBlock}` +
          `${s.pendingEpochAt ? ` (triggered for ${s.pendingEpochAt})` : ''}; ${s.firstEmissionBlock === null ? 'not started (run `subnet subnets start`)' : `emitting since block ${s.firstEmissionBlock}`}`);
      });
    });
}
