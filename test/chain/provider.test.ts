import { describe, expect, it } from 'vitest';
import { metagraphCallerProvider } from '../../framework/chain/metagraph-provider.ts';
import { keys, subnetFixture } from './helpers.ts';

const TAO = 1_000_000_000n;
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('metagraphCallerProvider', () => {
  it('answers lookups from a snapshot refreshed at most every N blocks', async () => {
    const { chain, netuid, ownerHot } = await subnetFixture();
    const bob = await keys('//Bob');
    const m = await keys('//Bob//m');
    await chain.burnedRegister(bob, netuid, m.ss58Address);
    const provider = await metagraphCallerProvider(chain, netuid, { refreshEveryBlocks: 3 });
    expect(provider.lookup(m.ss58Address)).toEqual({ uid: 1, stake: 0n, validatorPermit: false });
    expect(provider.lookup(ownerHot.ss58Address)?.uid).toBe(0);
    expect(provider.lookup(bob.ss58Address)).toBeUndefined(); // a coldkey is not a neuron
    await chain.addStake(bob, m.ss58Address, netuid, 10n * TAO);
    await chain.produceBlocks(2);
    await tick();
    expect(provider.lookup(m.ss58Address)?.stake).toBe(0n); // not refreshed yet
    await chain.produceBlocks(1);
    await tick();
    expect(provider.lookup(m.ss58Address)?.stake).toBe(10n * TAO);
    expect(provider.metagraph().block).toBe(3);
    provider.close();
    await chain.addStake(bob, m.ss58Address, netuid, 10n * TAO);
    await chain.produceBlocks(6);
    await tick();
    expect(provider.lookup(m.ss58Address)?.stake).toBe(10n * TAO); // closed: no more refreshes
    await chain.close();
  });
});
