import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalnetClient } from '../../framework/chain/localnet-client.ts';
import { chainErrorCode, keys } from '../chain/helpers.ts';
import { killHard, startLocalnetProcess, type LocalnetProcess } from '../chain/localnet-process.ts';

/**
 * The 2026 state (mechanisms, split, per-mechanism weights, a pending triggered epoch, start_call)
 * over the localnet wire, in a real `subnet localnet` process, and after a SIGKILL + restart.
 */
const TAO = 1_000_000_000n;
const dir = mkdtempSync(join(tmpdir(), 'localnet-mech-'));
let proc: LocalnetProcess | null = null;
let client: LocalnetClient | null = null;

afterAll(async () => {
  await client?.close();
  if (proc) await killHard(proc);
  rmSync(dir, { recursive: true, force: true });
});

describe('localnet: mechanisms and dynamic tempo survive a restart', () => {
  it('carries mechid over the wire and persists the new state', async () => {
    const state = join(dir, 'state.json');
    // manual-speed chain: 1 block per second keeps the trigger countdown observable
    proc = await startLocalnetProcess(['--port', '0', '--block-time', '1000', '--state', state]);
    client = await LocalnetClient.connect(proc.url);
    const alice = await keys('//Alice');
    const owner = await keys('//Alice//mech-owner');
    const v = owner; // the owner hotkey (uid 0) always holds a validator permit
    const netuid = await client.registerNetwork(alice, owner.ss58Address, {
      tempo: 50, commitRevealWeightsEnabled: false, weightsSetRateLimit: 0, maxAllowedUids: 128, mechanismCount: 2,
    });
    expect((await client.getEpochSchedule(netuid)).firstEmissionBlock).toBeNull();
    await client.startCall(alice, netuid);
    await client.setMechanismEmissionSplit(alice, netuid, [13_107, 52_428]); // 0.2 / 0.8
    const miner = await keys('//Bob//mech-m');
    await client.burnedRegister(await keys('//Bob'), netuid, miner.ss58Address);
    await client.addStake(alice, v.ss58Address, netuid, 10n * TAO);
    // weights set in the miner's registration block count as outdated (LastUpdate ≤ BlockAtRegistration)
    const regBlock = (await client.getBlock()).number;
    while ((await client.getBlock()).number === regBlock) await new Promise((r) => setTimeout(r, 100));
    await client.setWeights(v, netuid, [1], [65535], 0n, { mechid: 1 });
    expect(await chainErrorCode(client.setWeights(v, netuid, [1], [65535], 0n, { mechid: 2 }))).toBe('MechanismDoesNotExist');
    expect(await client.getWeights(netuid, 0, { mechid: 1 })).toEqual([[1, 65535]]);
    expect(await client.getWeights(netuid, 0)).toEqual([]);
    await client.triggerEpoch(alice, netuid);
    const before = await client.getEpochSchedule(netuid);
    expect(before.pendingEpochAt).toBeGreaterThan(0);
    const mg1 = await client.getMetagraph(netuid, { mechid: 1 });
    expect(mg1.mechid).toBe(1);

    await killHard(proc);
    proc = await startLocalnetProcess(['--port', String(proc.port), '--block-time', '100', '--state', state]);
    await client.close();
    client = await LocalnetClient.connect(proc.url);
    const hp = await client.getHyperparameters(netuid);
    expect(hp.mechanismCount).toBe(2);
    expect(hp.mechanismEmissionSplit).toEqual([13_107, 52_428]);
    expect(await client.getWeights(netuid, 0, { mechid: 1 })).toEqual([[1, 65535]]);
    const after = await client.getEpochSchedule(netuid);
    expect(after.firstEmissionBlock).toBe(before.firstEmissionBlock);
    // the triggered epoch is still due (or has fired at its block after the restart)
    if (after.pendingEpochAt !== 0) expect(after.pendingEpochAt).toBe(before.pendingEpochAt);
    else expect(after.lastEpochBlock).toBe(before.pendingEpochAt);
    // wait for the triggered epoch: mechanism 1 pays the miner, mechanism 0 (no weights) does not
    const deadline = Date.now() + 20_000;
    while ((await client.getEpochSchedule(netuid)).lastEpochBlock < before.pendingEpochAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await client.getEpochSchedule(netuid)).lastEpochBlock).toBe(before.pendingEpochAt);
    const [m0, m1] = await Promise.all([client.getMetagraph(netuid), client.getMetagraph(netuid, { mechid: 1 })]);
    expect(m1.incentive[1]).toBe(65535);
    expect(m0.incentive[1]).toBe(0);
  }, 90_000);
});
