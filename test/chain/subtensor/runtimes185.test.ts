/**
 * The framework's own runtimes against a real runtime: `subnet miner` (two honest, one wrong via the
 * template) and `subnet validator` as separate processes on chopsticks running spec 185, blocks built
 * by a loop here (Manual mode). The runtime refuses 127.0.0.1 axons (InvalidIpAddress), so the miners
 * bind and announce 127.0.0.2, which Linux routes to `lo` like all of 127.0.0.0/8 (dev-only; see
 * docs/chain.md). Asserted: axons on chain, weights from the validator, an epoch of the real Yuma
 * ranking both honest miners above the wrong one.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SubtensorChain } from '../../../framework/chain/subtensor/index.ts';
import type { Keypair } from '../../../framework/wallet/keypair.ts';
import { chopsticksGate, startChopsticks, type Chopsticks } from '../../support/chopsticks.ts';
import { ProcessGroup, TEMPLATE_MINER, createWallets, tempDir } from '../../e2e/support.ts';
import { cast, inBlock, TAO, relaxDevLimits } from './scenario.ts';

const skip = chopsticksGate(185);
const TEMPO = 10;
const HOST = '127.0.0.2';

describe.skipIf(skip !== null)('subnet miner + subnet validator on spec 185 (chopsticks)', () => {
  const group = new ProcessGroup();
  const c = cast();
  let cs: Chopsticks;
  let chain: SubtensorChain;
  let netuid = -1;
  let w: Record<string, { coldkey: Keypair; hotkey: Keypair }>;
  let env: NodeJS.ProcessEnv;
  let building = false;
  let loop: Promise<void> = Promise.resolve();

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(25))));
  afterAll(async () => {
    building = false;
    await loop;
    await group.killAll();
    await chain?.close();
    await cs?.stop();
  });

  beforeAll(async () => {
    cs = await startChopsticks(185);
    chain = await SubtensorChain.connect(cs.url, { sudo: c.alice, heartbeatMs: 0 });
    const dir = await tempDir('subtensor-runtimes');
    env = { BT_WALLET_PATH: join(dir, 'wallets') };
    w = await createWallets(env.BT_WALLET_PATH as string, ['owner', 'honest1', 'honest2', 'wrong']);
    const names = Object.keys(w);
    await relaxDevLimits(chain, cs, { rootTempo: TEMPO });
    // fund the wallets' coldkeys from //Alice (one signer: the adapter sends them in nonce order)
    await inBlock(cs, names.map((n) => () => chain.transfer(c.alice, w[n].coldkey.ss58Address, 10_000n * TAO)));
    [netuid] = await inBlock(cs, [() => chain.registerNetwork(c.alice, w.owner.hotkey.ss58Address)]);
    await inBlock<unknown>(cs, [
      () => chain.setHyperparameters(c.alice, netuid, { tempo: TEMPO, weightsSetRateLimit: 0, minAllowedWeights: 1, activityCutoff: 5000, commitRevealWeightsEnabled: false, immunityPeriod: 1, servingRateLimit: 0 }),
      () =>
        chain.sudoBatch([
          ['admin_utils', 'sudo_set_max_registrations_per_block', { netuid, max_registrations_per_block: 16 }],
          ['admin_utils', 'sudo_set_target_registrations_per_interval', { netuid, target_registrations_per_interval: 16 }],
        ]),
    ]);
    // the runtimes refuse `--register` on a real chain: register as a user would, with the coldkeys
    await inBlock(cs, names.map((n) => () => chain.burnedRegister(w[n].coldkey, netuid, w[n].hotkey.ss58Address)));
    await inBlock<unknown>(cs, [
      () => chain.addStake(w.owner.coldkey, w.owner.hotkey.ss58Address, netuid, 1000n * TAO),
      () => chain.rootRegister(c.valCold, c.hot[0].ss58Address),
    ]);
    // pre-dTAO emission follows root weights; incentive does not need it, the emission columns do
    await inBlock(cs, [() => chain.setRootWeights(c.valCold, c.hot[0].ss58Address, [0, netuid], [0, 65_535])]);
    // from here on blocks come from this loop, ~3 per second (an epoch every ~4 s)
    building = true;
    loop = (async () => {
      while (building) {
        await cs.newBlock().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  }, 300_000);

  it('miners serve on 127.0.0.2, the validator sets weights, the real epoch ranks honest miners first', async () => {
    const flags = ['--chain', cs.url, '--netuid', String(netuid)];
    const serve = ['--host', HOST, '--port', '0', '--log-level', 'info', ...flags];
    group.subnet('miner honest1', ['miner', '--name', 'honest1', ...serve], env);
    group.subnet('miner honest2', ['miner', '--name', 'honest2', ...serve], env);
    group.spawn('miner wrong', ['--import', 'tsx', TEMPLATE_MINER, '--name', 'wrong', '--behavior', 'wrong', ...serve], env);
    const hot = (n: string): string => w[n].hotkey.ss58Address;
    const miners = ['honest1', 'honest2', 'wrong'];
    const mg = await group.until('3 miners serving on chain at 127.0.0.2', async () => {
      const m = await chain.getMetagraph(netuid);
      return miners.every((n) => m.axons[m.hotkeys.indexOf(hot(n))]?.ip === HOST) && m;
    }, 120_000, 500);
    const uid = (n: string): number => mg.hotkeys.indexOf(hot(n));
    process.stdout.write(`spec 185 axons: ${miners.map((n) => `${n}=${mg.axons[uid(n)]?.ip}:${mg.axons[uid(n)]?.port}`).join(' ')}\n`);

    const t0 = Date.now();
    group.subnet('validator', ['validator', '--name', 'owner', '--state-dir', join(String(env.BT_WALLET_PATH), '..', 'validator'), '--resync-blocks', '5', ...flags], env);
    const vuid = uid('owner');
    const row = await group.until('weights on chain from the validator', async () => {
      const r = new Map(await chain.getWeights(netuid, vuid));
      return (r.get(uid('honest1')) ?? 0) > 0 && (r.get(uid('honest2')) ?? 0) > 0 && r;
    }, 180_000, 500);
    process.stdout.write(`validator weights on chain ${Date.now() - t0} ms after its start: ${JSON.stringify([...row])}\n`);
    expect(row.get(uid('wrong')) ?? 0).toBeLessThan(Math.min(row.get(uid('honest1'))!, row.get(uid('honest2'))!));

    const ranked = await group.until('an epoch ranking both honest miners first', async () => {
      const m = await chain.getMetagraph(netuid);
      const inc = (n: string): number => m.incentive[uid(n)];
      return Math.min(inc('honest1'), inc('honest2')) > inc('wrong') && m;
    }, 120_000, 500);
    const inc = Object.fromEntries(miners.map((n) => [n, ranked.incentive[uid(n)]]));
    process.stdout.write(`spec 185 incentive after the epoch: ${JSON.stringify(inc)} (block ${ranked.block})\n`);
    expect(ranked.incentive[uid('wrong')]).toBe(0);
    expect(ranked.lastUpdate[vuid]).toBeGreaterThan(0);
  }, 420_000);
});
