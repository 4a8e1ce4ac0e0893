/**
 * `subnet validator --redis … --mechanism 0=square --mechanism 1=cube --workers 1` as real processes: one
 * coordinator per mechanism in the coordinator process (own Redis keys and lease), both mechanisms' workers in
 * the forked worker; each mechanism's weights on chain follow its own commodity.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner, type MinerHandle } from '../../framework/miner/index.ts';
import { ProcessGroup, connect, createSubnet, createWallets, logLines, startLocalnet, tempDir } from '../e2e/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const SQUARE = fileURLToPath(new URL('./fixtures/square-commodity.ts', import.meta.url));
const CUBE = fileURLToPath(new URL('./fixtures/cube-commodity.ts', import.meta.url));
const available = requireRedisServer('split validator: two mechanisms');

describe.skipIf(!available)('split validator with --mechanism: one coordinator and worker per mechanism', () => {
  const group = new ProcessGroup();
  const miners: MinerHandle[] = [];
  let redis: TestRedis;
  let client: LocalnetClient;

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(30))));
  afterAll(async () => {
    await group.killAll();
    await Promise.all(miners.map((m) => m.stop()));
    await client?.close();
    await redis?.down();
  });
  beforeAll(async () => {
    redis = await TestRedis.start();
  });

  it("each mechanism's weights follow its own commodity", async () => {
    const dir = await tempDir('scale-mech');
    const wallets = join(dir, 'wallets');
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'sq', 'cu']);
    const netuid = await createSubnet(client, w.owner!, { tempo: 1000, weightsSetRateLimit: 3, commitRevealWeightsEnabled: false, servingRateLimit: 0, maxAllowedUids: 128, mechanismCount: 2 });
    const square = (await import(SQUARE)).default as Commodity;
    const cube = (await import(CUBE)).default as Commodity;
    type Q = { x: number };
    // miner sq: right at square, wrong at cube; miner cu: the other way round
    for (const [name, sq, cu] of [['sq', true, false], ['cu', false, true]] as const) {
      const m = await startMiner({
        chain: client, netuid, hotkey: w[name]!.hotkey, coldkey: w[name]!.coldkey, commodity: square, register: true, logger: pino({ level: 'silent' }), axon: { host: '127.0.0.1', port: 0 },
        miner: { handle: async (q: Q) => ({ y: sq ? q.x ** 2 : q.x }) } as never,
      });
      m.axon.attach(cube.synapse, (q) => ({ y: cu ? (q as Q).x ** 3 : (q as Q).x }) as never);
      miners.push(m);
    }
    const v = group.subnet('validator, 2 mechanisms, 1 worker', [
      'validator', '--name', 'owner', '--chain', net.url, '--netuid', String(netuid), '--mechanism', `0=${SQUARE}`, '--mechanism', `1=${CUBE}`,
      '--redis', redis.url, '--workers', '1', '--lease-ms', '2000', '--round-interval-ms', '100', '--state-dir', join(dir, 'state'),
    ], { BT_WALLET_PATH: wallets, LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    await v.waitFor(/split validator running 0:SquareSynapse 1:CubeSynapse/, 60_000);
    const vuid = (await client.getUid(netuid, w.owner!.hotkey.ss58Address))!;
    const [sqUid, cuUid] = await Promise.all([client.getUid(netuid, w.sq!.hotkey.ss58Address), client.getUid(netuid, w.cu!.hotkey.ss58Address)]);
    const at = (row: Array<[number, number]>, u: number | null) => row.find(([j]) => j === u)?.[1] ?? 0;
    let rows: Array<Array<[number, number]>> = [[], []];
    await group.until('weights on both mechanisms', async () => {
      rows = await Promise.all([client.getWeights(netuid, vuid), client.getWeights(netuid, vuid, { mechid: 1 })]);
      return (at(rows[0]!, sqUid) === 65535 && at(rows[1]!, cuUid) === 65535) || undefined;
    }, 60_000, 250);
    console.log(`mechanism 0 (square) weights ${JSON.stringify(rows[0])}, mechanism 1 (cube) ${JSON.stringify(rows[1])}; coordinators started: ${logLines(v, 'coordinator started').length}`);
    expect(at(rows[0]!, cuUid)).toBe(0);
    expect(at(rows[1]!, sqUid)).toBe(0);
    expect(logLines(v, 'coordinator started')).toHaveLength(2);
  }, 150_000);
});
