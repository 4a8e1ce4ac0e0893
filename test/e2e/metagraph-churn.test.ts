import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import { ProcessGroup, connect, createSubnet, createWallets, readJson, startLocalnet, tempDir, type Proc, type ValidatorFile } from './support.ts';

/**
 * subtensor never shrinks a subnet: a uid changes hands only when a registration prunes it from a full
 * subnet. With maxAllowedUids 4 (the owner-validator + 3 miners), a fourth miner replaces one of them.
 */
describe('e2e: a growing metagraph and a recycled uid', () => {
  const group = new ProcessGroup();
  let client: LocalnetClient | undefined;
  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(async () => {
    await client?.close();
    await group.killAll();
  });

  it('the validator scores new uids, resets a replaced hotkey and keeps running rounds and setting weights', async () => {
    const dir = await tempDir('churn');
    const wallets = join(dir, 'wallets');
    const env = { BT_WALLET_PATH: wallets };
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'a', 'b', 'c', 'd']);
    const netuid = await createSubnet(client, w.owner!, {
      tempo: 10, weightsSetRateLimit: 2, commitRevealWeightsEnabled: false, servingRateLimit: 0, immunityPeriod: 0, maxAllowedUids: 4,
    });
    const hk = (n: string) => w[n]!.hotkey.ss58Address;
    const chainFlags = ['--chain', net.url, '--netuid', String(netuid)];
    const miners: Record<string, Proc> = {};
    const startMiner = (n: string) => {
      miners[n] = group.subnet(`miner ${n}`, ['miner', '--name', n, '--host', '127.0.0.1', '--port', '0', '--register', ...chainFlags], env);
    };
    const serving = (names: string[]) => group.until(`${names.join(', ')} serving`, async () => {
      const m = await client!.getMetagraph(netuid);
      return names.every((n) => (m.axons[m.hotkeys.indexOf(hk(n))]?.port ?? 0) > 0) && m;
    }, 45_000);
    const vFile = join(dir, 'validator', 'validator.json');
    const scored = (names: string[]) => group.until(`${names.join(', ')} scored by the validator`, async () => {
      const v = await readJson<ValidatorFile>(vFile);
      return v !== null && names.every((n) => (v.scores[hk(n)] ?? 0) > 0) && v;
    }, 45_000, 100);

    startMiner('a');
    startMiner('b');
    expect((await serving(['a', 'b'])).n).toBe(3);
    const validator = group.subnet('validator', ['validator', '--name', 'owner', '--state-dir', join(dir, 'validator'), '--resync-blocks', '2', ...chainFlags], env);
    await scored(['a', 'b']);

    // growth: a new registration appends uid 3, which the validator picks up and scores
    startMiner('c');
    expect((await serving(['c'])).n).toBe(4);
    const beforeReplace = await scored(['a', 'b', 'c']);

    // full subnet: registering d prunes a non-owner uid (lowest emission) and d serves on it
    const mgBefore = await client.getMetagraph(netuid);
    startMiner('d');
    const mgAfter = await serving(['d']);
    expect(mgAfter.n).toBe(4);
    const uid = mgAfter.hotkeys.indexOf(hk('d'));
    const replaced = mgBefore.hotkeys[uid]!;
    expect(['a', 'b', 'c'].map(hk)).toContain(replaced);
    expect(mgAfter.hotkeys).not.toContain(replaced);
    expect(beforeReplace.scores[replaced]).toBeGreaterThan(0);
    const replaceBlock = mgAfter.blockAtRegistration[uid]!;

    // the validator's view of that uid is reset: the old hotkey's score and per-miner state are gone
    const after = await group.until('the validator resynced to the recycled uid', async () => {
      const v = await readJson<ValidatorFile>(vFile);
      return v !== null && v.hotkeys[uid] === hk('d') && v;
    }, 30_000, 100);
    expect(after.scores).not.toHaveProperty(replaced);
    expect(after.minerState).not.toHaveProperty(replaced);

    // ...and keeps running rounds, scoring the new hotkey on the old uid, and setting weights
    const later = await scored(['d']);
    expect(later.step).toBeGreaterThan(beforeReplace.step);
    expect(later.scores).not.toHaveProperty(replaced);
    const vuid = mgAfter.hotkeys.indexOf(hk('owner'));
    const row = await group.until('weights set after the replacement, including the new hotkey', async () => {
      const m = await client!.getMetagraph(netuid);
      const r = new Map(await client!.getWeights(netuid, vuid));
      return m.lastUpdate[vuid]! > replaceBlock && (r.get(uid) ?? 0) > 0 && r;
    }, 45_000);
    const survivors = ['a', 'b', 'c'].map(hk).filter((h) => h !== replaced);
    for (const h of survivors) expect(row.get(mgAfter.hotkeys.indexOf(h)) ?? 0).toBeGreaterThan(0);
    expect(validator.exited()).toBe(false);
    for (const [n, p] of Object.entries(miners)) if (hk(n) !== replaced) expect(p.exited(), `miner ${n} exited`).toBe(false);
  }, 120_000);
});
