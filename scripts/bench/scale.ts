/**
 * `npm run bench -- scale`: the split validator (coordinator + N worker processes on BullMQ/Redis) vs the
 * embedded one-process validator, with a CPU-heavy scorer (SCALE_SCORE_COST sha256 iterations per task),
 * and the queue's own cost per job (ms and CPU, node + redis-server) vs an in-process call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalChain } from '../../framework/chain/local-chain.ts';
import { startLocalnetServer } from '../../framework/chain/localnet-server.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { scaleKeys, ScaleStore, startCoordinator } from '../../framework/scale/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { keypairFromUri } from '../../framework/wallet/keypair.ts';
import { benchSubnet } from './validator.ts';

const COST = Number(process.env.SCALE_SCORE_COST ?? 30_000);
process.env.SCALE_SCORE_COST = String(COST);
const SECONDS = Number(process.env.SCALE_BENCH_SECONDS ?? 8);
const MINERS = 4;
const silent = pino({ level: 'silent' });
const WORKER = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));

/** utime+stime of a process, ms (Linux /proc). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

export async function startRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      r.disconnect();
      return { url, proc };
    } catch {
      r.disconnect();
      if (i > 100) throw new Error('redis-server did not start');
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

export async function run(): Promise<void> {
  const commodity = (await import('../../test/scale/fixtures/hash-commodity.ts')).default as Commodity;
  const redis = await startRedis();
  const chain = await LocalChain.create({ blockTimeMs: 1000, genesisSeed: 'bench-scale' });
  const server = await startLocalnetServer({ chain, host: '127.0.0.1', port: 0 });
  const { netuid, vk } = await benchSubnet(chain);
  const miners = [];
  for (let i = 0; i < MINERS; i++) {
    miners.push(await startMiner({ chain, netuid, hotkey: keypairFromUri(`//Bob//scale-${i}`), coldkey: keypairFromUri('//Bob'), register: true, commodity, axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent }));
  }
  const rows: Array<Record<string, string | number>> = [];

  // embedded: one process, 4 rounds in flight (network overlaps the scorer; the scorer itself is serial)
  const dir = await mkdtemp(join(tmpdir(), 'bench-scale-'));
  const v = await startValidator({ chain, netuid, hotkey: vk, commodity, statePath: dir, options: { concurrency: 4, roundIntervalMs: 0, logger: silent, disableWeights: true } });
  await new Promise((r) => setTimeout(r, 1500));
  const s0 = v.state.step;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const embeddedRate = ((v.state.step - s0) * 1000) / (performance.now() - t0);
  const cu = process.cpuUsage(c0);
  await v.stop();
  rows.push({ mode: 'embedded (1 process)', 'tasks/s': embeddedRate.toFixed(1), 'vs embedded': '1.00×', 'cpu ms/task': (((cu.user + cu.system) / 1000) / (embeddedRate * SECONDS)).toFixed(1) });

  for (const workers of [1, 2, 4]) {
    const r = new Redis(redis.url);
    await r.flushall();
    const coord = await startCoordinator({ chain, netuid, hotkey: vk, commodity, redisUrl: redis.url, options: { roundIntervalMs: 0, maxQueued: 4 * workers, disableWeights: true, logger: silent } });
    const procs = Array.from({ length: workers }, () => spawn(process.execPath, ['--import', 'tsx', WORKER], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_CHAIN: server.url, BENCH_REDIS: redis.url, BENCH_NETUID: String(netuid) } }));
    await Promise.all(procs.map((p) => new Promise<void>((res) => p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res()))));
    const store = new ScaleStore(r, r, scaleKeys(netuid, 0, vk.ss58Address));
    await new Promise((res) => setTimeout(res, 1500));
    const a0 = (await store.counters()).cursor;
    const cpu0 = procs.reduce((s, p) => s + cpuMs(p.pid!), 0) + cpuMs(redis.proc.pid!);
    const pc0 = process.cpuUsage();
    const t1 = performance.now();
    await new Promise((res) => setTimeout(res, SECONDS * 1000));
    const applied = (await store.counters()).cursor - a0;
    const rate = (applied * 1000) / (performance.now() - t1);
    const pc = process.cpuUsage(pc0);
    const cpu = procs.reduce((s, p) => s + cpuMs(p.pid!), 0) + cpuMs(redis.proc.pid!) - cpu0 + (pc.user + pc.system) / 1000;
    rows.push({ mode: `split: coordinator + ${workers} worker process${workers > 1 ? 'es' : ''}`, 'tasks/s': rate.toFixed(1), 'vs embedded': `${(rate / embeddedRate).toFixed(2)}×`, 'cpu ms/task': (cpu / Math.max(applied, 1)).toFixed(1) });
    await Promise.all(procs.map((p) => new Promise<void>((res) => {
      p.once('exit', () => res());
      p.kill('SIGTERM');
    })));
    await coord.stop();
    r.disconnect();
  }

  // the queue's own cost: a no-op job through BullMQ + result log + drain, vs the same update in-process
  const overhead = await queueOverhead(redis.url, redis.proc.pid!, commodity);

  for (const m of miners) await m.stop();
  await server.close();
  await chain.close?.();
  redis.proc.kill('SIGTERM');
  process.stdout.write(`note: on a shared machine a process's CPU share grows with its process count, so split rows can exceed the embedded one by more than the free cores explain\n`);
  process.stdout.write(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; scorer cost ${COST} sha256/task, ${MINERS} loopback miners, ${SECONDS} s per row\n`);
  console.table(rows);
  console.table(overhead);
  process.exit(0); // BullMQ's blocking connections of the stopped workers must not keep the bench alive
}

async function queueOverhead(url: string, redisPid: number, commodity: Commodity): Promise<Array<Record<string, string>>> {
  const N = 400;
  const conns = Array.from({ length: 4 }, () => new Redis(url, { maxRetriesPerRequest: null }));
  const [r, txn, qc, wc] = conns as [Redis, Redis, Redis, Redis];
  await r.flushall();
  const keys = scaleKeys(999, 0, 'bench');
  const store = new ScaleStore(r, txn, keys);
  const hotkeys = new Set(['a', 'b', 'c', 'd']);
  const ctx = { commodity, alpha: 0.1, hotkeys, self: 'v' };
  const queue = new Queue(keys.taskQueue, { connection: qc });
  let done = 0;
  let finish: () => void = () => {};
  const worker = new Worker(keys.taskQueue, async (job) => {
    const seq = job.data.seq as number;
    await store.putResult(seq, { kind: 'rewards', taskId: String(seq), rewards: { a: 1, b: 0.5, c: 0, d: 1 }, state: {} });
    await store.drain(ctx);
    if (++done === N) finish();
  }, { connection: wc, concurrency: 1 });
  await worker.waitUntilReady();
  const allDone = new Promise<void>((res) => (finish = res));
  const cpu0 = process.cpuUsage();
  const rc0 = cpuMs(redisPid);
  const t0 = performance.now();
  for (let seq = 1; seq <= N; seq++) {
    await store.allocSeq();
    await queue.add('q', { seq }, { jobId: `t-${seq}`, removeOnComplete: true });
  }
  await allDone;
  const ms = (performance.now() - t0) / N;
  const cu = process.cpuUsage(cpu0);
  const nodeCpu = (cu.user + cu.system) / 1000 / N;
  const redisCpu = (cpuMs(redisPid) - rc0) / N;
  // baseline: the embedded validator's update of the same rewards, in-process
  const scores = new Map<string, number>();
  const b0 = performance.now();
  const bc0 = process.cpuUsage();
  for (let i = 0; i < N * 100; i++) for (const [hk, rw] of Object.entries({ a: 1, b: 0.5, c: 0, d: 1 })) scores.set(hk, 0.1 * rw + 0.9 * (scores.get(hk) ?? 0));
  const inMs = (performance.now() - b0) / (N * 100);
  const bcu = process.cpuUsage(bc0);
  await worker.close();
  await queue.close();
  for (const c of conns) c.disconnect();
  return [
    { path: 'BullMQ job + result log + ordered drain (1 worker, sequential)', 'ms/job': ms.toFixed(2), 'cpu ms/job (node)': nodeCpu.toFixed(2), 'cpu ms/job (redis)': redisCpu.toFixed(2) },
    { path: 'in-process call (embedded EMA update)', 'ms/job': inMs.toFixed(5), 'cpu ms/job (node)': ((bcu.user + bcu.system) / 1000 / (N * 100)).toFixed(5), 'cpu ms/job (redis)': '0' },
  ];
}
