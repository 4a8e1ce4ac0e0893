import { describe, expect, it } from 'vitest';
import { keys, subnetFixture } from './helpers.ts';
import { RAO_PER_TAO, SUBNET_OWNER_CUT_U16 } from '../../framework/chain/hyperparams.ts';

const TEMPO = 10;

async function twoMinerSubnet() {
  const f = await subnetFixture({ tempo: TEMPO, commitRevealWeightsEnabled: false, weightsSetRateLimit: 0 });
  const bob = await keys('//Bob');
  const m1 = await keys('//Bob//m1');
  const m2 = await keys('//Bob//m2');
  await f.chain.burnedRegister(bob, f.netuid, m1.ss58Address);
  await f.chain.burnedRegister(bob, f.netuid, m2.ss58Address);
  await f.chain.produceBlocks(1);
  // the owner hotkey is the only validator (owner uid is forced to hold a permit)
  await f.chain.setWeights(f.ownerHot, f.netuid, [1, 2], [65535, 21845], 0n);
  return { ...f, bob, m1, m2 };
}

describe('emission and epoch', () => {
  it('runs an epoch every tempo and distributes pending emission: incentive follows the weights', async () => {
    const { chain, netuid, bob, m1, m2 } = await twoMinerSubnet();
    expect(await chain.getEpochIndex(netuid)).toBe(0);
    await chain.produceBlocks(TEMPO - 2); // block 9: nothing distributed yet
    const pending = await chain.getPendingEmission(netuid);
    const perBlockPending = RAO_PER_TAO - (RAO_PER_TAO * SUBNET_OWNER_CUT_U16) / 65535n;
    expect(pending).toBe(perBlockPending * 9n);
    const stakeBefore1 = await chain.getStake(netuid, m1.ss58Address, bob.ss58Address);
    await chain.produceBlocks(1); // block 10 = registration block 0 + tempo
    expect(await chain.getEpochIndex(netuid)).toBe(1);
    expect(await chain.getPendingEmission(netuid)).toBe(0n);
    const mg = await chain.getMetagraph(netuid);
    const total = mg.emission.reduce((a, b) => a + b, 0n);
    expect(total).toBeLessThanOrEqual(perBlockPending * 10n);
    expect(total).toBeGreaterThan((perBlockPending * 10n * 99n) / 100n);
    // miner 1 got 3x the weight of miner 2
    expect(mg.incentive[1]).toBeGreaterThan(mg.incentive[2]! * 2);
    const ratio = Number(mg.emission[1]) / Number(mg.emission[2]);
    expect(ratio).toBeGreaterThan(2.9);
    expect(ratio).toBeLessThan(3.1);
    // paid into the miners' stake, owned by their coldkey
    expect(await chain.getStake(netuid, m1.ss58Address, bob.ss58Address)).toBe(stakeBefore1 + mg.emission[1]!);
    expect(mg.stake[2]).toBe(mg.emission[2]);
    expect(mg.dividends[0]).toBe(65535);
    await chain.close();
  });

  it('pays incentive by stake-weighted consensus and dividends to the agreeing validator\'s stakers', async () => {
    const f = await subnetFixture({ tempo: TEMPO, commitRevealWeightsEnabled: false, weightsSetRateLimit: 0 });
    const { chain, netuid } = f;
    const bob = await keys('//Bob');
    const charlie = await keys('//Charlie');
    const dave = await keys('//Dave');
    const [v1, v2, m1, m2] = await Promise.all(['//Bob//v1', '//Bob//v2', '//Bob//m1', '//Bob//m2'].map(keys));
    for (const k of [v1!, v2!, m1!, m2!]) await chain.burnedRegister(bob, netuid, k.ss58Address); // uids 1..4
    await chain.addStake(charlie, v1!.ss58Address, netuid, 300n * RAO_PER_TAO); // 3/4 of the validator stake
    await chain.addStake(dave, v2!.ss58Address, netuid, 100n * RAO_PER_TAO);
    await chain.produceBlocks(10); // epoch 1 hands out permits by stake
    const permits = (await chain.getMetagraph(netuid)).validatorPermit;
    expect(permits.slice(0, 5)).toEqual([true, true, true, false, false]);
    await chain.setWeights(v1!, netuid, [3], [65535], 0n); // v1 backs miner uid 3
    await chain.setWeights(v2!, netuid, [4], [65535], 0n); // v2 backs miner uid 4 alone
    const charlieBefore = await chain.getStake(netuid, v1!.ss58Address, charlie.ss58Address);
    await chain.produceBlocks(10); // epoch 2
    const mg = await chain.getMetagraph(netuid);
    expect(mg.incentive[3]).toBe(65535); // the majority-backed miner takes all incentive
    expect(mg.incentive[4]).toBe(0); // below kappa: clipped to consensus 0
    expect(mg.dividends[1]).toBeGreaterThan(mg.dividends[2]!);
    expect(mg.stake[3]).toBeGreaterThan(0n);
    expect(mg.stake[4]).toBe(0n);
    // v1's dividends land on its staker (Charlie), pro rata
    expect(await chain.getStake(netuid, v1!.ss58Address, charlie.ss58Address)).toBe(charlieBefore + mg.emission[1]!);
    await chain.close();
  });

  it('splits block emission 18 % owner / 41 % miners / 41 % validators over a tempo', async () => {
    const { chain, netuid, owner, ownerHot, m1, m2 } = await twoMinerSubnet();
    const ownerStake0 = (await chain.getMetagraph(netuid)).stake[0]!; // owner cut of block 1
    const totals0 = await chain.getTotals();
    await chain.produceBlocks(TEMPO - 1); // through the epoch at block 10
    const totals1 = await chain.getTotals();
    const minted = totals1.issuance - totals0.issuance;
    expect(minted).toBe(RAO_PER_TAO * 9n);
    const mg = await chain.getMetagraph(netuid);
    const minerPaid = mg.stake[1]! + mg.stake[2]!;
    const ownerStake = await chain.getStake(netuid, ownerHot.ss58Address, owner.ss58Address);
    const ownerCut = ((RAO_PER_TAO * SUBNET_OWNER_CUT_U16) / 65535n) * 10n; // blocks 1..10
    const validatorPaid = ownerStake - ownerCut;
    const all = RAO_PER_TAO * 10n;
    const share = (x: bigint) => Number(x) / Number(all);
    expect(share(ownerCut)).toBeCloseTo(0.18, 3);
    expect(share(minerPaid)).toBeCloseTo(0.41, 3);
    expect(share(validatorPaid)).toBeCloseTo(0.41, 3);
    expect(ownerStake0).toBe(ownerCut / 10n);
    void m1;
    void m2;
    await chain.close();
  });

  it('produces a deterministic block hash chain from the same history', async () => {
    const a = await twoMinerSubnet();
    const b = await twoMinerSubnet();
    const ha = await a.chain.produceBlocks(12);
    const hb = await b.chain.produceBlocks(12);
    expect(ha.hash).toBe(hb.hash);
    expect(ha.hash).toMatch(/^0x[0-9a-f]{64}$/);
    const c = await subnetFixture({}, { genesisSeed: 'other' });
    expect((await c.chain.produceBlocks(1)).hash).not.toBe((await a.chain.getBlock()).hash);
    for (const x of [a, b, c]) await x.chain.close();
  });
});
