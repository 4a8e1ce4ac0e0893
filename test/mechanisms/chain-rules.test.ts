import { describe, expect, it } from 'vitest';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { splitEmissions } from '../../framework/chain/mechanisms.ts';
import { chainErrorCode, keys, subnetFixture } from '../chain/helpers.ts';

/**
 * LocalChain against the 2026 subtensor rules (spec subnet-designs-2026.md, subtensor 14bc6f9):
 * mechanisms and the uid limit, the stateful scheduler (set_tempo, trigger_epoch, freeze window,
 * commit-reveal refusal), init_new_network defaults and start_call gating emission.
 */

describe('mechanisms on LocalChain', () => {
  it('enforces max_allowed_uids × mechanisms ≤ 256 and MaxMechanismCount with subtensor error names', async () => {
    const { chain, owner, netuid } = await subnetFixture();
    try {
      expect((await chain.getHyperparameters(netuid)).mechanismCount).toBe(1);
      // 256 uids × 2 mechanisms = 512 > 256
      expect(await chainErrorCode(chain.setMechanismCount(owner, netuid, 2))).toBe('TooManyUIDsPerMechanism');
      expect(await chainErrorCode(chain.setHyperparameters(owner, netuid, { mechanismCount: 2 }))).toBe('TooManyUIDsPerMechanism');
      expect(await chainErrorCode(chain.setHyperparameters(owner, netuid, { maxAllowedUids: 300 }))).toBe('MaxAllowedUidsGreaterThanDefaultMaxAllowedUids');
      await chain.setHyperparameters(owner, netuid, { maxAllowedUids: 128 });
      await chain.produceBlocks(1); // a rate-limit record at block 0 reads as "never" on subtensor too
      await chain.setMechanismCount(owner, netuid, 2);
      expect((await chain.getHyperparameters(netuid)).mechanismCount).toBe(2);
      // now the other direction: raising max uids back to 256 with two mechanisms
      expect(await chainErrorCode(chain.setHyperparameters(owner, netuid, { maxAllowedUids: 129 }))).toBe('TooManyUIDsPerMechanism');
      // MaxMechanismCount (2) and the rate limit of the owner call (7200 blocks)
      expect(await chainErrorCode(chain.setHyperparameters(owner, netuid, { mechanismCount: 3, maxAllowedUids: 64 }))).toBe('InvalidValue');
      expect(await chainErrorCode(chain.setMechanismCount(owner, netuid, 1))).toBe('TxRateLimitExceeded');
      // weights for a mechanism the subnet does not have
      const v = await keys('//Alice//owner');
      expect(await chainErrorCode(chain.setWeights(v, netuid, [0], [65535], 0n, { mechid: 2 }))).toBe('MechanismDoesNotExist');
      // split: sums to 65535, at most `count` entries
      expect(await chainErrorCode(chain.setMechanismEmissionSplit(owner, netuid, [30_000, 30_000]))).toBe('InvalidValue');
      expect(await chainErrorCode(chain.setMechanismEmissionSplit(owner, netuid, [20_000, 20_000, 25_535]))).toBe('InvalidValue');
      await chain.setMechanismEmissionSplit(owner, netuid, [45_875, 19_660]);
      expect((await chain.getHyperparameters(netuid)).mechanismEmissionSplit).toEqual([45_875, 19_660]);
      const bob = await keys('//Bob');
      expect(await chainErrorCode(chain.setMechanismEmissionSplit(bob, netuid, null))).toBe('NotSubnetOwner');
    } finally {
      await chain.close();
    }
  });

  it('split_emissions: floor shares, padding, remainder to mechanism 0', () => {
    expect(splitEmissions(1_000n, 2, undefined)).toEqual([500n, 500n]);
    expect(splitEmissions(1_001n, 2, undefined)).toEqual([501n, 500n]);
    expect(splitEmissions(1_000_000n, 2, [45_875, 19_660])).toEqual([1_000_000n - 299_992n, 299_992n]);
    expect(splitEmissions(10n, 3, [65_535])).toEqual([10n, 0n, 0n]);
  });
});

