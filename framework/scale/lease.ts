import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * One coordinator per validator hotkey: a Redis key set with NX and a TTL, renewed by its holder. A holder
 * that dies stops renewing and the lease expires after `ttlMs`; a holder that cannot renew (Redis gone,
 * paused process) must assume it lost the lease and stop setting weights. Weight submissions check
 * `held()` right before the extrinsic, so two coordinators never submit at once.
 */
export class Lease {
  private timer: NodeJS.Timeout | null = null;
  private heldUntil = 0;

  constructor(private readonly redis: Redis, private readonly key: string, readonly id: string, private readonly ttlMs: number) {}

  async tryAcquire(): Promise<boolean> {
    const ok = (await this.redis.set(this.key, this.id, 'PX', this.ttlMs, 'NX')) === 'OK';
    if (ok) this.heldUntil = Date.now() + this.ttlMs;
    return ok;
  }

  async holder(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  /** Renew now; false when the lease is no longer ours. */
  async renew(): Promise<boolean> {
    const started = Date.now();
    const r = (await this.redis.eval(RENEW, 1, this.key, this.id, String(this.ttlMs))) as number;
    this.heldUntil = r === 1 ? started + this.ttlMs : 0;
    return r === 1;
  }

  /** Ours, by the last successful renewal, with a safety margin of a third of the TTL. */
  held(): boolean {
    return Date.now() < this.heldUntil - this.ttlMs / 3;
  }

  /** Keep renewing every ttl/3; `onLost` fires once when a renewal says the lease is gone. */
  keepRenewing(onLost: () => void): void {
    const tick = () => {
      this.renew().then(
        (ok) => {
          if (!ok) onLost();
          else this.timer = setTimeout(tick, this.ttlMs / 3);
        },
        () => {
          // Redis unreachable: keep trying; held() turns false once the margin passes
          this.timer = setTimeout(tick, Math.min(500, this.ttlMs / 3));
        },
      );
    };
    this.timer = setTimeout(tick, this.ttlMs / 3);
  }

  async release(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.heldUntil = 0;
    await this.redis.eval(RELEASE, 1, this.key, this.id).catch(() => {});
  }
}
