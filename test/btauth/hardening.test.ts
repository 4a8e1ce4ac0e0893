import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAxon, type Axon } from '../../framework/axon/index.ts';
import { defineSynapse } from '../../framework/protocol/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';
import { MemoryCallers } from '../axon/support.ts';
import { signedPost } from './support.ts';

// The protections of the hardening work (admission caps per caller and for low stake, bytes in flight
// before admission) on the btauth/1 route, the default wire — not only on the v10 path.
const silent = pino({ level: 'silent' });
const Slow = defineSynapse({ name: 'Slow', request: z.object({ ms: z.number().int() }), response: z.object({ ok: z.boolean() }) });
const Echo = defineSynapse({ name: 'Echo', request: z.object({ data: z.string() }), response: z.object({ n: z.number() }) });
const TAO = 1_000_000_000n;

let miner: Keypair;
let staked: Keypair;
let flooder: Keypair;
const callers = new MemoryCallers();
const axons: Axon[] = [];

beforeAll(async () => {
  await cryptoReady();
  miner = keypairFromUri('//Bob');
  staked = keypairFromUri('//Alice');
  flooder = keypairFromUri('//Eve');
  callers.set(staked.ss58Address, { uid: 1, stake: 1000n * TAO, validatorPermit: true });
  callers.set(flooder.ss58Address, { uid: 2, stake: 0n, validatorPermit: false });
});
afterAll(async () => {
  await Promise.all(axons.map((a) => a.stop()));
});

async function start(opts: Parameters<typeof createAxon>[0]): Promise<Axon> {
  const a = createAxon(opts);
  a.attach(Slow, async (req) => {
    await new Promise((r) => setTimeout(r, req.ms));
    return { ok: true };
  }, { path: '/slow', timeoutMs: 20_000 });
  a.attach(Echo, (req) => ({ n: req.data.length }), { path: '/echo', timeoutMs: 20_000 });
  await a.start();
  axons.push(a);
  return a;
}

describe('btauth/1 route under hostile load', () => {
  it('a zero-stake flood of slow requests cannot hold the slots a staked validator needs', async () => {
    const a = await start({ keypair: miner, callers, host: '127.0.0.1', port: 0, logger: silent, rateLimit: false, admission: { maxConcurrent: 8, maxQueue: 256 }, maxTimeoutMs: 60_000 });
    const flood = Array.from({ length: 48 }, () => signedPost(a.port, flooder, miner.ss58Address, '/slow', { ms: 3000 }));
    await new Promise((r) => setTimeout(r, 300)); // let the flood take what it may
    const latencies: number[] = [];
    let ok = 0;
    for (let i = 0; i < 10; i++) {
      const t = Date.now();
      const r = await signedPost(a.port, staked, miner.ss58Address, '/slow', { ms: 5 });
      latencies.push(Date.now() - t);
      if (r.status === 200) ok++;
    }
    latencies.sort((x, y) => x - y);
    const p99 = latencies[latencies.length - 1]!;
    process.stdout.write(`btauth starvation: staked caller ${ok}/10 answered 200, p50 ${latencies[5]} ms, max ${p99} ms during a 48-request zero-stake flood of 3 s requests\n`);
    expect(ok).toBe(10);
    // Without the caps every slot is held by the flood and the staked request waits for one to finish (≥ 2.7 s).
    expect(p99).toBeLessThan(2000);
    await Promise.allSettled(flood);
  }, 60_000);

  it('bytes in flight are bounded per caller before admission (503, body not kept)', async () => {
    const a = await start({
      keypair: miner, callers, host: '127.0.0.1', port: 0, logger: silent, rateLimit: false,
      bodyLimitBytes: 512 * 1024, inflight: { maxBytes: 8 * 1024 * 1024, maxBytesPerCaller: 1024 * 1024 },
      admission: { maxConcurrent: 1, maxQueue: 64 }, maxTimeoutMs: 60_000,
    });
    // hold the only slot so bodies pile up in the queue
    const holder = signedPost(a.port, staked, miner.ss58Address, '/slow', { ms: 1500 });
    await new Promise((r) => setTimeout(r, 100));
    const big = 'x'.repeat(400 * 1024);
    const burst = await Promise.all(Array.from({ length: 8 }, () => signedPost(a.port, flooder, miner.ss58Address, '/echo', { data: big })));
    const statuses = burst.map((r) => r.status);
    process.stdout.write(`btauth bytes in flight: 8 × 400 KiB from one caller (per-caller budget 1 MiB): ${statuses.filter((s) => s === 200).length} × 200, ${statuses.filter((s) => s === 503).length} × 503\n`);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(4);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect((await holder).status).toBe(200);
  }, 60_000);
});
