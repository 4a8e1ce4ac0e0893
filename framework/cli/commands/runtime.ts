import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Chain } from '../../chain/types.ts';
import type { Commodity } from '../../commodity/index.ts';
import { UserError } from '../../errors.ts';
import { serveMetrics } from '../../metrics/index.ts';
import { Redis } from 'ioredis';
import { AXON_DEFAULTS, RedisRateLimitStore } from '../../axon/index.ts';
import { RedisNonceStore } from '../../btauth/index.ts';
import { startMiner } from '../../miner/index.ts';
import { startMechanismValidators, startValidator } from '../../validator/index.ts';
import { createLogger, logFormatSchema, logLevelSchema } from '../../util/log.ts';
import { ipAllowList, splitList } from '../../util/ip-allow.ts';
import { loadColdkey, loadHotkey } from '../../wallet/index.ts';
import { runSplitValidator } from '../../scale/cli.ts';
import { cliBool, cliInt, cliPort, formatTao } from '../config.ts';
import { chainOptionsSchema, openChain, resolveCommandOptions, walletRefOf, withChainOptions } from './shared.ts';

const TEMPLATE_COMMODITY = fileURLToPath(new URL('../../../templates/src/commodity.ts', import.meta.url));
const logLevel = logLevelSchema.default('info');
const logFormat = logFormatSchema.default('auto');
/** `a,b` or a YAML list → checked IP/CIDR entries. */
const allowList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => splitList(v))
  .superRefine((v, ctx) => {
    try {
      ipAllowList(v);
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message.replace(/^--metrics-allow: /, '') });
    }
  });
const LOOPBACK = ['127.0.0.1', '::1'];

