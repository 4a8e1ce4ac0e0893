import { describe, expect, it } from 'vitest';
import { chainErrorCode, keys, subnetFixture } from './helpers.ts';
import { RAO_PER_TAO } from '../../framework/chain/hyperparams.ts';

describe('LocalChain registration', () => {
  it('makes the owner hotkey uid 0 and burns the registration cost from the coldkey', async () => {
    const { chain, netuid, ownerHot } = await subnetFixture();
    const bob = await keys('//Bob');
    const hot = await keys('//Bob//m1');
    expect(netuid).toBe(1);
    expect(await chain.getUid(netuid, ownerHot.ss58Address)).toBe(0);
    const hp0 = await chain.getHyperparameters(netuid);
    expect(hp0.burn).toBe(RAO_PER_TAO);
    const before = await chain.getBalance(bob.ss58Address);
    const uid = await chain.burnedRegister(bob, netuid, hot.ss58Address);
    expect(uid).toBe(1);
    expect(await chain.getBalance(bob.ss58Address)).toBe(before - hp0.burn);
    // each registration multiplies the burn by 1.26
    expect((await chain.getHyperparameters(netuid)).burn).toBe((hp0.burn * 126n) / 100n);
    const mg = await chain.getMetagraph(netuid);
    expect(mg.hotkeys).toEqual([ownerHot.ss58Address, hot.ss58Address]);
    expect(mg.coldkeys[1]).toBe(bob.ss58Address);
    expect(await chain.getUid(netuid, hot.ss58Address)).toBe(1);
    await chain.close();
  });

  it('rejects registrations with subtensor error names', async () => {
    const { chain, netuid } = await subnetFixture();
    const bob = await keys('//Bob');
    const poor = await keys('//Nobody');
    const hot = await keys('//Bob//m1');
    await chain.burnedRegister(bob, netuid, hot.ss58Address);
    expect(await chainErrorCode(chain.burnedRegister(bob, netuid, hot.ss58Address))).toBe('HotKeyAlreadyRegisteredInSubNet');
    expect(await chainErrorCode(chain.burnedRegister(bob, 99, (await keys('//x')).ss58Address))).toBe('SubnetNotExists');
    expect(await chainErrorCode(chain.burnedRegister(poor, netuid, (await keys('//Nobody//h')).ss58Address))).toBe('NotEnoughBalanceToStake');
    // a hotkey owned by Bob cannot be registered by Charlie on another subnet
    const charlie = await keys('//Charlie');
    const net2 = await chain.registerNetwork(charlie, (await keys('//Charlie//owner')).ss58Address);
    expect(await chainErrorCode(chain.burnedRegister(charlie, net2, hot.ss58Address))).toBe('NonAssociatedColdKey');
    // a coldkey call signed by a hotkey is refused
    expect(await chainErrorCode(chain.burnedRegister(hot, netuid, (await keys('//y')).ss58Address))).toBe('BadOrigin');
    await chain.close();
  });

  it('applies hyperparameter overrides at network registration, atomically', async () => {
    const { chain } = await subnetFixture();
    const bob = await keys('//Bob');
    const hot = await keys('//Bob//owner');
    const before = await chain.getBalance(bob.ss58Address);
    expect(await chainErrorCode(chain.registerNetwork(bob, hot.ss58Address, { alphaLow: 10 }))).toBe('AlphaLowOutOfRange');
    expect(await chain.subnetExists(2)).toBe(false);
    expect(await chain.getBalance(bob.ss58Address)).toBe(before);
    const netuid = await chain.registerNetwork(bob, hot.ss58Address, { tempo: 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false });
    const hp = await chain.getHyperparameters(netuid);
    expect(hp).toMatchObject({ tempo: 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, immunityPeriod: 5000, yuma3On: true });
    expect(hp.activityCutoff).toBe(Math.floor((13_889 * 10) / 1000));
    await chain.close();
  });

  it('decays the burn with a 360-block half-life, clamped to MinBurn', async () => {
    const { chain, netuid } = await subnetFixture();
    const start = (await chain.getHyperparameters(netuid)).burn;
    await chain.produceBlocks(361); // decay applies from block 2 on: 360 decay steps
    const after = (await chain.getHyperparameters(netuid)).burn;
    const ratio = Number(after) / Number(start);
    expect(ratio).toBeGreaterThan(0.499);
    expect(ratio).toBeLessThan(0.501);
    await chain.close();
  });

  it('prunes the lowest-emission non-immune uid when full, never the owner, and clears its weights', async () => {
    const { chain, netuid, ownerHot } = await subnetFixture({
      maxAllowedUids: 3,
      immunityPeriod: 5,
      tempo: 10,
      commitRevealWeightsEnabled: false,
      weightsSetRateLimit: 0,
    });
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    const m2 = await keys('//Bob//m2');
    const m3 = await keys('//Bob//m3');
    await chain.burnedRegister(bob, netuid, m1.ss58Address); // uid 1
    await chain.burnedRegister(bob, netuid, m2.ss58Address); // uid 2
    // full and everyone immune
    expect(await chainErrorCode(chain.burnedRegister(bob, netuid, m3.ss58Address))).toBe('NoNeuronIdAvailable');
    await chain.produceBlocks(1);
    await chain.setWeights(ownerHot, netuid, [1, 2], [65535, 0], 0n);
    expect(await chain.getWeights(netuid, 0)).toEqual([[1, 65535], [2, 0]]);
    await chain.setWeights(m2, netuid, [2], [65535], 0n); // self weight, to check the row is cleared
    await chain.produceBlocks(10); // one epoch: uid 1 earns incentive, uid 2 nothing
    const mg = await chain.getMetagraph(netuid);
    expect(mg.emission[1]).toBeGreaterThan(0n);
    expect(mg.emission[2]).toBe(0n);
    const uid = await chain.burnedRegister(bob, netuid, m3.ss58Address);
    expect(uid).toBe(2);
    expect(await chain.getUid(netuid, m2.ss58Address)).toBeNull();
    expect(await chain.getWeights(netuid, 2)).toEqual([]);
    expect(await chain.getWeights(netuid, 0)).toEqual([[1, 65535], [2, 0]]);
    const after = await chain.getMetagraph(netuid);
    expect(after.blockAtRegistration[2]).toBe((await chain.getBlock()).number);
    expect(after.hotkeys[0]).toBe(ownerHot.ss58Address);
    await chain.close();
  });

  it('prefers the oldest registration among equal emissions', async () => {
    const { chain, netuid } = await subnetFixture({ maxAllowedUids: 3, immunityPeriod: 2 });
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    const m2 = await keys('//Bob//m2');
    await chain.produceBlocks(1);
    await chain.burnedRegister(bob, netuid, m1.ss58Address); // uid 1 at block 1
    await chain.produceBlocks(1);
    await chain.burnedRegister(bob, netuid, m2.ss58Address); // uid 2 at block 2
    await chain.produceBlocks(3);
    const uid = await chain.burnedRegister(bob, netuid, (await keys('//Bob//m3')).ss58Address);
    expect(uid).toBe(1);
    await chain.close();
  });
});
