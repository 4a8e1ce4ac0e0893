import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dendrite } from '../../framework/dendrite/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { startValidator, type ValidatorHandle } from '../../framework/validator/index.ts';
import { squareCommodity, squareMiner, type Behavior } from './commodities.ts';
import { makeNet, silent, waitFor, type TestNet } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startMiners(net: TestNet, behaviors: Behavior[], commodity = squareCommodity()): Promise<MinerHandle[]> {
  const out: MinerHandle[] = [];
  for (let i = 0; i < behaviors.length; i++) {
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i], commodity, miner: squareMiner(behaviors[i]),
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
    });
    cleanups.push(() => m.stop());
    out.push(m);
  }
  return out;
}

function weightOf(row: Array<[number, number]>, uid: number): number {
  return row.find(([u]) => u === uid)?.[1] ?? 0;
}

describe('validator end to end (LocalChain, real axons and dendrite on 127.0.0.1)', () => {
  it('honest miners earn more weight than wrong, slow and offline ones, and the weights land on chain', async () => {
    const net = await makeNet({ miners: 4, tag: 'e2e' });
    cleanups.push(() => net.chain.close());
    const miners = await startMiners(net, ['honest', 'wrong', 'slow', 'offline']);
    await net.chain.produceBlocks(1);
    const v = await startValidator({
      chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity({ timeoutMs: 800 }), statePath: net.dir,
      options: { roundIntervalMs: 100, concurrency: 2, alpha: 0.3, logger: silent, resyncEveryBlocks: 2 },
    });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(60));
    const vuid = v.state.uid!;
    const [honest, wrong, slow, offline] = miners.map((m) => m.uid);
    // wait until enough rounds have been scored for the EMA to separate them, then for a weight set
    await waitFor('scores to separate', () => {
      const s = v.state.scores();
      return v.state.step >= 8 && (s[net.minerHotkeys[0].ss58Address] ?? 0) > 0.5;
    });
    const row = await waitFor('weights on chain', async () => {
      await v.state.nextWeightsAttempt();
      const r = await net.chain.getWeights(net.netuid, vuid);
      return r.length > 0 && weightOf(r, honest) > 0 ? r : null;
    });
    expect(weightOf(row, honest)).toBe(65535);
    expect(weightOf(row, honest)).toBeGreaterThan(weightOf(row, slow));
    expect(weightOf(row, wrong)).toBe(0);
    expect(weightOf(row, offline)).toBe(0);
    const scores = v.state.scores();
    const hk = (i: number) => net.minerHotkeys[i].ss58Address;
    expect(scores[hk(0)]).toBeGreaterThan(scores[hk(2)]);
    expect(scores[hk(1)]).toBe(0);
    expect(scores[hk(3)]).toBe(0);
    const metrics = await v.metrics.metrics();
    expect(metrics).toMatch(/subnet_validator_rounds_total\{result="ok"\} [1-9]/);
    expect(metrics).toMatch(/subnet_validator_weight_sets_total\{result="set"\} [1-9]/);
    expect(metrics).toContain('subnet_validator_chain_call_seconds_bucket');
  });

  it('a throwing miner or a scorer bug never penalizes miners or crashes the loop', async () => {
    const net = await makeNet({ miners: 2, tag: 'faults', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    await startMiners(net, ['honest', 'crash']);
    let fail = false;
    const v = await startValidator({
      chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity({ failScoring: () => fail }), statePath: net.dir,
      options: { roundIntervalMs: 50, logger: silent },
    });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(60));
    const honest = net.minerHotkeys[0].ss58Address;
    await waitFor('honest scored', () => (v.state.scores()[honest] ?? 0) > 0.2);
    expect(v.state.scores()[net.minerHotkeys[1].ss58Address]).toBe(0);
    fail = true;
    const frozen = v.state.scores()[honest];
    const step = v.state.step;
    await waitFor('more rounds', () => v.state.step >= step + 4);
    expect(v.state.scores()[honest]).toBe(frozen); // scorer errors: no update at all
    fail = false;
    await waitFor('scoring resumes', () => v.state.scores()[honest] !== frozen);
    expect(await v.metrics.metrics()).toMatch(/subnet_validator_scoring_errors_total [1-9]/);
  });

  it('does not punish miners when none is reachable (a validator-side outage), but does punish one that is down alone', async () => {
    const net = await makeNet({ miners: 3, tag: 'outage', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    const miners = await startMiners(net, ['honest', 'honest', 'honest']);
    const v = await startValidator({
      chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity(), statePath: net.dir,
      options: { roundIntervalMs: 50, logger: silent, alpha: 0.5 },
    });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(60));
    const hk = net.minerHotkeys.map((k) => k.ss58Address);
    await waitFor('all scored', () => hk.every((h) => (v.state.scores()[h] ?? 0) > 0.3));
    await miners[2].stop(); // one miner down: connection refused → its score decays
    await waitFor('lone failure punished', () => v.state.scores()[hk[2]] < 0.01);
    await miners[0].stop();
    await miners[1].stop(); // now nobody answers: looks like our own network
    const step = v.state.step;
    await waitFor('a few rounds pass', () => v.state.step >= step + 2);
    const frozen = v.state.scores();
    await waitFor('more rounds pass', () => v.state.step >= step + 6);
    expect(v.state.scores()[hk[0]]).toBe(frozen[hk[0]]);
    expect(v.state.scores()[hk[0]]).toBeGreaterThan(0.3);
  });

  it('resumes scores, step and pending delayed tasks after a restart, scoring each task once', async () => {
    const net = await makeNet({ miners: 2, tag: 'restart', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    await startMiners(net, ['honest', 'wrong']);
    const commodity = squareCommodity({ delayBlocks: 3 });
    const opts = { roundIntervalMs: 60, logger: silent };
    // phase 1: blocks advance, some delayed tasks get scored
    let v: ValidatorHandle = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, statePath: net.dir, options: opts });
    let stopBlocks = net.drive(60);
    const honest = net.minerHotkeys[0].ss58Address;
    await waitFor('some delayed scores', () => (v.state.scores()[honest] ?? 0) > 0);
    stopBlocks();
    // phase 2: blocks stop, rounds continue and queue tasks that cannot be due yet
    const before = await v.state.pendingCount();
    await waitFor('tasks queued while blocks are paused', async () => (await v.state.pendingCount()) >= before + 3);
    await v.stop();
    const saved = JSON.parse(await readFile(join(net.dir, 'validator.json'), 'utf8')) as { step: number; scores: Record<string, number> };
    const pendingAtStop = await v.state.pendingCount();
    expect(pendingAtStop).toBeGreaterThanOrEqual(3);
    expect(saved.scores[honest]).toBe(v.state.scores()[honest]);

    // restart: state comes back exactly, then queued tasks are scored once blocks move again
    v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, statePath: net.dir, options: { ...opts, roundIntervalMs: 60_000 } });
    cleanups.push(() => v.stop());
    expect(v.state.scores()[honest]).toBe(saved.scores[honest]);
    expect(v.state.step).toBeGreaterThanOrEqual(saved.step);
    expect(await v.state.pendingCount()).toBeGreaterThanOrEqual(pendingAtStop);
    stopBlocks = net.drive(40);
    cleanups.push(stopBlocks);
    await waitFor('pending drained', async () => (await v.state.pendingCount()) === 0);
    expect(v.state.scores()[honest]).toBeGreaterThan(saved.scores[honest]);
    expect(v.state.scores()[net.minerHotkeys[1].ss58Address]).toBe(0);
    // every round's task was scored exactly once across both runs
    await v.stop();
    const final = JSON.parse(await readFile(join(net.dir, 'validator.json'), 'utf8')) as { step: number; minerState: Record<string, { seen: number }> };
    expect(final.minerState[honest].seen).toBe(final.step);
  });
});
