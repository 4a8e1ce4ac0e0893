import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

/** One caller's limit: a token bucket of `burst` tokens refilled at `perSecond`. */
export interface RateRule {
  perSecond: number;
  burst: number;
}

/** Where several axon processes keep their per-caller buckets. */
export interface RateLimitStore {
  /** 0 when a token was taken, else the ms until one is available. Rejects when the store is unreachable. */
  take(key: string, rule: RateRule): Promise<number>;
  /** False while the store is known to be unreachable (the caller then decides without it, no wait). */
  readonly ready: boolean;
  close?(): Promise<void>;
}

export interface RedisRateLimitStoreOptions {
  /** An ioredis client (not closed by the store), a redis:// URL, or ioredis options. */
  redis: Redis | string | RedisOptions;
  /** Key prefix (default `axon:rate:`); the axon appends `<its hotkey>:<caller hotkey>`. */
  prefix?: string;
}

/**
 * GCRA (the token bucket as one timestamp, "theoretical arrival time") in one Lua script, so a take is atomic
 * across processes and a bucket is one string key that expires when it has refilled completely (an idle
 * caller costs nothing). The clock is Redis' TIME: processes on machines with skewed clocks share one clock.
 * Returns the wait in µs (0 = allowed).
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nextTat = tat + interval
local allowAt = nextTat - burst * interval
if now < allowAt then return math.max(1, math.ceil(allowAt - now)) end
redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', math.max(1, math.ceil((nextTat - now) / 1000)))
return 0
`;
const TAKE_SHA = createHash('sha1').update(TAKE).digest('hex');

/**
 * Per-caller rate limit shared by every axon process on one Redis (several miner processes behind one
 * hotkey). Same semantics as the in-process RateLimiter (token bucket: `burst`, refilled at `perSecond`), so
 * moving between the two does not change what a caller may send.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;

  constructor(opts: RedisRateLimitStoreOptions) {
    this.prefix = opts.prefix ?? 'axon:rate:';
    if (opts.redis instanceof Redis) {
      this.redis = opts.redis;
      this.owned = false;
    } else {
      // fail fast instead of queueing commands while Redis is down: the axon then falls back to local limits
      const base: RedisOptions = { maxRetriesPerRequest: 1, commandTimeout: 1_000 };
      this.redis = typeof opts.redis === 'string' ? new Redis(opts.redis, base) : new Redis({ ...base, ...opts.redis });
      this.owned = true;
      this.redis.on('error', () => {}); // surfaced on the commands; ioredis would print every reconnect error
    }
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async take(key: string, rule: RateRule): Promise<number> {
    const args = [1, this.prefix + key, Math.round(1e6 / rule.perSecond), rule.burst] as const;
    let us: unknown;
    try {
      us = await this.redis.evalsha(TAKE_SHA, ...args);
    } catch (e) {
      if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
      us = await this.redis.eval(TAKE, ...args);
    }
    return typeof us === 'number' && us > 0 ? Math.ceil(us / 1000) : 0;
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
