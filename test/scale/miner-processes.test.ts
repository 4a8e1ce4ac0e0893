import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signHeaders } from '../../framework/btauth/index.ts';
import type { LocalnetClient } from '../../framework/chain/index.ts';
import type { Keypair } from '../../framework/wallet/index.ts';
import { RAO_PER_TAO } from '../../framework/chain/index.ts';
import { ProcessGroup, connect, createSubnet, createWallets, startLocalnet, tempDir } from '../e2e/support.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/hash-commodity.ts', import.meta.url));
const available = requireRedisServer('two subnet miner processes behind one hotkey (shared replay memory and rate limit)');

describe.skipIf(!available)('two `subnet miner` processes, one hotkey, one Redis (--btauth-redis)', () => {
  const group = new ProcessGroup();
  let redis: TestRedis;
  let client: LocalnetClient;
  let validator: Keypair;
  let minerHotkey: string;
  const ports: number[] = [];

  beforeEach((ctx) => ctx.onTestFailed(() => console.error(group.tails(30))));

  beforeAll(async () => {
    redis = await TestRedis.start();
    const dir = await tempDir('miners');
    const wallets = join(dir, 'wallets');
    const net = await startLocalnet(group, { port: 0, state: join(dir, 'chain.json'), fresh: true });
    client = await connect(net.url);
    const w = await createWallets(wallets, ['owner', 'm0']);
    const netuid = await createSubnet(client, w.owner!, { servingRateLimit: 0 });
    validator = w.owner!.hotkey;
    minerHotkey = w.m0!.hotkey.ss58Address;
    await client.faucet(w.m0!.coldkey.ss58Address, 100n * RAO_PER_TAO);
    await client.burnedRegister(w.m0!.coldkey, netuid, minerHotkey);
    // 3 at once, then 1 per 10 s (negligible refill during the test), one limit for the hotkey across both processes
    const args = ['miner', '--name', 'm0', '--chain', net.url, '--netuid', String(netuid), '--commodity', FIXTURE, '--host', '127.0.0.1', '--port', '0',
      '--btauth-redis', redis.url, '--rate-limit', '6/min', '--rate-limit-burst', '3', '--metrics-on-axon', '--metrics-allow', '127.0.0.1', '--log-format', 'json'];
    const procs = [group.subnet('miner A', args, { BT_WALLET_PATH: wallets }), group.subnet('miner B', args, { BT_WALLET_PATH: wallets })];
    for (const p of procs) {
      const line = JSON.parse((await p.waitFor(/^\{.*"msg":"miner serving.*$/m, 90_000))[0]) as { port: number; rateLimit: unknown };
      expect(line.rateLimit).toEqual({ perSecond: 0.1, burst: 3, shared: true });
      ports.push(line.port);
    }
  }, 150_000);

  afterAll(async () => {
    await group.killAll();
    await client?.close();
    await redis?.down();
  });

  const body = JSON.stringify({ seed: 'abc', k: 2 });
  const sign = () => signHeaders(validator, { target: '/ScaleHashSynapse', body, receiver: minerHotkey });
  const send = async (port: number, headers: Record<string, string>) => {
    const res = await request(`http://127.0.0.1:${port}/ScaleHashSynapse`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], json: (await res.body.json()) as { error?: string; message?: string; digest?: string } };
  };
  const metric = async (port: number, re: RegExp) => Number(re.exec(await (await request(`http://127.0.0.1:${port}/metrics`)).body.text())?.[1] ?? 0);

  it('a request replayed to the other process is refused (one replay memory), and the rate limit holds across both', async () => {
    const [a, b] = ports as [number, number];
    const signed = sign();
    const first = await send(a, signed);
    expect(first.status).toBe(200);
    expect(first.json.digest).toMatch(/^[0-9a-f]{64}$/);
    const replay = await send(b, signed);
    console.log('replayed to the second process:', replay.status, replay.json);
    expect(replay.status).toBe(401);
    expect(replay.json.error).toBe('replayed');
    // 1 token used (the replay was refused before the limit); 2 left for both processes together
    const rest = [await send(b, sign()), await send(a, sign()), await send(b, sign()), await send(a, sign())];
    console.log('fresh requests alternating B, A, B, A:', rest.map((r) => r.status));
    expect(rest.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    expect(rest[2]!.json.error).toBe('rate_limited');
    expect(Number(rest[2]!.retryAfter)).toBeGreaterThanOrEqual(9);
    const shared = [await metric(a, /axon_rate_limited_total\{scope="shared"\} (\d+)/), await metric(b, /axon_rate_limited_total\{scope="shared"\} (\d+)/)];
    expect(shared).toEqual([1, 1]);
  }, 30_000);
});
