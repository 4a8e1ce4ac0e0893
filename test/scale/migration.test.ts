import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { readMeta, scaleKeys, ScaleStore, startCoordinator, startScaleWorker } from '../../framework/scale/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { makeNet, silent, type TestNet } from '../validator/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hash-commodity.ts', import.meta.url));
const available = requireRedisServer('split validator: migration, lease, metrics');

describe.skipIf(!available)('split validator: migration from the embedded state file, lease, queue metrics', () => {
  let redis: TestRedis;
  let net: TestNet;
  let commodity: Commodity;
  const miners: MinerHandle[] = [];
  let stopBlocks: () => void = () => {};

  beforeAll(async () => {
    redis = await TestRedis.start();
    commodity = (await import(FIXTURE)).default as Commodity;
    net = await makeNet({ miners: 0, tag: 'scale-migrate' });
    for (let i = 0; i < 2; i++) {
      miners.push(await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: keypairFromUri(`//Bob//scale-m${i}`), coldkey: net.minerColdkey, register: true, commodity, axon: { host: '127.0.0.1', port: 0 }, logger: silent }));
    }
    await net.chain.produceBlocks(1);
    stopBlocks = net.drive(100);
  }, 60_000);

  afterAll(async () => {
    stopBlocks();
    await Promise.all(miners.map((m) => m.stop()));
    await redis?.down();
  });

  it('imports validator.json at the first coordinator start; a second coordinator waits for the lease; /metrics has the queue', async () => {
    const ROUNDS = 6;
    process.env.SCALE_ROUNDS = String(ROUNDS);
    const v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, statePath: net.dir, options: { disableWeights: true, roundIntervalMs: 0, logger: silent } });
    while (v.state.step <= ROUNDS + 1) await new Promise((r) => setTimeout(r, 50));
    await v.stop();
    const file = JSON.parse(await readFile(join(net.dir, 'validator.json'), 'utf8')) as { scores: Record<string, number>; secret: string; step: number };
    expect(Object.keys(file.scores)).toHaveLength(2);

    // no new tasks after the import (the fixture stops at ROUNDS), so Redis must hold exactly the file's scores
    const a = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: { statePath: net.dir, leaseMs: 1500, disableWeights: true, logger: silent } });
    const r = new Redis(redis.url);
    const keys = scaleKeys(net.netuid, 0, net.validator.ss58Address);
    const store = new ScaleStore(r, r, keys);
    try {
      const meta = (await readMeta(r, keys))!;
      expect(meta.secret).toBe(file.secret);
      expect(meta.importedFrom).toBe(join(net.dir, 'validator.json'));
      expect(await store.step()).toBeGreaterThanOrEqual(file.step);
      expect(await a.scores()).toEqual(file.scores);

      // a second coordinator for the same hotkey blocks until the first lets go
      let bStarted = false;
      const b = startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: { statePath: net.dir, leaseMs: 1500, disableWeights: true, logger: silent } }).then((h) => {
        bStarted = true;
        return h;
      });
      await new Promise((res) => setTimeout(res, 2500));
      expect(bStarted).toBe(false);

      // rounds continue on the imported state once the rounds cap is lifted; a worker scores them
      process.env.SCALE_ROUNDS = String(ROUNDS + 1000);
      const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, lockMs: 1000, logger: silent });
      const before = (await store.counters()).cursor;
      while ((await store.counters()).cursor < before + 3) await new Promise((res) => setTimeout(res, 100));
      const text = await a.metrics.metrics();
      for (const m of ['subnet_scale_queue_jobs{queue="tasks",state="waiting"}', 'subnet_scale_queue_oldest_waiting_seconds', 'subnet_scale_tasks{outcome="rewarded"}', 'subnet_scale_results_backlog', 'subnet_scale_coordinator_lease 1']) expect(text).toContain(m);
      const after = await a.scores();
      for (const hk of Object.keys(file.scores)) expect(after[hk]).not.toBe(file.scores[hk]); // new tasks applied on top of the imported scores
      await a.stop();
      const second = await b; // took over after the release
      expect(bStarted).toBe(true);
      expect((await second.metrics.metrics())).toContain('subnet_scale_coordinator_lease 1');
      await second.stop();
      await w.stop();
    } finally {
      r.disconnect();
    }
  }, 120_000);

  it('delayed tasks: parked in the Redis pending queue by a worker, dispatched when due, applied once', async () => {
    const delayed = (await import('../e2e/fixtures/delayed-commodity.ts')).default as unknown as Commodity;
    const r = new Redis(redis.url);
    await r.flushall();
    const keys = scaleKeys(net.netuid, 0, net.validator.ss58Address);
    const store = new ScaleStore(r, r, keys);
    // two miners serving the delayed commodity (the hash miners answer its route with errors: reward 0)
    const dkeys = [0, 1].map((i) => keypairFromUri(`//Bob//scale-d${i}`));
    const dm: MinerHandle[] = [];
    for (let i = 0; i < 2; i++) dm.push(await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: dkeys[i]!, coldkey: net.minerColdkey, register: true, commodity: delayed, axon: { host: '127.0.0.1', port: 0 }, logger: silent }));
    const c = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: delayed, redisUrl: redis.url, options: { leaseMs: 1500, roundIntervalMs: 200, resyncEveryBlocks: 1, disableWeights: true, logger: silent } });
    const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: delayed, redisUrl: redis.url, lockMs: 1000, resyncEveryBlocks: 1, logger: silent });
    try {
      const dk = dkeys.map((k) => k.ss58Address);
      const t0 = Date.now();
      for (;;) {
        const scores = await c.scores();
        if (dk.every((hk) => (scores[hk] ?? 0) >= 0.19)) break; // ≥ 2 delayed rewards of 1 each (EMA 0.1)
        if (Date.now() - t0 > 60_000) throw new Error(`delayed tasks never scored: ${JSON.stringify(await store.counters())}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      const scored = await r.zrange(keys.scoredPending, 0, -1);
      const counts = await r.hgetall(keys.counts);
      expect(scored.length).toBeGreaterThanOrEqual(2);
      // each applied delayed task counted once per miner: applications = scored delayed tasks
      for (const hk of dk) expect(Number(counts[hk])).toBe(scored.length);
    } finally {
      await w.stop();
      await c.stop();
      await Promise.all(dm.map((m) => m.stop()));
      r.disconnect();
    }
  }, 120_000);

  it('the lease holder sets weights from the shared scores', async () => {
    const r = new Redis(redis.url);
    await r.flushall();
    r.disconnect();
    process.env.SCALE_ROUNDS = '1000000';
    const c = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: { leaseMs: 1500, roundIntervalMs: 50, logger: silent } });
    const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, lockMs: 1000, logger: silent });
    try {
      let outcome = await c.nextWeightsAttempt();
      for (let i = 0; i < 10 && outcome !== 'set'; i++) outcome = await c.nextWeightsAttempt();
      expect(outcome).toBe('set');
      const vuid = (await net.chain.getUid(net.netuid, net.validator.ss58Address))!;
      const weights = await net.chain.getWeights(net.netuid, vuid);
      const mg = await net.chain.getMetagraph(net.netuid);
      const scores = await c.scores();
      // the hash miners (honest) carry weight; our own uid none
      const weighted = new Set(weights.filter(([, v]) => v > 0).map(([u]) => mg.hotkeys[u]));
      for (const hk of Object.keys(scores).filter((k) => (scores[k] ?? 0) > 0)) expect(weighted.has(hk)).toBe(true);
      expect(weighted.has(net.validator.ss58Address)).toBe(false);
    } finally {
      await w.stop();
      await c.stop();
    }
  }, 120_000);
});
