/**
 * SubtensorChain against the spec 218 dev runtime (early 2025, dTAO call shapes) in chopsticks. Its
 * epoch is a stub (`epoch_mock`), so only call shapes and read-back are asserted here, never Yuma output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredArgs, SubtensorChain, type CallSource } from '../../../framework/chain/subtensor/index.ts';
import { commitHashV2 } from '../../../framework/consensus/weights/commit-reveal.ts';
import { chopsticksGate, startChopsticks, type Chopsticks } from '../../support/chopsticks.ts';
import { advanceTo, cast, inBlock, nextEpochBlock, TAO, relaxDevLimits } from './scenario.ts';

const skip = chopsticksGate(218);
const c = cast();
let cs: Chopsticks;
let chain: SubtensorChain;
let netuid = -1;
let uids: number[] = [];
const TEMPO = 5;

describe.skipIf(skip !== null)('SubtensorChain on spec 218 (chopsticks)', () => {
  beforeAll(async () => {
    cs = await startChopsticks(218);
    process.stdout.write(`chopsticks spec 218 ready in ${cs.startupMs} ms\n`);
    chain = await SubtensorChain.connect(cs.url, { sudo: c.alice, heartbeatMs: 0 });
  }, 400_000);
  afterAll(async () => {
    await chain?.close();
    await cs?.stop();
  });

  it('sees the dTAO call shapes in the metadata', () => {
    expect(chain.specVersion).toBe(218);
    const src = chain.api.tx as unknown as CallSource<unknown>;
    expect(declaredArgs(src, 'subtensor_module', 'add_stake')?.map((a) => a.name)).toEqual(['hotkey', 'netuid', 'amount_staked']);
    expect(declaredArgs(src, 'subtensor_module', 'register_network')?.map((a) => a.name)).toEqual(['hotkey', 'mechid']);
  });

  it('subnet, 8 neurons, netuid-scoped stake, axons (218 AxonInfo field order), weights, commit + reveal', async () => {
    await relaxDevLimits(chain, cs);
    process.stdout.write('218: sudo batch done\n');
    [netuid] = await inBlock(cs, [() => chain.registerNetwork(c.alice, c.hot[0].ss58Address)]);
    expect(netuid).toBeGreaterThan(0);
    // a new subnet on this dev runtime starts with a 1-rao pool (SubnetTAO = SubnetAlphaIn = 1) and no
    // TAO injection, so every stake would buy ~0 alpha: give the pool depth at price 1, as a live
    // subnet has, before staking
    await cs.setStorage({ SubtensorModule: { SubnetTAO: [[[netuid], '1000000000000000']], SubnetAlphaIn: [[[netuid], '1000000000000000']] } });
    await inBlock<unknown>(cs, [
      () => chain.setHyperparameters(c.alice, netuid, { tempo: TEMPO, weightsSetRateLimit: 0, minAllowedWeights: 1, commitRevealWeightsEnabled: false }),
      () =>
        chain.sudoBatch([
          ['admin_utils', 'sudo_set_max_registrations_per_block', { netuid, max_registrations_per_block: 16 }],
          ['admin_utils', 'sudo_set_target_registrations_per_interval', { netuid, target_registrations_per_interval: 16 }],
        ]),
    ]);
    process.stdout.write(`218: netuid ${netuid}, hyperparameters set\n`);
    const hp = await chain.getHyperparameters(netuid);
    expect(hp.tempo).toBe(TEMPO);
    expect(hp.commitRevealWeightsEnabled).toBe(false);
    // the owner hotkey of register_network(hotkey, mechid) took uid 0; 7 more neurons
    uids = await inBlock(cs, c.hot.slice(1).map((h, i) => () => chain.burnedRegister(i < 1 ? c.valCold : c.minerCold, netuid, h.ss58Address)));
    uids.unshift((await chain.getUid(netuid, c.hot[0].ss58Address)) as number);
    expect([...uids].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    process.stdout.write('218: registered\n');
    await inBlock<unknown>(cs, [
      () => chain.addStake(c.alice, c.hot[0].ss58Address, netuid, 200n * TAO),
      () => chain.addStake(c.valCold, c.hot[1].ss58Address, netuid, 100n * TAO),
      ...c.hot.slice(2).map((h, i) => () => chain.serveAxon(h, netuid, { version: 2, ip: `192.0.2.${20 + i}`, port: 9000 + i, ipType: 4, protocol: 4 })),
    ]);
    // the adapter's transactions are mortal (64 blocks, anchored at the finalized head) on 218 too
    const blk = await chain.api.rpc.chain.getBlock();
    const signed = blk.block.extrinsics.filter((x) => x.isSigned);
    expect(signed.length).toBe(8);
    expect(signed.every((x) => x.era.isMortalEra && x.era.asMortalEra.period.toNumber() === 64)).toBe(true);
    const mg = await chain.getMetagraph(netuid);
    expect(mg.n).toBe(8);{ const q = chain.api.query.subtensorModule as any; const keys = Object.keys(q).filter((k) => /alpha|stake|subnetTao|subnetMechanism|firstEmission/i.test(k)); process.stdout.write(`stake ${mg.stake} keys ${keys}\n`);
      for (const k of ['totalHotkeyAlpha','subnetTAO','subnetAlphaIn','subnetAlphaOut','subnetMechanism','totalStake']) { const f = q[k]; if (!f) continue; const v = f.meta.type.isMap ? await f(...(k==='totalHotkeyAlpha' ? [c.hot[1].ss58Address, netuid] : [netuid])) : await f(); process.stdout.write(`${k}=${v.toString()}\n`); } }
    expect(mg.ownerHotkey).toBe(c.hot[0].ss58Address);
    expect(mg.stake[uids[0]]).toBeGreaterThan(mg.stake[uids[1]]);
    expect(mg.stake[uids[1]]).toBeGreaterThan(0n);
    expect(mg.axons[uids[3]]).toMatchObject({ ip: '192.0.2.21', port: 9001, version: 2, ipType: 4 });

    // the stub epoch hands every neuron a permit, then weights from the two validators
    await advanceTo(chain, cs, nextEpochBlock((await chain.getBlock()).number, netuid, TEMPO));
    const miners = uids.slice(2);
    const w = miners.map((_, i) => (i + 1) * 1000);
    await inBlock(cs, [() => chain.setWeights(c.hot[0], netuid, miners, w, 0n), () => chain.setWeights(c.hot[1], netuid, miners, w, 0n)]);
    const row = await chain.getWeights(netuid, uids[1]);
    expect(row.map(([u]) => u).sort()).toEqual([...miners].sort());
    await advanceTo(chain, cs, nextEpochBlock((await chain.getBlock()).number, netuid, TEMPO) + 1);
    const after = await chain.getMetagraph(netuid);
    process.stdout.write(`spec 218 after an epoch (stub): incentive ${JSON.stringify(after.incentive)} permits ${JSON.stringify(after.validatorPermit)}\n`);
    expect(after.validatorPermit.every(Boolean)).toBe(true);

    // commit-reveal v2: period in epochs on 218 (RevealTooEarly), reveal in the next epoch
    await inBlock(cs, [() => chain.setHyperparameters(c.alice, netuid, { commitRevealWeightsEnabled: true })]);
    await expect(inBlock(cs, [() => chain.setWeights(c.hot[0], netuid, miners, w, 0n)])).rejects.toMatchObject({ code: 'CommitRevealEnabled' });
    const salt = [9, 8, 7, 6, 5, 4, 3, 2];
    const hash = commitHashV2({ hotkey: c.hot[0].ss58Address, netuidIndex: netuid, uids: [miners[0]], values: [65_535], salt, versionKey: 0n });
    // commit right after an epoch boundary so that the next block is provably in the same epoch
    await advanceTo(chain, cs, nextEpochBlock((await chain.getBlock()).number, netuid, TEMPO));
    await inBlock(cs, [() => chain.commitWeights(c.hot[0], netuid, hash)]);
    const commits = await chain.getWeightCommits(netuid, c.hot[0].ss58Address);
    expect(commits[0]?.hash).toBe(hash);
    await expect(inBlock(cs, [() => chain.revealWeights(c.hot[0], netuid, [miners[0]], [65_535], salt, 0n)])).rejects.toMatchObject({ code: 'RevealTooEarly' });
    await advanceTo(chain, cs, nextEpochBlock((await chain.getBlock()).number, netuid, TEMPO) - 1);
    await inBlock(cs, [() => chain.revealWeights(c.hot[0], netuid, [miners[0]], [65_535], salt, 0n)]);
    expect(await chain.getWeights(netuid, uids[0])).toEqual([[miners[0], 65_535]]);
    await inBlock(cs, [() => chain.removeStake(c.valCold, c.hot[1].ss58Address, netuid, 10n * TAO)]);
  }, 400_000);
});
