import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryNonceStore, RedisNonceStore } from '../../framework/btauth/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { post, signedPost } from './support.ts';

describe('memory nonce store', () => {
  it('refuses a replay while it remembers the pair, forgets after the retention', () => {
    let now = 1_000_000;
    const s = new MemoryNonceStore({ retentionMs: 12_000, nowMs: () => now });
    expect(s.record('hk', '1000000000000')).toBe('fresh');
    expect(s.record('hk', '1000000000000')).toBe('replayed');
    expect(s.record('other', '1000000000000')).toBe('fresh');
    now += 12_001;
    expect(s.size).toBe(2);
    expect(s.record('hk', '1000000000000')).toBe('fresh'); // the verifier's maxAge refuses it long before
    expect(s.size).toBe(1);
  });

  it('under pressure it drops the oldest pair and raises a floor, so the dropped pair cannot be replayed', () => {
    const s = new MemoryNonceStore({ capacity: 3, nowMs: () => 5_000 });
    const n = (ms: number) => String(BigInt(ms) * 1_000_000n);
    for (const ms of [1000, 1001, 1002]) expect(s.record('hk', n(ms))).toBe('fresh');
    expect(s.record('hk', n(1003))).toBe('fresh'); // evicts 1000
    expect(s.size).toBe(3);
    expect(s.record('hk', n(1000))).toBe('pressure'); // replay of the evicted pair: still refused
    expect(s.record('new', n(999))).toBe('pressure'); // an older first-seen nonce cannot be told apart
    expect(s.record('new', n(1004))).toBe('fresh');
  });

  it('memory stays flat across 1,000,000 requests from 10,000 hotkeys', () => {
    const s = new MemoryNonceStore(); // defaults: 60 s retention, 200 000 pairs
    const hotkeys = Array.from({ length: 10_000 }, (_, i) => `5${String(i).padStart(47, 'H')}`);
    let nonce = 1_752_076_800_000_000_000n;
    const run = (count: number) => {
      for (let i = 0; i < count; i++) {
        nonce += 1_000n;
        if (s.record(hotkeys[i % 10_000] as string, nonce.toString()) !== 'fresh') throw new Error(`request ${i} refused`);
      }
    };
    // a real collection before each reading, so the numbers are live memory and not garbage
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    run(500_000); // past capacity (the ring is full from 200 000 on) and past V8's heap growth to its steady size
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    run(500_000);
    gc();
    const heap1 = process.memoryUsage().heapUsed;
    const rss1 = process.memoryUsage().rss;
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(`1e6 requests / 1e4 hotkeys: heap ${mb(heap0)} → ${mb(heap1)} MiB, rss ${mb(rss0)} → ${mb(rss1)} MiB, ${s.size} pairs kept`);
    expect(s.size).toBe(200_000);
    expect(heap1 - heap0).toBeLessThan(8 * 2 ** 20);
    // live heap is the exact measure; rss also holds pages V8 keeps committed after collections
    expect(rss1 - rss0).toBeLessThan(64 * 2 ** 20);
  });
});

// A real redis-server on a free TCP port (or the machine's on 6379); skipped loudly only where there is none.
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const MISSING = 'no Redis: redis-server is not installed and 127.0.0.1:6379 does not answer; the btauth Redis nonce-store tests need it (apt-get install redis-server)';
let redisUrl: string | null = null;
let redisProc: ChildProcess | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

