import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BullPendingStore } from '../../framework/commodity/pending-bullmq.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { readMeta, scaleKeys, startCoordinator, startScaleWorker } from '../../framework/scale/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import type { WeightOutcome } from '../../framework/validator/commit-reveal.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { makeNet, silent, type TestNet } from '../validator/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const HASH = fileURLToPath(new URL('./fixtures/hash-commodity.ts', import.meta.url));
const available = requireRedisServer('split validator: commit-reveal weights, pending.json import');

describe.skipIf(!available)('split validator (in-process coordinator + worker on a real Redis)', () => {
  let redis: TestRedis;
  const nets: TestNet[] = [];
  const miners: MinerHandle[] = [];
  const stops: Array<() => void> = [];

  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    for (const s of stops) s();
    await Promise.all(miners.map((m) => m.stop()));
    await Promise.all(nets.map((n) => n.chain.close()));
    await redis?.down();
  });

  async function netWithMiners(tag: string, commodity: Commodity, hyper: Parameters<typeof makeNet>[0]['hyper']): Promise<TestNet> {
    const net = await makeNet({ miners: 0, tag, hyper });
    nets.push(net);
    for (let i = 0; i < 2; i++) {
      miners.push(await startMiner({ chain: net.chain, netuid: net.netuid, hotkey: keypairFromUri(`//Bob//${tag}-${i}`), coldkey: net.minerColdkey, register: true, commodity, axon: { host: '127.0.0.1', port: 0 }, logger: silent }));
    }
    await net.chain.produceBlocks(1);
    return net;
  }

  beforeEach(async () => {
    // each test's LocalChain has netuid 1 and the same validator hotkey: the same Redis keys
    const r = new Redis(redis.url);
    await r.flushall();
    r.disconnect();
  });

  /** The next weights outcome, or a clear failure instead of a hung test. */
  const attempt = (c: { nextWeightsAttempt(): Promise<WeightOutcome> }) =>
    Promise.race([c.nextWeightsAttempt(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no weights attempt within 60 s')), 60_000))]);
  const commitsLeft = (m: Awaited<ReturnType<typeof readMeta>>) => (m?.commits ?? []).map((c) => c.hash);

  it('commit-reveal: the coordinator commits, a successor coordinator reveals from the commit kept in Redis', async () => {
    process.env.SCALE_ROUNDS = '1000000';
    const commodity = (await import(HASH)).default as Commodity;
    const net = await netWithMiners('scale-cr', commodity, { commitRevealWeightsEnabled: true, tempo: 3, revealPeriodEpochs: 1, weightsSetRateLimit: 2 });
    let driving = net.drive(60);
    stops.push(() => driving());
    const keys = scaleKeys(net.netuid, 0, net.validator.ss58Address);
    const opts = { leaseMs: 1500, roundIntervalMs: 50, logger: silent };
    const r = new Redis(redis.url);
    let a: Awaited<ReturnType<typeof startCoordinator>> | undefined;
    let b: typeof a;
    let w: Awaited<ReturnType<typeof startScaleWorker>> | undefined;
    try {
      a = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: opts });
      w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, lockMs: 1000, logger: silent });
      const first: WeightOutcome[] = [];
      while (!first.includes('committed') && first.length < 20) first.push(await attempt(a));
      expect(first).toContain('committed');
      // the chain waits while A hands over to B: under load B's start-up could otherwise outlast the reveal
      // window (one 4-block epoch at 60 ms a block), and the commit would expire rather than be revealed
      driving();
      const vuid = (await net.chain.getUid(net.netuid, net.validator.ss58Address))!;
      expect(await net.chain.getWeights(net.netuid, vuid)).toEqual([]); // committed, not visible yet
      await a.stop();
      // from here on B must not commit again: what it reveals can only be A's commit, read from Redis
      await net.chain.setHyperparameters(net.owner, net.netuid, { weightsSetRateLimit: 100_000 });
      const commits = (await readMeta(r, keys))!.commits;
      expect(commits).toHaveLength(1);

      b = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: opts });
      driving = net.drive(60);
      const then: WeightOutcome[] = [];
      while (commitsLeft(await readMeta(r, keys)).includes(commits[0]!.hash) && then.length < 20) then.push(await attempt(b));
      console.log('coordinator A:', first, 'successor B:', then);
      expect(then).toEqual(['revealed']);
      const weights = await net.chain.getWeights(net.netuid, vuid);
      const mg = await net.chain.getMetagraph(net.netuid);
      const scores = await b.scores();
      const weighted = new Set(weights.filter(([, v]) => v > 0).map(([u]) => mg.hotkeys[u]));
      const scored = Object.keys(scores).filter((hk) => (scores[hk] ?? 0) > 0);
      expect(scored.length).toBe(2);
      for (const hk of scored) expect(weighted.has(hk)).toBe(true);
    } finally {
      await a?.stop();
      await b?.stop();
      await w?.stop();
      r.disconnect();
    }
  }, 120_000);

  it('a coordinator that loses its lease stops setting weights, and sets them again once it holds the lease back', async () => {
    process.env.SCALE_ROUNDS = '1000000';
    const commodity = (await import(HASH)).default as Commodity;
    const net = await netWithMiners('scale-lease', commodity, { weightsSetRateLimit: 2 });
    stops.push(net.drive(60));
    const keys = scaleKeys(net.netuid, 0, net.validator.ss58Address);
    const a = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, options: { leaseMs: 1500, roundIntervalMs: 50, logger: silent } });
    const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity, redisUrl: redis.url, lockMs: 1000, logger: silent });
    const r = new Redis(redis.url);
    const vuid = (await net.chain.getUid(net.netuid, net.validator.ss58Address))!;
    const lastUpdate = async () => (await net.chain.getMetagraph(net.netuid)).lastUpdate[vuid] ?? 0;
    try {
      let o = await attempt(a);
      for (let i = 0; i < 10 && o !== 'set'; i++) o = await attempt(a);
      expect(o).toBe('set');
      // another holder takes the key (as a coordinator would after A failed to renew in time)
      await r.set(keys.lease, 'someone-else', 'PX', 4000);
      await new Promise((res) => setTimeout(res, 1000)); // A's next renewal (every TTL/3) finds it gone
      const frozen = await lastUpdate();
      const blockThen = (await net.chain.getBlock()).number;
      await new Promise((res) => setTimeout(res, 2000));
      const blocksPassed = (await net.chain.getBlock()).number - blockThen;
      expect(blocksPassed).toBeGreaterThan(10); // ≥ 5 rate-limit windows in which A would have set weights
      expect(await lastUpdate()).toBe(frozen);
      expect(await a.metrics.metrics()).toContain('subnet_scale_coordinator_lease 0');
      // the stolen lease expires; A takes it back and sets weights again
      o = await attempt(a);
      for (let i = 0; i < 10 && o !== 'set'; i++) o = await attempt(a);
      expect(o).toBe('set');
      expect(await lastUpdate()).toBeGreaterThan(frozen);
      console.log('weights frozen for', blocksPassed, 'blocks without the lease; set again after re-acquiring it');
    } finally {
      await w.stop();
      await a.stop();
      r.disconnect();
    }
  }, 120_000);

  it('moving from embedded to Redis imports pending.json: every delayed task in flight is scored once, after the move', async () => {
    const delayed = (await import('../e2e/fixtures/delayed-commodity.ts')).default as unknown as Commodity;
    const net = await netWithMiners('scale-pend', delayed, {});
    // embedded: a few rounds, fewer blocks than the delay, so every task is still pending at the stop
    const v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: delayed, statePath: net.dir, options: { disableWeights: true, roundIntervalMs: 0, logger: silent } });
    for (let i = 0; i < 4; i++) {
      await net.chain.produceBlocks(1);
      await new Promise((res) => setTimeout(res, 150));
    }
    await v.stop();
    const file = JSON.parse(await readFile(join(net.dir, 'pending.json'), 'utf8')) as { tasks: Array<{ id: string }> };
    const ids = file.tasks.map((t) => t.id);
    expect(ids.length).toBeGreaterThan(0);

    const keys = scaleKeys(net.netuid, 0, net.validator.ss58Address);
    const c = await startCoordinator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: delayed, redisUrl: redis.url, options: { statePath: net.dir, leaseMs: 1500, roundIntervalMs: 200, resyncEveryBlocks: 1, disableWeights: true, logger: silent } });
    const r = new Redis(redis.url);
    const pending = new BullPendingStore({ connection: r, queueName: keys.pendingQueue });
    const w = await startScaleWorker({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: delayed, redisUrl: redis.url, lockMs: 1000, resyncEveryBlocks: 1, logger: silent });
    try {
      for (const id of ids) expect(await pending.has(id)).toBe(true); // copied with their ids
      stops.push(net.drive(60));
      const t0 = Date.now();
      for (;;) {
        const scored = await r.zmscore(keys.scoredPending, ...ids);
        if (scored.every((s) => s !== null)) break;
        if (Date.now() - t0 > 60_000) throw new Error(`imported pending tasks never scored: ${JSON.stringify(await c.counters())}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      for (const id of ids) expect(await pending.has(id)).toBe(false);
      // each miner was rewarded once per applied delayed task (imported ones included, none twice)
      const counts = await r.hgetall(keys.counts);
      const applied = await r.zcard(keys.scoredPending);
      console.log('imported pending tasks', ids.length, 'delayed tasks applied in Redis', applied, 'applications per miner', counts);
      for (const n of Object.values(counts)) expect(Number(n)).toBe(applied);
    } finally {
      await w.stop();
      await c.stop();
      await pending.close();
      r.disconnect();
    }
  }, 120_000);
});
