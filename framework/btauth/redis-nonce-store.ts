import { Redis, type RedisOptions } from 'ioredis';
import type { NonceStore, NonceVerdict } from './nonce-store.ts';

export interface RedisNonceStoreOptions {
  /** An ioredis client (not closed by the store), a redis:// URL, or ioredis options. */
  redis: Redis | string | RedisOptions;
  /** Default 60 000 ms; stored with `EX` in whole seconds (rounded up). */
  retentionMs?: number;
  /** Key prefix (default `btauth:nonce:`); share it between the processes that serve one hotkey. */
  prefix?: string;
}

/**
 * Shared replay memory for several server processes behind one hotkey: `SET prefix+hotkey:nonce 1 NX EX s`
 * records a pair atomically, so whichever process sees a pair second refuses it. A Redis error propagates
 * (the axon answers 503): without its replay memory a server must not accept requests.
 */
export class RedisNonceStore implements NonceStore {
  readonly retentionMs: number;
  private readonly redis: Redis;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly seconds: number;

  constructor(opts: RedisNonceStoreOptions) {
    this.retentionMs = opts.retentionMs ?? 60_000;
    if (!(this.retentionMs > 0)) throw new Error('nonce store retentionMs must be > 0');
    this.seconds = Math.ceil(this.retentionMs / 1000);
    this.prefix = opts.prefix ?? 'btauth:nonce:';
    if (opts.redis instanceof Redis) {
      this.redis = opts.redis;
      this.owned = false;
    } else {
      // fail fast instead of queueing commands forever while Redis is down
      const base: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false };
      this.redis = typeof opts.redis === 'string' ? new Redis(opts.redis, base) : new Redis({ ...base, ...opts.redis });
      this.owned = true;
      // connection errors surface on the commands (→ 503); without a listener ioredis also prints each one
      this.redis.on('error', () => {});
    }
  }

  async record(hotkey: string, nonce: string): Promise<NonceVerdict> {
    const r = await this.redis.set(`${this.prefix}${hotkey}:${nonce}`, '1', 'EX', this.seconds, 'NX');
    return r === 'OK' ? 'fresh' : 'replayed';
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
