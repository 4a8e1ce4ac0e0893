import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { StoredCommit } from '../../framework/validator/state.ts';
import { commitWeights, revealDueCommits } from '../../framework/validator/commit-reveal.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { makeNet, type TestNet } from './support.ts';

let net: TestNet | null = null;
afterEach(async () => {
  await net?.chain.close();
  net = null;
});

const timed = <T>(_op: string, fn: () => Promise<T>) => fn();

async function commitThenMaybeRecycle(recycle: boolean, opts: { lateByBlocks?: number } = {}) {
  net = await makeNet({ miners: 2, tag: recycle ? 'cr-recycle' : 'cr-plain', hyper: { commitRevealWeightsEnabled: true, tempo: 3, revealPeriodEpochs: 1 } });
  const { chain, netuid, validator } = net;
  const mg = await chain.getMetagraph(netuid);
  const uids = net.minerHotkeys.map((k) => mg.hotkeys.indexOf(k.ss58Address));
  let commits: StoredCommit[] = [];
  const remember = async (c: StoredCommit | null, replace?: StoredCommit) => {
    commits = commits.filter((x) => x !== replace);
    if (c) commits.push(c);
  };
  await commitWeights({
    chain, hotkey: validator, netuid, block: mg.block, emit: { uids, values: [65535, 30000] },
    hotkeys: uids.map((u) => mg.hotkeys[u]), versionKey: 0n, timed, remember,
  });
  expect(commits).toHaveLength(1);
  expect(commits[0].confirmed).toBe(true);
  expect(commits[0].salt.length).toBeGreaterThan(0);
  if (recycle) {
    // fill the subnet, then one more registration replaces a miner's uid
    await chain.setHyperparameters(net.owner, netuid, { maxAllowedUids: mg.n });
    await chain.burnedRegister(net.minerColdkey, netuid, keypairFromUri('//Bob//newcomer').ss58Address);
    const after = await chain.getMetagraph(netuid);
    expect(uids.some((u) => after.hotkeys[u] !== mg.hotkeys[u])).toBe(true);
  }
  // a validator that was down through the whole reveal window (tempo 3: 4 blocks an epoch)
  if (opts.lateByBlocks) await chain.produceBlocks(opts.lateByBlocks);
  const hyper = await chain.getHyperparameters(netuid);
  const outcomes: string[] = [];
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  for (let i = 0; i < 30 && commits.length > 0; i++) {
    await chain.produceBlocks(1);
    const block = (await chain.getBlock()).number;
    const r = await revealDueCommits({
      chain, hotkey: validator, netuid, hyper, block, commits, timed, log,
      loadHotkeys: async () => (await chain.getMetagraph(netuid)).hotkeys,
    });
    commits = r.commits;
    outcomes.push(...r.outcomes);
  }
  const vuid = (await chain.getUid(netuid, validator.ss58Address))!;
  return { outcomes, commits, logs, weights: await chain.getWeights(netuid, vuid), uids };
}

describe('commit-reveal v2 helpers on LocalChain', () => {
  it('reveals the committed values with the remembered salt in the reveal epoch', async () => {
    const r = await commitThenMaybeRecycle(false);
    expect(r.outcomes).toEqual(['revealed']);
    expect(r.commits).toEqual([]);
    expect(r.weights.find(([u]) => u === r.uids[0])?.[1]).toBe(65535);
  });

  it('skips the reveal when a committed uid changed hands meanwhile', async () => {
    const r = await commitThenMaybeRecycle(true);
    expect(r.outcomes).toEqual(['skipped']);
    expect(r.commits).toEqual([]);
    expect(r.weights).toEqual([]);
    expect(r.logs.join('')).toContain('reveal skipped');
    expect(r.logs.join('')).not.toContain('expired');
  });

  it('reports a commit whose reveal window passed as expired, and forgets it', async () => {
    const r = await commitThenMaybeRecycle(false, { lateByBlocks: 12 });
    expect(r.outcomes).toEqual(['expired']);
    expect(r.commits).toEqual([]);
    expect(r.weights).toEqual([]);
    expect(r.logs.join('')).toContain('expired before it could be revealed');
  });
});
