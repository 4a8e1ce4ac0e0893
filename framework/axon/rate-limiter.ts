/**
 * Per-key token bucket with bounded memory. A bucket that has refilled completely is equivalent to no
 * bucket, so idle keys are forgotten; past `capacity` keys the least recently used bucket is dropped
 * (which can only make the limiter more lenient for that key, never block anyone wrongly).
 */
import { Lru } from './lru.ts';

/**
 * Per-caller admission rate: `take` answers 0 when the request may go on, else the ms until it may. A
 * promise when the verdict needs a shared store (Redis), a plain number when it is local.
 */
export interface CallerLimiter {
  take(key: string): number | Promise<number>;
}

export interface RateLimiterOptions {
  perSecond: number;
  burst: number;
  capacity?: number;
  nowMs?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter implements CallerLimiter {
  private readonly buckets = new Lru<Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly capacity: number;
  private readonly nowMs: () => number;
  private opsSinceSweep = 0;

  constructor(opts: RateLimiterOptions) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1');
    this.perMs = opts.perSecond / 1000;
    this.burst = opts.burst;
    this.capacity = opts.capacity ?? 50_000;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Take one token; returns 0 when allowed, else the ms until a token is available. */
  take(key: string): number {
    const now = this.nowMs();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, at: now };
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    this.buckets.set(key, b);
    if (this.buckets.size > this.capacity) this.buckets.shift();
    if (++this.opsSinceSweep >= 1024) this.sweep(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perMs);
  }

  private sweep(now: number): void {
    this.opsSinceSweep = 0;
    const fullAfterMs = this.burst / this.perMs;
    for (let o = this.buckets.oldest(); o !== undefined && now - o.value.at >= fullAfterMs; o = this.buckets.oldest()) {
      this.buckets.shift();
    }
  }
}