async function ping(url: string, ms: number): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  r.on('error', () => {});
  const end = Date.now() + ms;
  try {
    while (Date.now() < end) {
      try {
        if (r.status !== 'ready') await r.connect();
        if ((await r.ping()) === 'PONG') return true;
      } catch {
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    return false;
  } finally {
    r.disconnect();
  }
}

const redisReady = (async () => {
  if (hasRedisServer) {
    const port = await freePort();
    redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    if (await ping(url, 10_000)) return (redisUrl = url);
  }
  if (await ping('redis://127.0.0.1:6379', 1_000)) return (redisUrl = 'redis://127.0.0.1:6379');
  return null;
})();
const available = await redisReady;
if (!available) {
  if (process.env.CI === 'true') {
    describe('btauth Redis nonce store', () => {
      it('requires Redis under CI', () => {
        throw new Error(MISSING);
      });
    });
  } else process.stderr.write(`\n*** SKIPPED: ${MISSING} ***\n\n`);
}
afterAll(() => {
  redisProc?.kill('SIGTERM');
});

const FIXTURE = fileURLToPath(new URL('./fixtures/axon-process.ts', import.meta.url));

interface ServerProcess {
  port: number;
  child: ChildProcess;
}

function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server process did not start: ${err}`));
    }, 90_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), child });
      }
    });
    child.on('exit', (code) => reject(new Error(`server process exited (${code}): ${err}`)));
  });
}

async function stopServer(s: ServerProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      s.child.kill('SIGKILL');
      resolve();
    }, 5_000);
    s.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    s.child.kill('SIGTERM');
  });
}

describe.skipIf(!available)('btauth Redis nonce store (real Redis)', () => {
  beforeAll(async () => {
    await cryptoReady();
  });

  it('SET NX EX: the second record of a pair is a replay, from any client; the key expires', async () => {
    const a = new RedisNonceStore({ redis: redisUrl as string, prefix: `t${Date.now()}:`, retentionMs: 1_000 });
    const b = new RedisNonceStore({ redis: redisUrl as string, prefix: (a as unknown as { prefix: string }).prefix, retentionMs: 1_000 });
    try {
      expect(await a.record('hk', '42')).toBe('fresh');
      expect(await b.record('hk', '42')).toBe('replayed');
      expect(await b.record('hk', '43')).toBe('fresh');
      await new Promise((r) => setTimeout(r, 2_100));
      expect(await a.record('hk', '42')).toBe('fresh');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('replay across two server processes: shared Redis refuses it, separate memories do not', async () => {
    const alice = keypairFromUri('//Alice');
    const bob = keypairFromUri('//Bob').ss58Address;
    const rows: Array<{ replay_store: string; first: number; replayed_on_other_process: number }> = [];
    for (const mode of ['redis', 'memory'] as const) {
      const env: Record<string, string> = mode === 'redis' ? { REDIS_URL: redisUrl as string, REDIS_PREFIX: `x${Date.now()}:` } : {};
      const [p1, p2] = await Promise.all([startServer(env), startServer(env)]);
      try {
        // the cheapest attack on a multi-process miner: capture one signed request and send it to the other process
        const original = signedPost(p1.port, alice, bob, '/square', { x: 7, label: mode });
        const first = await original;
        const replay = await post(p2.port, '/square', original.headers, original.body);
        rows.push({ replay_store: mode, first: first.status, replayed_on_other_process: replay.status });
        if (mode === 'redis') {
          expect(first.status).toBe(200);
          expect(replay.status).toBe(401);
          expect(replay.json.error).toBe('replayed');
          // and a fresh request still passes on either process
          expect((await signedPost(p2.port, alice, bob, '/square', { x: 8, label: mode })).status).toBe(200);
        } else {
          // separate memories: the replay gets through, which is why multi-process servers need shared storage
          expect([first.status, replay.status]).toEqual([200, 200]);
        }
      } finally {
        await Promise.all([stopServer(p1), stopServer(p2)]);
      }
    }
    console.table(rows);
  }, 240_000);

  it('Redis down: the axon answers 503 instead of accepting unprotected requests', async () => {
    const port = await freePort(); // nothing listens there
    const { createAxon } = await import('../../framework/axon/index.ts');
    const { pino } = await import('pino');
    const { Square } = await import('./support.ts');
    const alice = keypairFromUri('//Alice');
    const store = new RedisNonceStore({ redis: { host: '127.0.0.1', port, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false } });
    const axon = createAxon({
      keypair: keypairFromUri('//Bob'), callers: { lookup: () => ({ uid: 1, stake: 1n, validatorPermit: true }) },
      host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), btauth: { nonceStore: store },
    });
    axon.attach(Square, (req) => ({ y: req.x, by: 'x' }), { path: '/square' });
    await axon.start();
    try {
      const r = await signedPost(axon.port, alice, axon.hotkey, '/square', { x: 1, label: 'down' });
      expect(r.status).toBe(503);
      expect(r.json.message).toMatch(/replay protection store is unreachable/);
    } finally {
      await axon.stop();
      await store.close();
    }
  });
});
