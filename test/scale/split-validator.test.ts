import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { scaleKeys, ScaleStore, type ScaleCounters } from '../../framework/scale/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import type { Keypair } from '../../framework/wallet/index.ts';
import { ProcessGroup, connect, createSubnet, createWallets, startLocalnet, tempDir, type Proc } from '../e2e/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';
import { hashLoop } from './fixtures/hash-commodity.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hash-commodity.ts', import.meta.url));
const SOAK = process.env.SCALE_SOAK === '1';

const available = requireRedisServer('split validator (coordinator + workers on BullMQ)');

describe.skipIf(!available)('split validator: coordinator + worker processes on a real Redis', () => {
  const group = new ProcessGroup();
  const miners: MinerHandle[] = [];
  let redis: TestRedis;
  let client: LocalnetClient;
  let dir: string;
  let netuid: number;
  let validatorHotkey: string;
  let env: NodeJS.ProcessEnv;
  let chainFlags: string[];
  const honest: string[] = [];
  let ownerHotkey: Keypair;
  let cheater = '';
  /** Distinct seeds each honest miner was asked, and all requests (retries included). */
  const seen = new Map<string, Set<string>>();
  let requests = 0;

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(30))));

  beforeAll(async () => {
    redis = await TestRedis.start();
    dir = await tempDir('scale');
    const wallets = join(dir, 'wallets');
    env = { BT_WALLET_PATH: wallets, LOG_LEVEL: 'info' };
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'm0', 'm1', 'm2']);
    netuid = await createSubnet(client, w.owner!, { tempo: 1000, weightsSetRateLimit: 1000, commitRevealWeightsEnabled: false, servingRateLimit: 0 });
    validatorHotkey = w.owner!.hotkey.ss58Address;
    ownerHotkey = w.owner!.hotkey;
    chainFlags = ['--name', 'owner', '--chain', net.url, '--netuid', String(netuid), '--commodity', FIXTURE, '--disable-weights', '--resync-blocks', '50'];
    const commodity = (await import(FIXTURE)).default as Commodity;
    for (const [i, name] of ['m0', 'm1', 'm2'].entries()) {
      const hk = w[name]!.hotkey.ss58Address;
      const cheat = i === 2;
      if (cheat) cheater = hk;
      else {
        honest.push(hk);
        seen.set(hk, new Set());
      }
      miners.push(await startMiner({
        chain: client, netuid, hotkey: w[name]!.hotkey, coldkey: w[name]!.coldkey, commodity, register: true, logger: pino({ level: 'silent' }),
        axon: { host: '127.0.0.1', port: 0 },
        // the cheapest cheat: a made-up digest without doing the work
        miner: {
          handle: (q: Record<string, unknown>) => {
            requests++;
            if (cheat) return { digest: 'f'.repeat(64) };
            seen.get(hk)!.add(String(q.seed));
            return { digest: hashLoop(String(q.seed), Number(q.k)) };
          },
        },
      }));
    }
    await group.until('three miners serving', async () => {
      const m = await client.getMetagraph(netuid);
      return [...honest, cheater].every((hk) => (m.axons[m.hotkeys.indexOf(hk)]?.port ?? 0) > 0);
    }, 60_000);
  }, 180_000);

  afterAll(async () => {
    await group.killAll();
    await Promise.all(miners.map((m) => m.stop()));
    await client?.close();
    await redis?.down();
  });

  const storeOf = () => {
    const r = new Redis(redis.url, { maxRetriesPerRequest: null });
    r.on('error', () => {});
    return { r, store: new ScaleStore(r, r, scaleKeys(netuid, 0, validatorHotkey)) };
  };

  async function settled(rounds: number, timeoutMs: number): Promise<ScaleCounters> {
    const { r, store } = storeOf();
    try {
      return await group.until(`all ${rounds} rounds generated and applied`, async () => {
        const c = await store.counters();
        return (await store.step()) > rounds && c.cursor === c.allocated && c.allocated > 0 && c;
      }, timeoutMs, 250);
    } finally {
      r.disconnect();
    }
  }

  it('coordinator + 3 forked workers score exactly as the embedded validator on the same tasks', async () => {
    const ROUNDS = 24;
    process.env.SCALE_ROUNDS = String(ROUNDS);
    // the embedded validator, in-process (no Redis), on the same chain and miners
    const commodity = (await import(FIXTURE)).default as Commodity;
    const kp = ownerHotkey;
    const embedded = await startValidator({ chain: client, netuid, hotkey: kp, commodity, statePath: join(dir, 'embedded'), options: { disableWeights: true, roundIntervalMs: 0, logger: pino({ level: 'silent' }) } });
    try {
      await group.until('embedded rounds done', () => embedded.state.step > ROUNDS + 1, 60_000, 100);
    } finally {
      await embedded.stop();
    }
    const single = embedded.state.scores();

    const coord = group.subnet('coordinator --workers 3', ['validator', ...chainFlags, '--redis', redis.url, '--workers', '3', '--round-interval-ms', '1', '--state-dir', join(dir, 'split')], { ...env, SCALE_ROUNDS: String(ROUNDS) });
    await coord.waitFor(/"msg":"forked local worker processes"/, 60_000);
    const c = await settled(ROUNDS, 90_000);
    const { r, store } = storeOf();
    const split = Object.fromEntries(await store.scores());
    r.disconnect();
    console.table([...honest, cheater].map((hk) => ({ miner: hk === cheater ? 'cheater' : 'honest', embedded: single[hk], split: split[hk] })));
    console.log('tasks', c);
    expect(c).toMatchObject({ allocated: ROUNDS, rewarded: ROUNDS, lost: 0, failed: 0, skipped: 0 });
    // bit-identical: results are applied in task order with the commodity's own aggregate
    expect(split).toEqual(single);
    for (const hk of honest) expect(split[hk]).toBeGreaterThan(0.5);
    expect(split[cheater]).toBe(0);
    await coord.kill('SIGTERM');
  }, 240_000);

  it('SIGKILL of workers and coordinator at random points, and a Redis restart: no task lost or counted twice', async () => {
    const KILLS = SOAK ? 200 : 20;
    const ROUNDS = SOAK ? 2000 : 100;
    await (async () => {
      const { r } = storeOf();
      await r.flushall();
      r.disconnect();
    })();
    for (const s of seen.values()) s.clear();
    requests = 0;
    const penv = { ...env, SCALE_ROUNDS: String(ROUNDS), SCALE_AGGREGATE: 'sum', SCALE_SCORE_COST: '30000' };
    const common = [...chainFlags, '--redis', redis.url, '--job-lock-ms', '1000', '--lease-ms', '2000', '--state-dir', join(dir, 'kill')];
    const spawnCoordinator = () => group.subnet('coordinator', ['validator', ...common, '--role', 'coordinator', '--round-interval-ms', '40', '--max-queued', '8', '--scored-retention-ms', '3600000'], penv);
    const spawnWorker = (i: number) => group.subnet(`worker ${i}`, ['validator', ...common, '--role', 'worker'], penv);
    let coordinator: Proc = spawnCoordinator();
    const workers: Proc[] = [0, 1, 2].map(spawnWorker);
    await coordinator.waitFor(/"msg":"coordinator started"/, 60_000);
    const killed = { worker: 0, coordinator: 0, redisRestarts: 0 };
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < KILLS; i++) {
      await new Promise((res) => setTimeout(res, 300 + rand() * 700));
      if (i === Math.floor(KILLS / 2)) {
        await redis.down();
        await new Promise((res) => setTimeout(res, 800));
        await redis.up();
        killed.redisRestarts++;
      }
      if (i % 4 === 3) {
        await coordinator.kill('SIGKILL');
        coordinator = spawnCoordinator();
        killed.coordinator++;
      } else {
        const w = Math.floor(rand() * workers.length);
        await workers[w]!.kill('SIGKILL');
        workers[w] = spawnWorker(w);
        killed.worker++;
      }
    }
    const c = await settled(ROUNDS, SOAK ? 1_800_000 : 120_000);
    const { r, store } = storeOf();
    const scores = Object.fromEntries(await store.scores());
    const counts = await r.hgetall(scaleKeys(netuid, 0, validatorHotkey).counts);
    r.disconnect();
    const rows = honest.map((hk) => ({ miner: hk.slice(0, 8), score: scores[hk], applications: Number(counts[hk]), distinctTasksAsked: seen.get(hk)!.size }));
    // each task asks 3 miners once; more requests mean jobs a SIGKILL interrupted after the query, re-run elsewhere
    console.log('kills', killed, 'miner requests', requests, 'tasks re-run after a kill mid-job', Math.round((requests - 3 * c.rewarded) / 3));
    console.log('tasks', c);
    console.table(rows);
    expect(killed.worker + killed.coordinator).toBe(KILLS);
    expect(c.lost).toBe(0);
    expect(c.failed).toBe(0);
    expect(c.allocated).toBe(c.rewarded + c.skipped);
    // skips only for seqs a coordinator allocated and died before queueing (no miner ever saw those)
    expect(c.skipped).toBe(c.neverDispatched);
    expect(c.rewarded).toBeGreaterThanOrEqual(ROUNDS - killed.coordinator * 2);
    for (const row of rows) {
      // sum aggregate, reward 1: the score counts applications; every task a miner was asked counts exactly once
      expect(row.score).toBe(c.rewarded);
      expect(row.applications).toBe(c.rewarded);
      expect(row.distinctTasksAsked).toBe(c.rewarded);
    }
    expect(scores[cheater]).toBe(0);
  }, SOAK ? 3_600_000 : 300_000);
});