/** `--rate-limit`: `off`, or requests per caller hotkey as `N/s`, `N/min` (a bare N is per second). */
export const rateLimitFlag = z
  .union([z.string(), z.number()])
  .transform((v, ctx): number | false => {
    const s = String(v).trim();
    if (s === 'off') return false;
    const m = /^(\d+(?:\.\d+)?)(?:\s*\/\s*(s|min))?$/.exec(s);
    const n = m ? Number(m[1]) / (m[2] === 'min' ? 60 : 1) : NaN;
    if (!(n > 0) || n > 1_000_000) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected N/s, N/min or off (N > 0), got '${s}'` });
      return z.NEVER;
    }
    return n;
  });

/** The miner's metrics port when none is given: the axon port + 1000 (8091 → 9091), or any free port for --port 0. */
export function defaultMinerMetricsPort(axonPort: number): number {
  return axonPort === 0 || axonPort + 1000 > 65_535 ? 0 : axonPort + 1000;
}

/** --log-level/--log-format (env LOG_LEVEL/LOG_FORMAT, config logLevel/logFormat) for the long-running commands. */
function addLogOptions(c: Command): Command {
  return c
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL; default info)')
    .option('--log-format <format>', 'auto|json|pretty: auto is pretty on a terminal, JSON lines when piped (env LOG_FORMAT; default auto)');
}

/** Node's codes when an ESM-syntax file is loaded as CommonJS (no `"type": "module"` in its package.json). */
const LOADED_AS_COMMONJS = new Set(['ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

/** The package.json that decides how Node loads `file` (nearest one above it). */
function nearestPackageJson(file: string): string | null {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'package.json');
    if (dirname(dir) === dir) return null;
  }
}

function commonJsHint(full: string): UserError {
  const pkg = nearestPackageJson(full);
  return new UserError(`cannot load commodity module ${full}: it uses import/export, but ${pkg ? `${pkg} has no "type": "module"` : 'no package.json above it says "type": "module"'}, so Node loads it as CommonJS`, {
    hint: pkg ? `add "type": "module" to ${pkg}, or rename the file to .mts` : 'rename the file to .mts, or add a package.json with "type": "module"',
  });
}

/** The useful part of a load error: esbuild's `file:line:col: ERROR: …` lines when there are any. */
function loadErrorMessage(e: unknown): string {
  const lines = String((e as Error).message ?? e).split('\n').map((l) => l.trim()).filter(Boolean);
  const located = lines.filter((l) => /:\d+:\d+: (ERROR|error)/.test(l));
  return (located.length > 0 ? located.slice(0, 3) : lines.slice(0, 1)).join('; ');
}

let tsxRegistered = false;
/** The built CLI (dist/*.js) runs in plain Node: commodity modules written in TypeScript need tsx's loader. */
async function ensureTypeScriptLoader(): Promise<void> {
  if (tsxRegistered || import.meta.url.endsWith('.ts')) return; // from source, tsx is already loaded
  const { register } = await import('tsx/esm/api');
  register();
  tsxRegistered = true;
}

/** Import a commodity module: its default export, or an export named `commodity`, must be a defined Commodity. */
export async function loadCommodityModule(path: string): Promise<Commodity> {
  const full = resolve(path);
  if (!existsSync(full)) throw new UserError(`commodity module not found: ${full}`, { hint: 'pass --commodity PATH to a module that exports a defineCommodity(...) result' });
  let mod: Record<string, unknown>;
  try {
    if (/\.[cm]?tsx?$/.test(full)) await ensureTypeScriptLoader();
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (e) {
    if (LOADED_AS_COMMONJS.has((e as NodeJS.ErrnoException).code ?? '')) throw commonJsHint(full);
    throw new UserError(`cannot load commodity module ${full}: ${loadErrorMessage(e)}`);
  }
  const candidates = [mod.default, mod.commodity, ...Object.values(mod)];
  const found = candidates.find(
    (c): c is Commodity => typeof c === 'object' && c !== null && 'synapse' in c && typeof (c as Commodity).generate === 'function' && typeof (c as Commodity).score === 'function',
  );
  if (!found) throw new UserError(`${full} exports no commodity`, { hint: 'export default defineCommodity({...}) (or `export const commodity = ...`)' });
  return found;
}

/**
 * Said once at start-up: a validator without a permit scores miners, but the chain refuses its weights
 * (NeuronNoValidatorPermit) until an epoch grants one. Permits go to the top stakes.
 */
async function explainMissingPermit(chain: Chain, netuid: number, uid: number, log: Logger): Promise<void> {
  const [m, hp] = await Promise.all([chain.getMetagraph(netuid), chain.getHyperparameters(netuid)]);
  if (m.validatorPermit[uid]) return;
  const stake = m.stake[uid] ?? 0n;
  const ranked = [...m.stake].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0));
  const cutoff = ranked[Math.min(hp.maxAllowedValidators, ranked.length) - 1] ?? 0n;
  const what = stake === 0n
    ? `it has no stake: stake to it with \`subnet stake add --name <wallet> --amount <tao>\``
    : `its stake is ${formatTao(stake)} TAO; permits go to the top ${hp.maxAllowedValidators} stakes (now ≥ ${formatTao(cutoff)} TAO) at each epoch (tempo ${hp.tempo} blocks)`;
  log.warn({ uid, stakeTao: formatTao(stake) }, `uid ${uid} has no validator permit yet, so the chain refuses its weights; ${what}. Scoring runs meanwhile.`);
}

function onShutdown(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (e: Error) => {
        log.error({ err: e }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

/** The axon's per-caller limit from the flags: shared through `redis` when given (default rate 50/s, burst 100). */
function minerRateLimit(rate: number | false | undefined, burstFlag: number | undefined, redis: Redis | undefined): { perSecond: number; burst: number; store?: RedisRateLimitStore } | false {
  if (rate === false) return false;
  const perSecond = rate ?? AXON_DEFAULTS.rateLimit.perSecond;
  const burst = burstFlag ?? (rate === undefined ? AXON_DEFAULTS.rateLimit.burst : Math.max(1, Math.ceil(2 * perSecond)));
  return { perSecond, burst, store: redis ? new RedisRateLimitStore({ redis }) : undefined };
}

const minerSchema = chainOptionsSchema.extend({
  commodity: z.string().min(1).default(TEMPLATE_COMMODITY),
  host: z.string().min(1).default('0.0.0.0'),
  port: cliPort.default(8091),
  externalIp: z.string().min(1).optional(),
  externalPort: cliPort.optional(),
  register: cliBool.default(false),
  btauthAllowUnbound: cliBool.default(false),
  btauthMaxAgeMs: cliInt(1, 3_600_000).optional(),
  btauthAllowedSkewMs: cliInt(0, 600_000).optional(),
  btauthRedis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  rateLimit: rateLimitFlag.optional(),
  rateLimitBurst: cliInt(1, 1_000_000).optional(),
  protocols: z
    .string()
    .transform((t) => t.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['btauth', 'synapse'])).min(1, 'name at least one of btauth, synapse'))
    .default('btauth,synapse'),
  metricsPort: z.union([z.literal('off'), cliPort]).optional(),
  metricsHost: z.string().min(1).default('127.0.0.1'),
  metricsAllow: allowList.optional(),
  metricsOnAxon: cliBool.default(false),
  logLevel,
  logFormat,
});

const validatorSchema = chainOptionsSchema.extend({
  commodity: z.string().min(1).default(TEMPLATE_COMMODITY),
  stateDir: z.string().min(1).optional(),
  alpha: z.coerce.number().gt(0).max(1).default(0.1),
  resyncBlocks: cliInt(1).default(10),
  roundIntervalMs: cliInt(1).default(1000),
  concurrency: cliInt(1, 64).default(1),
  disableWeights: cliBool.default(false),
  weightsSemantics: z.enum(['v10', 'v11'], { message: 'must be v10 or v11' }).default('v10'),
  metricsPort: cliPort.optional(),
  metricsHost: z.string().min(1).default('127.0.0.1'),
  metricsAllow: allowList.optional(),
  /** One commodity per incentive mechanism: `--mechanism 0=a.ts --mechanism 1=b.ts`, or `{ "0": "a.ts" }` in a config file. */
  mechanism: z.union([z.array(z.string().min(1)), z.string().min(1), z.record(z.string().min(1))]).optional(),
  redis: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  role: z.enum(['coordinator', 'worker'], { message: 'must be coordinator or worker' }).optional(),
  workers: cliInt(0, 256).default(0),
  workerConcurrency: cliInt(1, 256).default(1),
  maxQueued: cliInt(1, 1_000_000).default(64),
  leaseMs: cliInt(1000, 600_000).default(10_000),
  jobTimeoutMs: cliInt(1000, 3_600_000).optional(),
  jobLockMs: cliInt(500, 600_000).default(10_000),
  scoredRetentionMs: cliInt(60_000, 30 * 24 * 3_600_000).optional(),
  logLevel,
  logFormat,
});

/** `['0=a.ts', '1=b.ts']` / `{ '0': 'a.ts' }` → mechid → module path; one line per mistake. */
export function parseMechanismModules(v: string | string[] | Record<string, string>): Map<number, string> {
  const pairs = typeof v === 'string' ? [v] : Array.isArray(v) ? v : Object.entries(v).map(([k, m]) => `${k}=${m}`);
  const out = new Map<number, string>();
  for (const pair of pairs) {
    const m = /^(\d{1,2})=(.+)$/.exec(pair);
    if (!m || Number(m[1]) > 15) throw new UserError(`--mechanism takes MECHID=MODULE with MECHID 0…15, got '${pair}'`, { hint: 'e.g. --mechanism 0=./inference.ts --mechanism 1=./storage.ts' });
    if (out.has(Number(m[1]))) throw new UserError(`mechanism ${m[1]} is given twice`);
    out.set(Number(m[1]), m[2]!);
  }
  return out;
}

export function registerRuntimeCommands(program: Command): void {
  addLogOptions(withChainOptions(program.command('miner')))
    .description("run a miner: serve the commodity's handler on an axon and announce it on chain")
    .option('--commodity <module>', 'module exporting the commodity (env SUBNET_COMMODITY; default: the template puzzle commodity)')
    .option('--host <ip>', 'bind address (env SUBNET_HOST; default 0.0.0.0)')
    .option('--port <n>', 'axon port (env SUBNET_PORT; default 8091; 0 = any free port)')
    .option('--external-ip <ip>', 'IP announced on chain (env SUBNET_EXTERNAL_IP; default: the bind address — set it when binding 0.0.0.0 behind NAT)')
    .option('--external-port <n>', 'port announced on chain (env SUBNET_EXTERNAL_PORT; default: the bound port)')
    .option('--register', 'register the hotkey first if needed, funded by the dev faucet (localnet only)')
    .option('--protocols <list>', 'wires served on the axon port: btauth,synapse (default both; btauth/1 is SDK v11, synapse the v10 wire)')
    .option('--btauth-allow-unbound', 'accept btauth/1 requests without X-Bittensor-Receiver (some v11 validators send none)')
    .option('--btauth-max-age-ms <ms>', 'oldest accepted btauth/1 nonce (default 10000; raise it for skewed clocks)')
    .option('--btauth-allowed-skew-ms <ms>', 'furthest-ahead accepted btauth/1 nonce (default 2000)')
    .option('--btauth-redis <url>', 'share the btauth/1 replay memory and the per-caller rate limit in Redis (env SUBNET_BTAUTH_REDIS), for several miner processes behind one hotkey (docs/scale.md)')
    .option('--rate-limit <N/s|N/min|off>', 'requests per validator hotkey (env SUBNET_RATE_LIMIT; default 50/s); with --btauth-redis one limit across all processes of this hotkey, else per process')
    .option('--rate-limit-burst <n>', 'requests a caller may send at once before the rate applies (default 100 at the default rate, else 2 × the per-second rate, at least 1)')
    .option('--metrics-port <n|off>', 'Prometheus /metrics on its own port (env SUBNET_METRICS_PORT; default axon port + 1000, any free port with --port 0; off = none)')
    .option('--metrics-host <ip>', 'bind address of the metrics port (env SUBNET_METRICS_HOST; default 127.0.0.1)')
    .option('--metrics-allow <list>', 'IPs/CIDRs that may read /metrics, comma-separated (env SUBNET_METRICS_ALLOW; default: anyone reaching the metrics port; 127.0.0.1,::1 with --metrics-on-axon)')
    .option('--metrics-on-axon', 'serve /metrics on the public axon port, to --metrics-allow only, instead of a separate port')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(minerSchema, flags, {
        commodity: 'SUBNET_COMMODITY', host: 'SUBNET_HOST', port: 'SUBNET_PORT', externalIp: 'SUBNET_EXTERNAL_IP', externalPort: 'SUBNET_EXTERNAL_PORT', logLevel: 'LOG_LEVEL', logFormat: 'LOG_FORMAT',
        btauthRedis: 'SUBNET_BTAUTH_REDIS', rateLimit: 'SUBNET_RATE_LIMIT', metricsPort: 'SUBNET_METRICS_PORT', metricsHost: 'SUBNET_METRICS_HOST', metricsAllow: 'SUBNET_METRICS_ALLOW',
      });
      const log = createLogger({ level: o.logLevel, format: o.logFormat });
      if (o.rateLimit === false && o.rateLimitBurst !== undefined) throw new UserError('--rate-limit-burst needs a rate: --rate-limit is off');
      if (o.metricsOnAxon && o.metricsPort !== undefined && o.metricsPort !== 'off') throw new UserError('--metrics-on-axon and --metrics-port are two places for the same /metrics: pick one');
      const commodity = await loadCommodityModule(o.commodity);
      if (!commodity.miner) throw new UserError(`commodity ${commodity.name} has no miner side`, { hint: 'add `miner: { handle(query, ctx) {...} }` to its definition' });
      const ref = walletRefOf(o);
      const hotkey = await loadHotkey(ref);
      const coldkey = o.register ? await loadColdkey(ref, undefined, { prompt: true }) : undefined;
      // One Redis connection for the replay memory and the rate limit; commands fail fast while it is down
      // (replay check: 503; rate limit: per-process fallback).
      const redis = o.btauthRedis ? new Redis(o.btauthRedis, { maxRetriesPerRequest: 1, commandTimeout: 1_000 }) : undefined;
      redis?.on('error', () => {});
      const nonceStore = redis ? new RedisNonceStore({ redis }) : undefined;
      const rateLimit = minerRateLimit(o.rateLimit, o.rateLimitBurst, redis);
      const closeRedis = async () => {
        await redis?.quit().catch(() => redis.disconnect());
      };
      const chain = await openChain(o.chain);
      try {
        const handle = await startMiner({
          chain, netuid: o.netuid, hotkey, coldkey, commodity, register: o.register, logger: log,
          axon: { host: o.host, port: o.port, externalIp: o.externalIp, externalPort: o.externalPort },
          metrics: o.metricsOnAxon || o.metricsPort === 'off' ? undefined : { port: o.metricsPort ?? defaultMinerMetricsPort(o.port), host: o.metricsHost, allow: o.metricsAllow },
          axonOptions: {
            metricsAllow: o.metricsOnAxon ? (o.metricsAllow ?? LOOPBACK) : undefined,
            protocols: { btauth: o.protocols.includes('btauth'), synapse: o.protocols.includes('synapse') },
            btauth: { allowUnbound: o.btauthAllowUnbound, maxAgeMs: o.btauthMaxAgeMs, allowedSkewMs: o.btauthAllowedSkewMs, nonceStore },
            rateLimit,
          },
          // a pruned miner earns nothing: exit non-zero so a supervisor notices
          onDeregistered: () => void handle.stop().then(() => chain.close()).finally(() => process.exit(1)),
        });
        log.info({ uid: handle.uid, port: handle.port, hotkey: hotkey.ss58Address, rateLimit: rateLimit && { perSecond: rateLimit.perSecond, burst: rateLimit.burst, shared: rateLimit.store !== undefined } }, `miner serving ${commodity.name}`);
        onShutdown(async () => { await handle.stop(); await closeRedis(); await chain.close(); }, log);
      } catch (e) {
        await closeRedis();
        await chain.close();
        throw e;
      }
    });

  addLogOptions(withChainOptions(program.command('validator')))
    .description('run a validator: query miners with the commodity, score them, and set weights on chain')
    .option('--commodity <module>', 'module exporting the commodity (env SUBNET_COMMODITY; default: the template puzzle commodity)')
    .option('--state-dir <dir>', 'where scores and pending tasks persist (env SUBNET_STATE_DIR; default ~/.subnetkit/validators/<wallet>/<hotkey>/netuid<N>)')
    .option('--alpha <x>', 'EMA alpha for score aggregation, 0 < x ≤ 1 (default 0.1)')
    .option('--resync-blocks <n>', 'reload the metagraph every N blocks (default 10)')
    .option('--concurrency <n>', 'rounds in flight at once (default 1)')
    .option('--round-interval-ms <ms>', 'minimum time between the starts of two rounds in one slot (default 1000)')
    .option('--disable-weights', 'score only; never submit weights')
    .option('--mechanism <mechid=module>', 'price one commodity per incentive mechanism in this process (repeatable; replaces --commodity)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--weights-semantics <v10|v11>', 'SDK weight pipeline to reproduce (env SUBNET_WEIGHTS_SEMANTICS; default v10, see docs/weights.md)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on this port (env SUBNET_METRICS_PORT; off by default)')
    .option('--metrics-host <ip>', 'bind address for metrics (env SUBNET_METRICS_HOST; default 127.0.0.1)')
    .option('--metrics-allow <list>', 'IPs/CIDRs that may read /metrics, comma-separated (env SUBNET_METRICS_ALLOW; default: anyone reaching the metrics port)')
    .option('--redis <url>', 'split the validator over processes/machines through Redis + BullMQ (env SUBNET_REDIS; docs/scale.md)')
    .option('--role <coordinator|worker>', 'with --redis: follow the chain, generate tasks, set weights (coordinator, default) or query and score (worker)')
    .option('--workers <n>', 'with --redis: fork N local worker processes beside the coordinator (default 0)')
    .option('--worker-concurrency <n>', 'jobs in flight per worker process (default 1)')
    .option('--max-queued <n>', 'bounded task queue: no new round while N jobs wait or run (default 64)')
    .option('--lease-ms <ms>', 'coordinator lease TTL; a dead coordinator is replaced after at most this (default 10000)')
    .option('--job-timeout-ms <ms>', 'a job running longer is abandoned and retried (default 2 × commodity timeout + 30 s)')
    .option('--job-lock-ms <ms>', "BullMQ job lock: a killed worker's job is retried elsewhere after ~2 × this (default 10000)")
    .option('--scored-retention-ms <ms>', 'with --redis: how long the coordinator remembers scored delayed-task ids, 1 min…30 days (default 86400000 = 24 h)')
    .action(async (flags: Record<string, unknown>) => {
      const o = resolveCommandOptions(validatorSchema, flags, {
        commodity: 'SUBNET_COMMODITY', stateDir: 'SUBNET_STATE_DIR', metricsPort: 'SUBNET_METRICS_PORT', metricsHost: 'SUBNET_METRICS_HOST', metricsAllow: 'SUBNET_METRICS_ALLOW',
        logLevel: 'LOG_LEVEL', logFormat: 'LOG_FORMAT', weightsSemantics: 'SUBNET_WEIGHTS_SEMANTICS', redis: 'SUBNET_REDIS',
      });
      if (!o.redis && (o.role || o.workers > 0)) throw new UserError('--role and --workers need --redis URL', { hint: 'e.g. --redis redis://127.0.0.1:6379 --workers 3' });
      if (!o.redis && o.scoredRetentionMs !== undefined) throw new UserError('--scored-retention-ms needs --redis URL: the embedded validator keeps no scored-id set');
      const log = createLogger({ level: o.logLevel, format: o.logFormat });
      const modules = o.mechanism !== undefined ? parseMechanismModules(o.mechanism) : null;
      const mechanisms: Record<number, Commodity> = {};
      for (const [id, path] of modules ?? []) mechanisms[id] = await loadCommodityModule(path);
      const commodity = modules ? null : await loadCommodityModule(o.commodity);
      const ref = walletRefOf(o);
      const hotkey = await loadHotkey(ref);
      const statePath = o.stateDir ?? join(homedir(), '.subnetkit', 'validators', ref.name, ref.hotkey, `netuid${o.netuid}`);
      const chain = await openChain(o.chain);
      try {
        const uid = await chain.getUid(o.netuid, hotkey.ss58Address);
        if (uid === null) throw new UserError(`hotkey ${hotkey.ss58Address} is not registered on subnet ${o.netuid}`, { hint: 'register it with `subnet register`, and stake to it with `subnet stake add`' });
        if (o.redis) {
          if (o.role !== 'worker') await explainMissingPermit(chain, o.netuid, uid, log);
          const stop = await runSplitValidator({
            role: o.role ?? 'coordinator', workers: o.workers, redisUrl: o.redis, chain, netuid: o.netuid, hotkey, statePath,
            commodity: commodity ?? new Map(Object.entries(mechanisms).map(([id, c]) => [Number(id), c] as const)),
            alpha: o.alpha, resyncEveryBlocks: o.resyncBlocks, roundIntervalMs: o.roundIntervalMs, disableWeights: o.disableWeights, weightsSemantics: o.weightsSemantics,
            maxQueued: o.maxQueued, leaseMs: o.leaseMs, jobTimeoutMs: o.jobTimeoutMs, jobLockMs: o.jobLockMs, scoredRetentionMs: o.scoredRetentionMs, workerConcurrency: o.workerConcurrency, metricsPort: o.metricsPort, metricsHost: o.metricsHost, metricsAllow: o.metricsAllow, log,
          });
          log.info({ uid, role: o.role ?? 'coordinator', hotkey: hotkey.ss58Address }, `split validator running ${commodity ? commodity.name : Object.entries(mechanisms).map(([id, c]) => `${id}:${c.name}`).join(' ')}`);
          onShutdown(async () => {
            await stop();
            await chain.close();
          }, log);
          return;
        }
        await explainMissingPermit(chain, o.netuid, uid, log);
        const options = { alpha: o.alpha, resyncEveryBlocks: o.resyncBlocks, concurrency: o.concurrency, roundIntervalMs: o.roundIntervalMs, disableWeights: o.disableWeights, weightsSemantics: o.weightsSemantics, logger: log };
        const handle = commodity
          ? await startValidator({ chain, netuid: o.netuid, hotkey, commodity, statePath, options })
          : await startMechanismValidators({ chain, netuid: o.netuid, hotkey, mechanisms, statePath, options });
        const metrics = o.metricsPort !== undefined ? await serveMetrics(handle.metrics, { port: o.metricsPort, host: o.metricsHost, allow: o.metricsAllow }) : null;
        if (metrics) log.info({ host: o.metricsHost, port: metrics.port }, 'metrics on /metrics');
        const names = commodity ? commodity.name : Object.entries(mechanisms).map(([id, c]) => `${id}:${c.name}`).join(' ');
        log.info({ uid, statePath, hotkey: hotkey.ss58Address }, `validator running ${names}`);
        onShutdown(async () => {
          await metrics?.close();
          await handle.stop();
          await chain.close();
        }, log);
      } catch (e) {
        await chain.close();
        throw e;
      }
    });
}
