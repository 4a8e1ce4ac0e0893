import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonFeedSource, parseFeed } from '../src/feed.ts';
import { MarketSim } from '../src/sim.ts';
import { serveSim } from '../src/sim-server.ts';

const binary = { id: 'ev-1', kind: 'binary', question: 'BTC above 100k?', openAt: 1000, cutoffAt: 2000, resolveAt: 3000, market: 0.4 };

describe('JSON feed adapter', () => {
  it('reads a file: events, and outcomes once present', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pfeed-'));
    const path = join(dir, 'feed.json');
    await writeFile(path, JSON.stringify({ version: 1, events: [binary] }));
    const src = new JsonFeedSource({ location: path, refreshMs: 0 });
    expect((await src.events(0)).map((e) => e.id)).toEqual(['ev-1']);
    expect(await src.resolution('ev-1', 0)).toBeNull(); // not yet: the validator retries later
    await writeFile(path, JSON.stringify({ version: 1, events: [{ ...binary, resolution: { status: 'resolved', outcome: 1 } }] }));
    expect(await src.resolution('ev-1', 1)).toEqual({ status: 'resolved', outcome: 1 });
  });

  it('rejects bad documents with one line naming the field, keeping the last good copy', async () => {
    expect(() => parseFeed('{', 'x')).toThrow(/not JSON/);
    expect(() => parseFeed(JSON.stringify({ version: 2, events: [] }), 'x')).toThrow(/version/);
    expect(() => parseFeed(JSON.stringify({ version: 1, events: [{ ...binary, market: 1.5 }] }), 'x')).toThrow(/events\[0\].*market/);
    expect(() => parseFeed(JSON.stringify({ version: 1, events: [{ ...binary, cutoffAt: 5000 }] }), 'x')).toThrow(/openAt ≤ cutoffAt ≤ resolveAt/);
    expect(() => parseFeed(JSON.stringify({ version: 1, events: [binary, binary] }), 'x')).toThrow(/duplicate/);
    expect(() => parseFeed(JSON.stringify({ version: 1, events: [{ ...binary, resolution: { status: 'resolved', prices: [1] } }] }), 'x')).toThrow(/prices/);
    const dir = await mkdtemp(join(tmpdir(), 'pfeed-'));
    const path = join(dir, 'feed.json');
    await writeFile(path, JSON.stringify({ version: 1, events: [binary] }));
    const warnings: string[] = [];
    const src = new JsonFeedSource({ location: path, refreshMs: 0, onWarn: (m) => warnings.push(m) });
    await src.events(0);
    await writeFile(path, '{"version":1,"events":[{"id":"bad id!"}]}');
    expect((await src.events(1)).map((e) => e.id)).toEqual(['ev-1']);
    expect(warnings[0]).toMatch(/keeping the last good copy/);
  });

  const servers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const s of servers) await s();
  });

  it('reads over HTTP from the simulator, and bounds the body before parsing', async () => {
    const sim = new MarketSim({ seed: 'feedtest', t0: Date.now() - 60_000, outcomeLagMs: 0 });
    const srv = await serveSim(sim);
    servers.push(() => srv.close());
    const src = new JsonFeedSource({ location: `${srv.url}/feed.json` });
    const events = await src.events(Date.now());
    expect(events.length).toBeGreaterThan(10);
    const resolved = events.find((e) => e.resolveAt < Date.now() - 1000)!;
    expect(await src.resolution(resolved.id, Date.now())).toEqual(sim.resolveNow(resolved.id, Date.now()));

    const big = createServer((_req, res) => res.end('x'.repeat(5000)));
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    servers.push(() => new Promise((r) => big.close(() => r())));
    const small = new JsonFeedSource({ location: `http://127.0.0.1:${(big.address() as AddressInfo).port}/`, maxBytes: 1000 });
    await expect(small.events(0)).rejects.toThrow(/exceeds the 1000-byte limit/);
  });
});

describe('market simulator', () => {
  it('is deterministic per seed, and prices stay hidden until their time', () => {
    const a = new MarketSim({ seed: 's', t0: 0 });
    const b = new MarketSim({ seed: 's', t0: 0 });
    expect(a.batch(5)).toEqual(b.batch(5));
    expect(a.price('BTC', 300)).toBe(b.price('BTC', 300));
    expect(new MarketSim({ seed: 't', t0: 0 }).price('BTC', 300)).not.toBe(a.price('BTC', 300));
    const e = a.batch(3)[0]!;
    expect(a.resolveNow(e.id, e.resolveAt - 1)).toBeNull();
    const tape = a.tape('BTC', e.openAt)!;
    expect(tape.step).toBe(a.stepAt(e.openAt));
    expect(tape.prices.at(-1)).toBe(a.price('BTC', tape.step));
  });
});
