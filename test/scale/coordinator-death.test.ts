import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { startCoordinator, type CoordinatorHandle } from '../../framework/scale/index.ts';
import { ProcessGroup, connect, createSubnet, createWallets, logLines, startLocalnet, tempDir } from '../e2e/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hash-commodity.ts', import.meta.url));
const available = requireRedisServer('split validator: coordinator SIGKILL (lease takeover, forked workers exit)');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!available)('a SIGKILLed coordinator process: its forked workers exit, a waiting coordinator takes the lease and sets weights', () => {
  const group = new ProcessGroup();
  const miners: MinerHandle[] = [];
  let redis: TestRedis;
  let client: LocalnetClient;
  let args: string[];
  let env: NodeJS.ProcessEnv;
  let netuid: number;
  let ownerHotkey: Parameters<typeof startCoordinator>[0]['hotkey'];
  let commodity: Commodity;

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(30))));

  beforeAll(async () => {
    redis = await TestRedis.start();
    const dir = await tempDir('coord-death');
    const wallets = join(dir, 'wallets');
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'm0', 'm1']);
    netuid = await createSubnet(client, w.owner!, { tempo: 1000, weightsSetRateLimit: 3, commitRevealWeightsEnabled: false, servingRateLimit: 0 });
    ownerHotkey = w.owner!.hotkey;
    commodity = (await import(FIXTURE)).default as Commodity;
    for (const name of ['m0', 'm1']) {
      miners.push(await startMiner({ chain: client, netuid, hotkey: w[name]!.hotkey, coldkey: w[name]!.coldkey, commodity, register: true, logger: pino({ level: 'silent' }), axon: { host: '127.0.0.1', port: 0 } }));
    }
    env = { BT_WALLET_PATH: wallets, LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    args = ['validator', '--name', 'owner', '--chain', net.url, '--netuid', String(netuid), '--commodity', FIXTURE, '--redis', redis.url, '--lease-ms', '2000', '--round-interval-ms', '100', '--state-dir', join(dir, 'state')];
  }, 120_000);

  afterAll(async () => {
    await group.killAll();
    await Promise.all(miners.map((m) => m.stop()));
    await client?.close();
    await redis?.down();
  });

  it('SIGKILL of `subnet validator --redis --workers 2`: no orphan workers; the waiting coordinator could not set weights before, and does after', async () => {
    // its metrics port admits only 10.9.9.9: this test's 127.0.0.1 gets 403 (--metrics-allow in split mode)
    const a = group.subnet('coordinator A --workers 2', [...args, '--workers', '2', '--metrics-port', '0', '--metrics-allow', '10.9.9.9'], env);
    await a.waitFor(/"msg":"coordinator started"/, 60_000);
    const metricsPort = Number((await group.until('metrics port', () => logLines(a, 'metrics on /metrics')[0], 30_000)).port);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(403);
    await group.until('two forked workers ready', () => logLines(a, 'scale worker ready').length >= 2 || undefined, 60_000);
    const pids = logLines(a, 'scale worker ready').map((l) => Number(l.pid));
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    await group.until('A sets weights', () => logLines(a, 'weights set').length >= 1 || undefined, 60_000);

    // B (same hotkey) waits for the lease while A lives; A keeps setting weights meanwhile
    let b: CoordinatorHandle | null = null;
    const bStarting = startCoordinator({ chain: client, netuid, hotkey: ownerHotkey, commodity, redisUrl: redis.url, options: { leaseMs: 2000, roundIntervalMs: 100, logger: pino({ level: 'silent' }) } }).then((h) => (b = h));
    const setByA = logLines(a, 'weights set').length;
    await new Promise((r) => setTimeout(r, 5000)); // 2.5 × the lease TTL
    expect(b).toBeNull();
    expect(logLines(a, 'weights set').length).toBeGreaterThan(setByA);

    await a.kill('SIGKILL');
    const killedAt = Date.now();
    // the workers notice the closed IPC channel and stop
    await group.until('forked workers gone', () => pids.every((p) => !alive(p)) || undefined, 20_000, 100);
    const orphansGoneMs = Date.now() - killedAt;
    await bStarting;
    const takeoverMs = Date.now() - killedAt;
    let outcome = await b!.nextWeightsAttempt();
    for (let i = 0; i < 10 && outcome !== 'set'; i++) outcome = await b!.nextWeightsAttempt();
    console.log({ workersGoneAfterMs: orphansGoneMs, takeoverAfterMs: takeoverMs, weightsSetByA: logLines(a, 'weights set').length, firstOutcomeOfB: outcome });
    expect(outcome).toBe('set');
    expect(takeoverMs).toBeLessThan(2000 + 5000); // lease TTL + polling and start-up slack
    await b!.stop();
  }, 180_000);
});