describe('stateful epoch scheduler', () => {
  it('init_new_network staggers LastEpochBlock by netuid; the period is tempo', async () => {
    const { chain, netuid } = await subnetFixture();
    try {
      const s = await chain.getEpochSchedule(netuid);
      const hp = await chain.getHyperparameters(netuid);
      expect(hp).toMatchObject({ tempo: 360, maxAllowedValidators: 64, immunityPeriod: 5000, yuma3On: true, minAllowedWeights: 1, mechanismCount: 1 });
      expect(s.lastEpochBlock).toBe(Math.max(0, 0 - (netuid % 360)));
      await chain.setHyperparameters((await keys('//Alice')), netuid, { tempo: 7 }); // sudo path restarts the cycle at this block
      const start = (await chain.getBlock()).number;
      const fired: number[] = [];
      chain.subscribeEvents((e) => e.name === 'EpochRun' && fired.push(e.block));
      await chain.produceBlocks(21);
      expect(fired).toEqual([start + 7, start + 14, start + 21]);
    } finally {
      await chain.close();
    }
  });

  it('owner set_tempo: bounds, freeze window, 360-block rate limit, cycle reset', async () => {
    const { chain, owner, netuid } = await subnetFixture();
    try {
      expect(await chainErrorCode(chain.setTempo(owner, netuid, 359))).toBe('TempoOutOfBounds');
      expect(await chainErrorCode(chain.setTempo(owner, netuid, 50_401))).toBe('TempoOutOfBounds');
      const bob = await keys('//Bob');
      expect(await chainErrorCode(chain.setTempo(bob, netuid, 400))).toBe('NotSubnetOwner');
      // inside the last 10 blocks before the auto epoch
      const s = await chain.getEpochSchedule(netuid);
      await chain.produceBlocks(s.nextEpochBlock - (await chain.getBlock()).number - 5);
      expect(await chainErrorCode(chain.setTempo(owner, netuid, 400))).toBe('AdminActionProhibitedDuringWeightsWindow');
      await chain.produceBlocks(6); // past the epoch: window open again
      await chain.setTempo(owner, netuid, 400);
      const now = (await chain.getBlock()).number;
      expect(await chain.getEpochSchedule(netuid)).toMatchObject({ tempo: 400, lastEpochBlock: now, nextEpochBlock: now + 400 });
      await chain.produceBlocks(20);
      expect(await chainErrorCode(chain.setTempo(owner, netuid, 500))).toBe('TxRateLimitExceeded');
    } finally {
      await chain.close();
    }
  });

  it('trigger_epoch: refused under commit-reveal, fires after the freeze window, one at a time, not when an epoch is imminent', async () => {
    const { chain, owner, netuid } = await subnetFixture({ tempo: 100 });
    try {
      expect((await chain.getHyperparameters(netuid)).commitRevealWeightsEnabled).toBe(true); // new-subnet default
      expect(await chainErrorCode(chain.triggerEpoch(owner, netuid))).toBe('DynamicTempoBlockedByCommitReveal');
      await chain.setHyperparameters(owner, netuid, { commitRevealWeightsEnabled: false, tempo: 100 });
      await chain.produceBlocks(3);
      const fired: number[] = [];
      chain.subscribeEvents((e) => e.name === 'EpochRun' && fired.push(e.block));
      const at = (await chain.getBlock()).number;
      await chain.triggerEpoch(owner, netuid);
      expect((await chain.getEpochSchedule(netuid)).pendingEpochAt).toBe(at + 10);
      expect(await chainErrorCode(chain.triggerEpoch(owner, netuid))).toBe('EpochTriggerAlreadyPending');
      // the countdown is a freeze window for owner hyperparameter calls
      expect(await chainErrorCode(chain.setTempo(owner, netuid, 400))).toBe('AdminActionProhibitedDuringWeightsWindow');
      await chain.produceBlocks(9);
      expect(fired).toEqual([]);
      await chain.produceBlocks(1);
      expect(fired).toEqual([at + 10]);
      const s = await chain.getEpochSchedule(netuid);
      expect(s).toMatchObject({ pendingEpochAt: 0, lastEpochBlock: at + 10, nextEpochBlock: at + 110 });
      // owner hyperparameter rate limit: 2 tempos
      expect(await chainErrorCode(chain.triggerEpoch(owner, netuid))).toBe('TxRateLimitExceeded');
      await chain.produceBlocks(195);
      // 5 blocks before the auto epoch: refused as imminent
      expect(await chainErrorCode(chain.triggerEpoch(owner, netuid))).toBe('AutoEpochAlreadyImminent');
    } finally {
      await chain.close();
    }
  });
});

describe('start_call', () => {
  it('no emission before start_call; emission from the next block; once only; StartCallDelay honoured', async () => {
    const chain = await LocalChain.create({ blockTimeMs: 0, genesisSeed: 'start-call', startCallDelay: 5 });
    try {
      const alice = await keys('//Alice');
      const hot = await keys('//Alice//owner');
      const netuid = await chain.registerNetwork(alice, hot.ss58Address, { tempo: 4 });
      const issued0 = (await chain.getTotals()).issuance;
      await chain.produceBlocks(3);
      expect(await chain.getPendingEmission(netuid)).toBe(0n);
      expect((await chain.getTotals()).issuance).toBe(issued0);
      expect((await chain.getEpochSchedule(netuid)).firstEmissionBlock).toBeNull();
      expect(await chainErrorCode(chain.startCall(alice, netuid))).toBe('NeedWaitingMoreBlocksToStarCall');
      expect(await chainErrorCode(chain.startCall(await keys('//Bob'), netuid))).toBe('NotSubnetOwner');
      await chain.produceBlocks(2);
      await chain.startCall(alice, netuid);
      const at = (await chain.getBlock()).number;
      expect((await chain.getEpochSchedule(netuid)).firstEmissionBlock).toBe(at + 1);
      expect(await chainErrorCode(chain.startCall(alice, netuid))).toBe('FirstEmissionBlockNumberAlreadySet');
      await chain.produceBlocks(1);
      expect((await chain.getTotals()).issuance - issued0).toBe(1_000_000_000n);
      const rows = [{ phase: 'before start_call (3 blocks)', issued_rao: '0' }, { phase: 'first block after start_call', issued_rao: String((await chain.getTotals()).issuance - issued0) }];
      console.table(rows);
    } finally {
      await chain.close();
    }
  });
});
