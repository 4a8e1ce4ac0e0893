/**
 * Connection life against a real runtime (spec 185 in chopsticks) through a TCP relay the test
 * controls: the socket is cut (server gone) and then frozen (half-open: open but silent). The adapter
 * must reconnect with back-off, detect the silent socket by its heartbeat, resume the block
 * subscription without gaps or repeats, and resolve a write whose watch died with the socket by finding
 * it on chain, never sending it twice.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubtensorChain } from '../../../framework/chain/subtensor/index.ts';
import type { BlockInfo } from '../../../framework/chain/types.ts';
import { chopsticksGate, startChopsticks, type Chopsticks } from '../../support/chopsticks.ts';
import { cast, TAO } from './scenario.ts';

const skip = chopsticksGate(185);

interface Relay {
  url: string;
  /** Destroy every relayed connection (the node went away). */
  cut(): void;
  /** Keep every current connection open but forward nothing (a half-open socket). */
  freeze(): void;
  connections(): number;
  close(): Promise<void>;
}

async function relay(upstreamPort: number): Promise<Relay> {
  const pairs: Array<{ a: Socket; b: Socket; frozen: boolean }> = [];
  let total = 0;
  const server: Server = createServer((a) => {
    total += 1;
    const b = tcpConnect(upstreamPort, '127.0.0.1');
    const pair = { a, b, frozen: false };
    pairs.push(pair);
    a.on('data', (d) => pair.frozen || b.write(d));
    b.on('data', (d) => pair.frozen || a.write(d));
    const end = (): void => {
      a.destroy();
      b.destroy();
      const i = pairs.indexOf(pair);
      if (i >= 0) pairs.splice(i, 1);
    };
    a.on('close', end).on('error', end);
    b.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    cut: () => [...pairs].forEach((p) => p.a.destroy()),
    freeze: () => pairs.forEach((p) => (p.frozen = true)),
    connections: () => total,
    close: async () => {
      [...pairs].forEach((p) => p.a.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe.skipIf(skip !== null)('SubtensorChain reconnects (spec 185, chopsticks behind a relay)', () => {
  const c = cast();
  let cs: Chopsticks;
  let net: Relay;
  let chain: SubtensorChain;
  const seen: BlockInfo[] = [];

  beforeAll(async () => {
    cs = await startChopsticks(185);
    net = await relay(cs.port);
    chain = await SubtensorChain.connect(net.url, { readAt: 'best', heartbeatMs: 1000, heartbeatTimeoutMs: 2000, maxReconnectDelayMs: 2000 });
    chain.subscribeBlocks((b) => seen.push(b));
  }, 300_000);
  afterAll(async () => {
    await chain?.close();
    await net?.close();
    await cs?.stop();
  });

  const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const contiguous = (): boolean => seen.every((b, i) => i === 0 || b.number === seen[i - 1].number + 1);

  it('a cut socket: reconnect with back-off, the subscription resumes without gaps, a pooled write lands once', async () => {
    await cs.newBlock(2);
    await until('the first blocks', () => seen.length > 0 && seen[seen.length - 1].number >= 2);
    const dest = c.hot[7].ss58Address;
    const before = await chain.getBalance(dest);
    const nonceBefore = Number((await chain.api.rpc.system.accountNextIndex(c.alice.ss58Address)).toString());
    // the transfer reaches the pool, then the socket dies before the block that includes it
    const write = chain.transfer(c.alice, dest, 7n * TAO);
    await cs.waitPending(1);
    net.cut();
    await cs.newBlock(3); // built while the adapter is away: one includes the transfer
    await until('the reconnect', () => chain.reconnects() >= 1 && chain.isConnected());
    await write; // resolved by finding it on chain: the watch died with the old socket
    await cs.newBlock(1);
    const head = (await chain.getBlock()).number;
    await until('the subscription catching up', () => seen[seen.length - 1]?.number === head);
    expect(contiguous()).toBe(true);
    expect(new Set(seen.map((b) => b.number)).size).toBe(seen.length);
    // exactly one transfer: balance and nonce moved once, and no copy is waiting in the pool
    expect(await chain.getBalance(dest)).toBe(before + 7n * TAO);
    expect(Number((await chain.api.rpc.system.accountNextIndex(c.alice.ss58Address)).toString())).toBe(nonceBefore + 1);
    expect(await cs.pending()).toBe(0);
    process.stdout.write(`cut: reconnects ${chain.reconnects()}, relay connections ${net.connections()}, blocks seen ${seen[0].number}…${head}\n`);
  }, 120_000);

  it('a half-open socket (open but silent) is detected by the heartbeat and replaced', async () => {
    const r0 = chain.reconnects();
    const c0 = net.connections();
    net.freeze();
    await until('the heartbeat replacing the frozen socket', () => chain.reconnects() > r0 && chain.isConnected(), 60_000);
    expect(net.connections()).toBeGreaterThan(c0);
    await cs.newBlock(2);
    const head = (await chain.getBlock()).number;
    await until('the subscription after the half-open socket', () => seen[seen.length - 1]?.number === head);
    expect(contiguous()).toBe(true);
    // writes work on the new socket
    await Promise.all([chain.transfer(c.alice, c.hot[6].ss58Address, 1n * TAO), cs.waitPending(1).then(() => cs.newBlock())]);
  }, 120_000);

  it("a write the runtime refuses as BadProof is reported as BadProof (after one fresh re-signing), and the signer's queue moves on", async () => {
    // Alice's address and public key with Bob's secret: every signature is wrong
    const forged = { ...c.alice, secretKey: c.valCold.secretKey };
    const nonce = async () => BigInt((await chain.api.rpc.system.accountNextIndex(c.alice.ss58Address)).toString());
    const before = await nonce();
    await expect(chain.transfer(forged, c.hot[7].ss58Address, 1n * TAO)).rejects.toMatchObject({ code: 'BadProof' });
    expect(await nonce()).toBe(before);
    // the queue slot the retry held is released: the next write of the same signer goes through
    await Promise.all([chain.transfer(c.alice, c.hot[7].ss58Address, 1n * TAO), cs.waitPending(1).then(() => cs.newBlock())]);
    expect(await nonce()).toBe(before + 1n);
  }, 60_000);
});
