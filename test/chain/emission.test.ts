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
