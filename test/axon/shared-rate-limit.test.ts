import { Redis } from 'ioredis';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, RedisRateLimitStore, type Axon } from '../../framework/axon/index.ts';
import { signHeaders } from '../../framework/btauth/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { requireRedisServer, TestRedis } from '../scale/redis.ts';
import { Echo, MemoryCallers, post, signedRequest } from './support.ts';

const available = requireRedisServer('shared per-caller rate limit (Redis)');

/** Two axon processes' worth of axons behind one hotkey, each with its own Redis connection. */
describe.skipIf(!available)('per-caller rate limit shared through Redis by several axons behind one hotkey', () => {
  let redis: TestRedis;
  let miner: Keypair;
  let bob: Keypair;
  let charlie: Keypair;
  const axons: Axon[] = [];
  const stores: RedisRateLimitStore[] = [];
  // 3 at once, then one per 10 s: refill is negligible during the test
  const RULE = { perSecond: 0.1, burst: 3 };

  beforeAll(async () => {
    await cryptoReady();
    [miner, bob, charlie] = ['//Alice', '//Bob', '//Charlie'].map((u) => keypairFromUri(u)) as [Keypair, Keypair, Keypair];
    redis = await TestRedis.start();
    const callers = new MemoryCallers().set(bob.ss58Address, { uid: 1, stake: 1_000n, validatorPermit: true }).set(charlie.ss58Address, { uid: 2, stake: 1_000n, validatorPermit: true });
    for (let i = 0; i < 2; i++) {
      const store = new RedisRateLimitStore({ redis: redis.url });
      stores.push(store);
      const axon = createAxon({ keypair: miner, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit: { ...RULE, store }, metricsAllow: ['127.0.0.1'] });
      axon.attach(Echo, (req) => ({ reply: req.text, doubled: req.n * 2 }));
      await axon.start();
      axons.push(axon);
    }
    await Promise.all(stores.map(async (s) => { while (!s.ready) await new Promise((r) => setTimeout(r, 20)); }));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(axons.map((a) => a.stop()));
    await Promise.all(stores.map((s) => s.close()));
    await redis?.down();
  });

  /** v10 Synapse wire. */
  const synapse = (i: number, caller: Keypair) => post(axons[i]!.port, 'Echo', signedRequest(Echo, { text: 'hi', n: 1 }, caller, miner.ss58Address));
  /** btauth/1 wire (same route, same bucket). */
  const btauth = async (i: number, caller: Keypair) => {
    const body = JSON.stringify({ text: 'hi', n: 1 });
    const res = await request(`http://127.0.0.1:${axons[i]!.port}/Echo`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...signHeaders(caller, { target: '/Echo', body, receiver: miner.ss58Address }) },
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers as Record<string, string>, json: JSON.parse(text) as { error?: string; message: string } };
  };
  const metric = async (i: number, line: RegExp) => {
    const text = await (await request(`http://127.0.0.1:${axons[i]!.port}/metrics`)).body.text();
    return Number(line.exec(text)?.[1] ?? 0);
  };

  it('one bucket per caller across both axons and both wires: the burst holds in total, then 429 with the reason and Retry-After', async () => {
    const statuses = [(await synapse(0, bob)).status, (await btauth(1, bob)).status, (await synapse(1, bob)).status];
    expect(statuses).toEqual([200, 200, 200]);
    const refusedA = await synapse(0, bob);
    const refusedB = await btauth(1, bob);
    console.log('3 allowed, then', refusedA.status, refusedA.headers['retry-after'], '/', refusedB.status, refusedB.json);
    expect(refusedA.status).toBe(429);
    expect(refusedB.status).toBe(429);
    expect(refusedB.json.error).toBe('rate_limited');
    expect(refusedB.json.message).toMatch(new RegExp(`^Too Many Requests: rate limit exceeded for ${bob.ss58Address}, retry in \\d+ ms$`));
    // one token per 10 s: the next is at most 10 s away
    for (const r of [refusedA, refusedB]) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(9);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(10);
    }
    // another caller has its own bucket
    expect((await btauth(0, charlie)).status).toBe(200);
    expect((await metric(0, /axon_rate_limited_total\{scope="shared"\} (\d+)/)) + (await metric(1, /axon_rate_limited_total\{scope="shared"\} (\d+)/))).toBe(2);
    // the bucket is one key that expires once it would have refilled (idle callers cost no memory)
    const r = new Redis(redis.url);
    const keys = await r.keys('axon:rate:*');
    const ttl = await r.pttl(`axon:rate:${miner.ss58Address}:${bob.ss58Address}`);
    r.disconnect();
    expect(keys.sort()).toEqual([`axon:rate:${miner.ss58Address}:${bob.ss58Address}`, `axon:rate:${miner.ss58Address}:${charlie.ss58Address}`].sort());
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000); // burst × interval
  });

  it('Redis down: fail-open to the per-process limit (no crash, no 5xx), counted; back to the shared bucket when Redis returns', async () => {
    await redis.down();
    // each axon now limits bob alone, with its own full burst of 3
    for (const i of [0, 1]) {
      const got = [];
      for (let k = 0; k < 4; k++) got.push((k % 2 === 0 ? await synapse(i, bob) : await btauth(i, bob)).status);
      expect(got).toEqual([200, 200, 200, 429]);
    }
    const errors = (await metric(0, /axon_rate_limit_store_errors_total (\d+)/)) + (await metric(1, /axon_rate_limit_store_errors_total (\d+)/));
    const fallback = (await metric(0, /axon_rate_limited_total\{scope="fallback"\} (\d+)/)) + (await metric(1, /axon_rate_limited_total\{scope="fallback"\} (\d+)/));
    console.log('while Redis was down: store errors', errors, 'fallback refusals', fallback);
    expect(errors).toBe(8);
    expect(fallback).toBe(2);
    await redis.up();
    const end = Date.now() + 10_000;
    while (!stores.every((s) => s.ready)) {
      if (Date.now() > end) throw new Error('rate limit stores did not reconnect');
      await new Promise((r) => setTimeout(r, 50));
    }
    // the AOF kept bob's bucket: still exhausted, and the shared limit decides again
    const before = await metric(1, /axon_rate_limited_total\{scope="shared"\} (\d+)/);
    expect((await synapse(1, bob)).status).toBe(429);
    expect(await metric(1, /axon_rate_limited_total\{scope="shared"\} (\d+)/)).toBe(before + 1);
  }, 30_000);

  it('a Redis that stops answering (CLIENT PAUSE) costs a request at most the 250 ms store timeout, then the process limit decides', async () => {
    const admin = new Redis(redis.url);
    const errorsBefore = await metric(0, /axon_rate_limit_store_errors_total (\d+)/);
    await admin.client('PAUSE', 1500, 'ALL');
    const t0 = performance.now();
    const res = await synapse(0, charlie); // charlie's per-process bucket is full: allowed
    const ms = performance.now() - t0;
    console.log(`request while Redis was paused: ${res.status} in ${ms.toFixed(0)} ms`);
    expect(res.status).toBe(200);
    expect(ms).toBeLessThan(1200);
    admin.disconnect();
    await new Promise((r) => setTimeout(r, 1600)); // the pause ends
    expect(await metric(0, /axon_rate_limit_store_errors_total (\d+)/)).toBe(errorsBefore + 1);
  }, 30_000);
});
