import { describe, expect, it } from 'vitest';
import { chainErrorCode, keys, subnetFixture } from './helpers.ts';
import { RAO_PER_TAO } from '../../framework/chain/hyperparams.ts';
import { commitHashFor } from '../../framework/chain/weights-adapter.ts';

const TAO = RAO_PER_TAO;

describe('stake', () => {
  it('adds and removes per (hotkey, coldkey, netuid); the metagraph shows the total per hotkey', async () => {
    const { chain, netuid } = await subnetFixture();
    const bob = await keys('//Bob');
    const charlie = await keys('//Charlie');
    const v = await keys('//Bob//v');
    await chain.burnedRegister(bob, netuid, v.ss58Address);
    const bobStart = await chain.getBalance(bob.ss58Address);
    await chain.addStake(bob, v.ss58Address, netuid, 100n * TAO);
    await chain.addStake(charlie, v.ss58Address, netuid, 50n * TAO); // anyone may stake to a hotkey
    const mg = await chain.getMetagraph(netuid);
    expect(mg.stake[1]).toBe(150n * TAO);
    expect(await chain.getStake(netuid, v.ss58Address, charlie.ss58Address)).toBe(50n * TAO);
    await chain.removeStake(bob, v.ss58Address, netuid, 40n * TAO);
    expect(await chain.getBalance(bob.ss58Address)).toBe(bobStart - 60n * TAO);
    expect((await chain.getMetagraph(netuid)).stake[1]).toBe(110n * TAO);
    expect(await chainErrorCode(chain.removeStake(charlie, v.ss58Address, netuid, 51n * TAO))).toBe('NotEnoughStakeToWithdraw');
    expect(await chainErrorCode(chain.addStake(bob, v.ss58Address, netuid, 1000n))).toBe('AmountTooLow');
    const poor = await keys('//Poor');
    expect(await chainErrorCode(chain.addStake(poor, v.ss58Address, netuid, TAO))).toBe('NotEnoughBalanceToStake');
    expect(await chainErrorCode(chain.addStake(bob, (await keys('//Unknown')).ss58Address, netuid, TAO))).toBe('HotKeyAccountNotExists');
    expect(await chainErrorCode(chain.addStake(bob, v.ss58Address, 42, TAO))).toBe('SubnetNotExists');
    await chain.close();
  });
});

describe('serve_axon', () => {
  it('enforces ServingRateLimit and validates the endpoint', async () => {
    const { chain, netuid } = await subnetFixture({ servingRateLimit: 3 });
    const bob = await keys('//Bob');
    const m = await keys('//Bob//m');
    const axon = { version: 1, ip: '127.0.0.1', port: 8091, ipType: 4 as const, protocol: 4 };
    expect(await chainErrorCode(chain.serveAxon(m, netuid, axon))).toBe('HotKeyNotRegisteredInSubNet');
    await chain.burnedRegister(bob, netuid, m.ss58Address);
    await chain.produceBlocks(1);
    await chain.serveAxon(m, netuid, axon);
    const served = (await chain.getMetagraph(netuid)).axons[1];
    expect(served).toMatchObject({ ip: '127.0.0.1', port: 8091, ipType: 4, block: 1 });
    await chain.produceBlocks(2);
    expect(await chainErrorCode(chain.serveAxon(m, netuid, { ...axon, port: 9000 }))).toBe('ServingRateLimitExceeded');
    await chain.produceBlocks(1);
    await chain.serveAxon(m, netuid, { ...axon, port: 9000 });
    expect((await chain.getMetagraph(netuid)).axons[1]?.port).toBe(9000);
    await chain.produceBlocks(3);
    expect(await chainErrorCode(chain.serveAxon(m, netuid, { ...axon, ipType: 6 }))).toBe('InvalidIpAddress');
    expect(await chainErrorCode(chain.serveAxon(m, netuid, { ...axon, port: 0 }))).toBe('InvalidPort');
    expect(await chainErrorCode(chain.serveAxon(m, netuid, { ...axon, ipType: 5 as 4 }))).toBe('InvalidIpType');
    await chain.close();
  });
});

describe('set_weights', () => {
  it('fails with subtensor error names', async () => {
    const { chain, netuid, owner, ownerHot } = await subnetFixture({ weightsSetRateLimit: 5 });
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    const m2 = await keys('//Bob//m2');
    await chain.burnedRegister(bob, netuid, m1.ss58Address);
    await chain.burnedRegister(bob, netuid, m2.ss58Address);
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1], [1], 0n))).toBe('CommitRevealEnabled');
    await chain.setHyperparameters(owner, netuid, { commitRevealWeightsEnabled: false, weightsVersionKey: 7n });
    await chain.produceBlocks(5);
    expect(await chainErrorCode(chain.setWeights(owner, netuid, [1], [1], 7n))).toBe('TransactorAccountShouldBeHotKey');
    const stranger = await keys('//Stranger');
    expect(await chainErrorCode(chain.setWeights(stranger, netuid, [1], [1], 7n))).toBe('HotKeyNotRegisteredInSubNet');
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1, 2], [1], 7n))).toBe('WeightVecNotEqualSize');
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1], [1], 6n))).toBe('IncorrectWeightVersionKey');
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1, 1], [1, 2], 7n))).toBe('DuplicateUids');
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1, 9], [1, 2], 7n))).toBe('UidVecContainInvalidOne');
    expect(await chainErrorCode(chain.setWeights(m1, netuid, [2], [1], 7n))).toBe('NeuronNoValidatorPermit');
    await chain.setWeights(m1, netuid, [1], [1], 7n); // self-weight needs no permit
    await chain.setWeights(ownerHot, netuid, [1, 2], [100, 50], 7n);
    expect(await chain.getWeights(netuid, 0)).toEqual([[1, 65535], [2, 32768]]); // max-upscaled, 32767.5 rounds up
    expect((await chain.getMetagraph(netuid)).lastUpdate[0]).toBe(5);
    await chain.produceBlocks(4);
    expect(await chainErrorCode(chain.setWeights(ownerHot, netuid, [1], [1], 7n))).toBe('SettingWeightsTooFast');
    await chain.produceBlocks(1);
    await chain.setWeights(ownerHot, netuid, [1], [1], 8n);
    await chain.close();
  });
});

