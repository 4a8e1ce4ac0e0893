import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommodity } from '../../framework/commodity/define.ts';
import { UserError } from '../../framework/errors.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { makeNet, silent, type TestNet } from '../validator/support.ts';

const echo = defineCommodity({
  name: 'EchoSynapse',
  query: z.object({ text: z.string() }),
  response: z.object({ echo: z.string().nullable().optional() }),
  timeoutMs: 2000,
  generate: (ctx) => ({ query: { text: `r${ctx.round}` }, data: undefined }),
  score: ({ answers }) => Object.fromEntries(answers.map((a) => [a.hotkey, a.response?.echo === a.query.text ? 1 : 0])),
  miner: { handle: (q) => ({ echo: q.text }) },
});

let net: TestNet | null = null;
const miners: MinerHandle[] = [];
afterEach(async () => {
  for (const m of miners.splice(0)) await m.stop();
  await net?.chain.close();
  net = null;
});

describe('startMiner', () => {
  it('refuses an unregistered hotkey with a one-line UserError', async () => {
    net = await makeNet({ miners: 0, tag: 'unreg' });
    const stranger = keypairFromUri('//Bob//stranger');
    const err = await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: stranger, commodity: echo, axon: { host: '127.0.0.1', port: 0 }, logger: silent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/not registered on subnet/);
    expect((err as UserError).hint).toMatch(/--register/);
    const missing = await startMiner({ chain: net.chain, netuid: 99, hotkey: stranger, commodity: echo, axon: { port: 0 }, logger: silent }).catch((e: unknown) => e);
    expect((missing as UserError).message).toMatch(/subnet 99 does not exist/);
  });

  it('registers from the dev faucet when asked, serves the axon on chain, and stops cleanly', async () => {
    net = await makeNet({ miners: 0, tag: 'reg' });
    const coldkey = keypairFromUri('//Bob//fresh-cold'); // zero balance: the faucet pays the burn
    const hotkey = keypairFromUri('//Bob//fresh-hot');
    expect(await net.chain.getBalance(coldkey.ss58Address)).toBe(0n);
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey, coldkey, commodity: echo, register: true,
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
    });
    miners.push(m);
    expect(await net.chain.getUid(net.netuid, hotkey.ss58Address)).toBe(m.uid);
    expect(m.port).toBeGreaterThan(0);
    const mg = await net.chain.getMetagraph(net.netuid);
    expect(mg.axons[m.uid]).toMatchObject({ ip: '127.0.0.1', port: m.port });
    await m.stop();
    await m.stop(); // idempotent
    miners.pop();
  });

  it('does not register without a coldkey', async () => {
    net = await makeNet({ miners: 0, tag: 'nocold' });
    const err = await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: keypairFromUri('//x'), commodity: echo, register: true, axon: { port: 0 }, logger: silent }).catch((e: unknown) => e);
    expect((err as UserError).message).toMatch(/needs a coldkey/);
  });
});

describe('startMiner registration check', () => {
  it('notices when its uid is pruned by a new registration on a full subnet', async () => {
    net = await makeNet({ miners: 1, tag: 'pruned', hyper: { maxAllowedUids: 3, immunityPeriod: 0 } });
    const changes: Array<{ uid: number; now: number | null }> = [];
    const m = await startMiner({
      chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[0], commodity: echo, logger: silent,
      axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, registrationCheckBlocks: 1, onDeregistered: (c) => changes.push(c),
    });
    miners.push(m);
    await net.chain.produceBlocks(2);
    expect(m.registered).toBe(true);
    // fill the subnet (owner/validator + our miner + one more), then one more registration prunes a uid
    const coldkey = keypairFromUri('//Bob');
    await net.chain.burnedRegister(coldkey, net.netuid, keypairFromUri('//Bob//filler').ss58Address);
    await net.chain.burnedRegister(coldkey, net.netuid, keypairFromUri('//Bob//newcomer').ss58Address);
    // all emissions are 0, so pruning takes the oldest non-owner registration: our miner
    expect(await net.chain.getUid(net.netuid, net.minerHotkeys[0].ss58Address)).toBeNull();
    for (let i = 0; i < 20 && changes.length === 0; i++) {
      await net.chain.produceBlocks(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(changes).toEqual([{ uid: m.uid, now: null }]);
    expect(m.registered).toBe(false);
  });
});
