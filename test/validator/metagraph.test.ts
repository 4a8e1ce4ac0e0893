import { afterEach, describe, expect, it } from 'vitest';
import type { Chain, Metagraph } from '../../framework/chain/types.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { squareCommodity, squareMiner, type Behavior } from './commodities.ts';
import { makeNet, silent, waitFor, type TestNet } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(net: TestNet, hotkey: Keypair, b: Behavior): Promise<void> {
  const m = await startMiner({
    chain: net.chain, netuid: net.netuid, hotkey, coldkey: net.minerColdkey, register: true, commodity: squareCommodity(), miner: squareMiner(b),
    axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
  });
  cleanups.push(() => m.stop());
}

function truncate(mg: Metagraph, n: number): Metagraph {
  if (mg.n <= n) return mg;
  const cut = <T>(a: T[]) => a.slice(0, n);
  return {
    ...mg, n, hotkeys: cut(mg.hotkeys), coldkeys: cut(mg.coldkeys), stake: cut(mg.stake), validatorPermit: cut(mg.validatorPermit), active: cut(mg.active),
    lastUpdate: cut(mg.lastUpdate), blockAtRegistration: cut(mg.blockAtRegistration), axons: cut(mg.axons), incentive: cut(mg.incentive),
    dividends: cut(mg.dividends), consensus: cut(mg.consensus), validatorTrust: cut(mg.validatorTrust), emission: cut(mg.emission),
  };
}

/** The same chain, but its metagraph can be made to shrink (LocalChain, like subtensor, never drops uids by itself). */
function shrinkable(chain: Chain): { chain: Chain; setLimit: (n: number) => void } {
  let limit = Infinity;
  const view = new Proxy(chain, {
    get(target, prop) {
      if (prop === 'getMetagraph') return async (netuid: number) => truncate(await target.getMetagraph(netuid), limit);
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { chain: view, setLimit: (n) => (limit = n) };
}

describe('validator and a changing metagraph', () => {
  it('handles growth, a recycled uid (hotkey change) and a shrink without breaking the loop', async () => {
    const net = await makeNet({ miners: 2, tag: 'mg', hyper: { weightsSetRateLimit: 3 } });
    cleanups.push(() => net.chain.close());
    for (const hk of net.minerHotkeys) await serve(net, hk, 'honest');
    const { chain, setLimit } = shrinkable(net.chain);
    const v = await startValidator({
      chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity(), statePath: net.dir,
      options: { roundIntervalMs: 50, resyncEveryBlocks: 1, logger: silent },
    });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(40));
    const hk = (k: Keypair) => k.ss58Address;
    await waitFor('initial scores', () => (v.state.scores()[hk(net.minerHotkeys[1])] ?? 0) > 0.1);

    // growth: two more miners register and start serving
    const newcomers = [keypairFromUri('//Bob//grow-0'), keypairFromUri('//Bob//grow-1')];
    await serve(net, newcomers[0], 'honest');
    await serve(net, newcomers[1], 'wrong');
    await waitFor('newcomers scored', () => (v.state.scores()[hk(newcomers[0])] ?? 0) > 0.1 && v.state.scores()[hk(newcomers[1])] === 0);
    const n = (await net.chain.getMetagraph(net.netuid)).n;
    expect(v.state.scoresByUid()).toHaveLength(n);

    // hotkey change: the subnet is full, so the next registration recycles a uid
    await net.chain.setHyperparameters(net.owner, net.netuid, { maxAllowedUids: n });
    const before = await net.chain.getMetagraph(net.netuid);
    const replacement = keypairFromUri('//Bob//replacement');
    await serve(net, replacement, 'honest');
    const after = await net.chain.getMetagraph(net.netuid);
    const recycled = after.hotkeys.indexOf(hk(replacement));
    expect(recycled).toBeGreaterThanOrEqual(0);
    const evicted = before.hotkeys[recycled];
    expect(evicted).not.toBe(hk(replacement));
    await waitFor('evicted hotkey forgotten', () => !(evicted in v.state.scores()));
    await waitFor('replacement scored from scratch', () => (v.state.scores()[hk(replacement)] ?? 0) > 0);

    // shrink: the metagraph loses its last uids; their scores go, rounds and weights carry on
    const small = 3;
    const dropped = after.hotkeys.slice(small);
    setLimit(small);
    await waitFor('shrink applied', () => v.state.scoresByUid().length === small);
    const step = v.state.step;
    await waitFor('rounds continue after shrink', () => v.state.step > step + 5);
    for (const d of dropped) expect(v.state.scores()[d]).toBeUndefined();
    const outcome = await v.state.nextWeightsAttempt();
    expect(['set', 'rate_limited']).toContain(outcome);
    const row = await waitFor('weights after shrink', async () => {
      const r = await net.chain.getWeights(net.netuid, v.state.uid!);
      return r.length > 0 && r.every(([u]) => u < small) ? r : null;
    });
    expect(row.length).toBeGreaterThan(0);

    // and growth back: the returning uids start fresh
    setLimit(Infinity);
    await waitFor('growth after shrink', () => v.state.scoresByUid().length === after.n);
  });

  it('commit-reveal: commits, keeps the salt, reveals in the window and the weights land on chain', async () => {
    const net = await makeNet({ miners: 2, tag: 'cr', hyper: { commitRevealWeightsEnabled: true, tempo: 5, revealPeriodEpochs: 1, weightsSetRateLimit: 2 } });
    cleanups.push(() => net.chain.close());
    await serve(net, net.minerHotkeys[0], 'honest');
    await serve(net, net.minerHotkeys[1], 'wrong');
    const v = await startValidator({
      chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: squareCommodity(), statePath: net.dir,
      options: { roundIntervalMs: 50, logger: silent, weightsEveryBlocks: 50 },
    });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(30));
    const outcomes: string[] = [];
    await waitFor('a reveal', async () => {
      outcomes.push(await v.state.nextWeightsAttempt());
      return outcomes.includes('revealed');
    });
    expect(outcomes[0]).toBe('committed');
    const row = await net.chain.getWeights(net.netuid, v.state.uid!);
    const honestUid = (await net.chain.getUid(net.netuid, net.minerHotkeys[0].ss58Address))!;
    expect(row.find(([u]) => u === honestUid)?.[1]).toBe(65535);
  });
});
