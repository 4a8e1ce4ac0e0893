/**
 * Bench suite 'ratelimit': what the per-caller rate limit costs the axon per signed btauth/1 request, in
 * one run: none vs in-process token bucket vs the shared Redis bucket (one Lua script per request, a
 * private redis-server). Server CPU per request (load generator in a child process) and redis-server CPU
 * per request; the three configurations alternate over RATELIMIT_BENCH_TRIALS trials, medians reported.
 * The limit is set far above the load (10^6/s) so every request is admitted and pays the full check.
 */
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { createAxon, RedisRateLimitStore, type Axon } from '../../framework/axon/index.ts';
import { cryptoReady, keypairFromUri } from '../../framework/wallet/keypair.ts';
import { cpuMs, startRedis } from './scale.ts';
import { BenchEcho, load, median, mergeStatuses } from './wire.ts';

const COUNT = Number(process.env.RATELIMIT_BENCH_REQUESTS ?? 6000);
const WARMUP = Number(process.env.RATELIMIT_BENCH_WARMUP ?? 3000);
const TRIALS = Number(process.env.RATELIMIT_BENCH_TRIALS ?? 3);
const RULE = { perSecond: 1_000_000, burst: 1_000_000 };

export async function run(): Promise<void> {
  await cryptoReady();
  const redis = await startRedis();
  const client = new Redis(redis.url);
  const store = new RedisRateLimitStore({ redis: client });
  const axonKey = keypairFromUri('//Alice');
  const callers = { lookup: (hk: string) => ({ uid: hk.length % 7, stake: 1_000n, validatorPermit: true }) };
  const make = (rateLimit: Parameters<typeof createAxon>[0]['rateLimit']): Axon => {
    const axon = createAxon({
      keypair: axonKey, callers, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), rateLimit,
      admission: { maxConcurrent: 64, maxQueue: 4096 }, btauth: { maxAgeMs: 600_000 }, maxTimeoutMs: 600_000,
    });
    axon.attach(BenchEcho, (req) => ({ answer: `${req.prompt.length}:${req.seed}` }), { path: '/echo' });
    return axon;
  };
  const configs = [
    { name: 'no rate limit', axon: make(false) },
    { name: 'in-process token bucket', axon: make(RULE) },
    { name: 'shared Redis bucket (Lua, GCRA)', axon: make({ ...RULE, store }) },
  ];
  try {
    for (const c of configs) await c.axon.start();
    for (const c of configs) await load(c.axon.port, '/echo', axonKey.ss58Address, WARMUP, 'btauth');
    const results = configs.map(() => ({ cpu: [] as number[], wall: [] as number[], redis: [] as number[], statuses: [] as Record<string, number>[] }));
    for (let t = 0; t < TRIALS; t++) {
      for (const [i, c] of configs.entries()) {
        const r0 = cpuMs(redis.proc.pid!);
        const r = await load(c.axon.port, '/echo', axonKey.ss58Address, COUNT, 'btauth');
        results[i]!.redis.push(((cpuMs(redis.proc.pid!) - r0) * 1000) / COUNT);
        results[i]!.cpu.push(1e6 / r.cpu);
        results[i]!.wall.push(r.wall);
        results[i]!.statuses.push(r.statuses);
      }
    }
    const base = median(results[0]!.cpu);
    const rows = configs.map((c, i) => {
      const x = results[i]!;
      const cpu = median(x.cpu);
      return {
        limit: c.name,
        'server CPU µs/req': cpu.toFixed(0),
        'vs none': `${(cpu / base).toFixed(2)}×`,
        'redis-server CPU µs/req': median(x.redis).toFixed(1),
        'req per wall s': Math.round(median(x.wall)),
        statuses: JSON.stringify(mergeStatuses(x.statuses)),
      };
    });
    console.log(`${COUNT} signed btauth/1 requests per run after ${WARMUP} warm-up, ${TRIALS} alternating trials (medians); load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
    console.table(rows);
  } finally {
    for (const c of configs) await c.axon.stop();
    client.disconnect();
    redis.proc.kill('SIGKILL');
  }
}
