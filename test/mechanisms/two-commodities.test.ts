import { afterEach, describe, expect, it } from 'vitest';
import type { MinerSide } from '../../framework/commodity/define.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { startMechanismValidators } from '../../framework/validator/index.ts';
import { powerCommodity } from '../support/power-commodity.ts';
import { makeNet, silent, waitFor } from '../validator/support.ts';

/**
 * One validator process pricing two commodities on two incentive mechanisms of one subnet, against
 * LocalChain with real axons and dendrites on 127.0.0.1. Miners are good at one commodity and bad at
 * the other (plus one that answers garbage to both): each mechanism's incentive must follow its own
 * commodity, and the emission must split by the configured MechanismEmissionSplit (70 / 30).
 */

type Q = { x: number };
type R = { y?: number | null };

const square = powerCommodity('SquareSynapse', 2, 1000);
const cube = powerCommodity('CubeSynapse', 3, 1000);
/** The cheapest cheat: answer without computing anything. */
const powerMiner = (k: number, honest: boolean): MinerSide<Q, R> => ({ handle: async (q) => ({ y: honest ? q.x ** k : q.x }) });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('two commodities on two mechanisms in one validator process', () => {
  it('per-mechanism incentive follows each commodity, emission splits 70/30', async () => {
    const split = [45_875, 19_660]; // 0.7, 0.3 of 65535
    const net = await makeNet({ miners: 3, tag: 'mech2', hyper: { maxAllowedUids: 128, mechanismCount: 2, mechanismEmissionSplit: split, tempo: 30 } });
    cleanups.push(() => net.chain.close());
    // miner 0: square yes, cube no; miner 1: square no, cube yes; miner 2: garbage to both
    const skills: Array<[boolean, boolean]> = [[true, false], [false, true], [false, false]];
    const uids: number[] = [];
    for (let i = 0; i < skills.length; i++) {
      const [sq, cu] = skills[i]!;
      const m = await startMiner({
        chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i]!, commodity: square, miner: powerMiner(2, sq) as never,
        axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
      });
      // the same axon serves the second commodity under its own synapse name
      m.axon.attach(cube.synapse, (req) => powerMiner(3, cu).handle(req as Q, undefined as never) as never);
      cleanups.push(() => m.stop());
      uids.push(m.uid);
    }
    await net.chain.produceBlocks(1);
    const v = await startMechanismValidators({
      chain: net.chain, netuid: net.netuid, hotkey: net.validator, statePath: net.dir, mechanisms: { 0: square, 1: cube },
      options: { roundIntervalMs: 80, alpha: 0.5, logger: silent, resyncEveryBlocks: 2 },
    });
    cleanups.push(() => v.stop());
    const stopDrive = net.drive(40);
    cleanups.push(stopDrive);
    const vuid = v.mechanisms.get(0)!.state.uid!;
    // weights from this validator on both mechanisms, each from its own commodity's scores
    await waitFor('weights on both mechanisms', async () => {
      const [w0, w1] = await Promise.all([net.chain.getWeights(net.netuid, vuid), net.chain.getWeights(net.netuid, vuid, { mechid: 1 })]);
      const at = (row: Array<[number, number]>, u: number) => row.find(([j]) => j === u)?.[1] ?? 0;
      return at(w0, uids[0]!) === 65535 && at(w1, uids[1]!) === 65535;
    }, 30_000);
    stopDrive();
    // a full epoch with both weight sets in place, measured around it
    const s0 = await net.chain.getEpochSchedule(net.netuid);
    const head = (await net.chain.getBlock()).number;
    await net.chain.produceBlocks(Math.max(0, s0.nextEpochBlock - head - 1));
    const stakeBefore = await Promise.all(net.minerHotkeys.map((h) => net.chain.getStake(net.netuid, h.ss58Address, net.minerColdkey.ss58Address)));
    const pending = (await net.chain.getPendingEmission(net.netuid)) + ((1_000_000_000n * (65_535n - 11_796n)) / 65_535n);
    await net.chain.produceBlocks(1); // the epoch block
    expect((await net.chain.getEpochSchedule(net.netuid)).lastEpochBlock).toBe(s0.nextEpochBlock);
    const [m0, m1] = await Promise.all([net.chain.getMetagraph(net.netuid), net.chain.getMetagraph(net.netuid, { mechid: 1 })]);
    const stakeAfter = await Promise.all(net.minerHotkeys.map((h) => net.chain.getStake(net.netuid, h.ss58Address, net.minerColdkey.ss58Address)));
    const gain = stakeAfter.map((a, i) => a - stakeBefore[i]!);
    const scores0 = v.mechanisms.get(0)!.state.scores();
    const scores1 = v.mechanisms.get(1)!.state.scores();
    const rows = uids.map((uid, i) => ({
      uid,
      miner: ['square-only', 'cube-only', 'garbage'][i],
      score_square: Number((scores0[net.minerHotkeys[i]!.ss58Address] ?? 0).toFixed(3)),
      score_cube: Number((scores1[net.minerHotkeys[i]!.ss58Address] ?? 0).toFixed(3)),
      incentive_mech0: m0.incentive[uid]! / 65535,
      incentive_mech1: m1.incentive[uid]! / 65535,
      epoch_payout_rao: gain[i]!.toString(),
    }));
    console.table(rows);
    // mechanism 0 pays the square miner only, mechanism 1 the cube miner only; the cheat earns nothing
    expect(m0.incentive[uids[0]!]).toBe(65535);
    expect(m0.incentive[uids[1]!]).toBe(0);
    expect(m1.incentive[uids[1]!]).toBe(65535);
    expect(m1.incentive[uids[0]!]).toBe(0);
    expect(m0.incentive[uids[2]!] + m1.incentive[uids[2]!]).toBe(0);
    expect(gain[2]).toBe(0n);
    // miners' half of each mechanism's share: split_emissions → floor(E·s/65535), remainder to mechanism 0
    const share1 = (pending * BigInt(split[1]!)) / 65_535n;
    const share0 = pending - share1;
    const ratio = Number(gain[0]!) / Number(gain[0]! + gain[1]!);
    console.log(`epoch emission ${pending} RAO → mechanism shares ${share0} / ${share1}; miner payouts ${gain[0]} / ${gain[1]} (square share ${ratio.toFixed(5)})`);
    expect(ratio).toBeCloseTo(split[0]! / 65535, 4);
    expect(Number(gain[0]!)).toBeCloseTo(Number(share0) / 2, -3);
    expect(Number(gain[1]!)).toBeCloseTo(Number(share1) / 2, -3);
    // each mechanism counts its own weight submissions (the count lands after the state write)
    const metrics = await waitFor('weight-set metrics of both mechanisms', async () => {
      const text = await v.metrics.metrics();
      return /weight_sets_total\{result="set",mechid="0"\} [1-9]/.test(text) && /weight_sets_total\{result="set",mechid="1"\} [1-9]/.test(text) ? text : null;
    });
    expect(metrics).toMatch(/subnet_validator_rounds_total\{result="ok",mechid="1"\} [1-9]/);
  }, 90_000);
});