describe('commit-reveal v2', () => {
  async function setup() {
    const f = await subnetFixture({ tempo: 5, weightsSetRateLimit: 0, revealPeriodEpochs: 1 });
    const bob = await keys('//Bob');
    const m1 = await keys('//Bob//m1');
    await f.chain.burnedRegister(bob, f.netuid, m1.ss58Address);
    await f.chain.produceBlocks(1);
    return { ...f, m1 };
  }
  const uids = [1];
  const values = [65535];
  const salt = [1, 2, 3, 4, 5, 6, 7, 8];

  it('reveals in the next epoch: weights stored, LastUpdate set by the commit only', async () => {
    const { chain, netuid, ownerHot } = await setup();
    expect(await chainErrorCode(chain.revealWeights(ownerHot, netuid, uids, values, salt, 0n))).toBe('NoWeightsCommitFound');
    const hash = commitHashFor(ownerHot.ss58Address, netuid, uids, values, salt, 0n);
    await chain.commitWeights(ownerHot, netuid, hash);
    const commits = await chain.getWeightCommits(netuid, ownerHot.ss58Address);
    expect(commits).toEqual([{ hash, commitEpoch: 0, commitBlock: 1 }]);
    expect((await chain.getMetagraph(netuid)).lastUpdate[0]).toBe(1);
    expect(await chainErrorCode(chain.revealWeights(ownerHot, netuid, uids, values, salt, 0n))).toBe('RevealTooEarly');
    await chain.produceBlocks(4); // block 5: epoch 1
    expect(await chain.getEpochIndex(netuid)).toBe(1);
    expect(await chainErrorCode(chain.revealWeights(ownerHot, netuid, uids, values, [9, 9], 0n))).toBe('InvalidRevealCommitHashNotMatch');
    await chain.revealWeights(ownerHot, netuid, uids, values, salt, 0n);
    expect(await chain.getWeights(netuid, 0)).toEqual([[1, 65535]]);
    expect(await chain.getWeightCommits(netuid, ownerHot.ss58Address)).toEqual([]);
    expect((await chain.getMetagraph(netuid)).lastUpdate[0]).toBe(1); // reveal does not touch LastUpdate
    await chain.close();
  });

  it('rejects a reveal after the window (ExpiredWeightCommit) and caps unrevealed commits at 10', async () => {
    const { chain, netuid, ownerHot } = await setup();
    const hash = commitHashFor(ownerHot.ss58Address, netuid, uids, values, salt, 0n);
    await chain.commitWeights(ownerHot, netuid, hash);
    await chain.produceBlocks(10); // epoch 2 > 0 + 1
    expect(await chain.getEpochIndex(netuid)).toBe(2);
    expect(await chainErrorCode(chain.revealWeights(ownerHot, netuid, uids, values, salt, 0n))).toBe('ExpiredWeightCommit');
    for (let i = 0; i < 10; i++) await chain.commitWeights(ownerHot, netuid, commitHashFor(ownerHot.ss58Address, netuid, uids, values, [i], 0n));
    expect(await chainErrorCode(chain.commitWeights(ownerHot, netuid, hash))).toBe('TooManyUnrevealedCommits');
    await chain.close();
  });

  it('rate-limits commits and refuses them when commit-reveal is off', async () => {
    const { chain, netuid, owner, ownerHot } = await setup();
    await chain.setHyperparameters(owner, netuid, { weightsSetRateLimit: 3 });
    const hash = commitHashFor(ownerHot.ss58Address, netuid, uids, values, salt, 0n);
    await chain.commitWeights(ownerHot, netuid, hash);
    expect(await chainErrorCode(chain.commitWeights(ownerHot, netuid, hash))).toBe('CommittingWeightsTooFast');
    await chain.setHyperparameters(owner, netuid, { commitRevealWeightsEnabled: false });
    expect(await chainErrorCode(chain.commitWeights(ownerHot, netuid, hash))).toBe('CommitRevealDisabled');
    const bob = await keys('//Bob');
    expect(await chainErrorCode(chain.setHyperparameters(bob, netuid, { tempo: 3 }))).toBe('NotSubnetOwner');
    expect(await chainErrorCode(chain.setHyperparameters(owner, netuid, { revealPeriodEpochs: 500 }))).toBe('RevealPeriodTooLarge');
    await chain.close();
  });
});
