import type { Logger } from 'pino';
import type { CallerLimiter, RateLimiter } from './rate-limiter.ts';
import type { RateLimitStore, RateRule } from './redis-rate-limit.ts';

/** Which limit refused a request: this process alone, the store shared by all processes, or this process while the store is down. */
export type LimitScope = 'process' | 'shared' | 'fallback';

export interface SharedLimiterOptions {
  store: RateLimitStore;
  rule: RateRule;
  /** The per-process limiter used while the store is unreachable. */
  local: RateLimiter;
  /** The axon's hotkey: processes behind one hotkey share buckets, other miners on the same Redis do not. */
  hotkey: string;
  log: Logger;
  onRefused(scope: LimitScope): void;
  onStoreError(): void;
  /** A store answer slower than this counts as unreachable (default 250 ms). */
  timeoutMs?: number;
}

class StoreTimeout extends Error {}

/**
 * The per-caller limit shared through a store, failing OPEN to the per-process limit: while the store is
 * unreachable each process still limits every caller at the same rate on its own (at worst N processes let
 * N × the rate through, as before sharing), so a Redis outage never stops a miner from answering. Refusing
 * everything instead would turn a Redis hiccup into zero answers (and zero incentive) on every process.
 */
export class SharedLimiter implements CallerLimiter {
  private degraded = false;
  private readonly timeoutMs: number;

  constructor(private readonly o: SharedLimiterOptions) {
    this.timeoutMs = o.timeoutMs ?? 250;
  }

  take(caller: string): number | Promise<number> {
    if (!this.o.store.ready) return this.fallback(caller, new Error('rate limit store is not connected'));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeout(`rate limit store did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([this.o.store.take(`${this.o.hotkey}:${caller}`, this.o.rule), late]).then(
      (waitMs) => {
        clearTimeout(timer);
        if (this.degraded) {
          this.degraded = false;
          this.o.log.info('rate limit store reachable again: per-caller limits are shared across processes');
        }
        if (waitMs > 0) this.o.onRefused('shared');
        return waitMs;
      },
      (e: unknown) => {
        clearTimeout(timer);
        return this.fallback(caller, e);
      },
    );
  }

  private fallback(caller: string, e: unknown): number {
    this.o.onStoreError();
    if (!this.degraded) {
      this.degraded = true;
      this.o.log.warn({ err: (e as Error).message }, 'rate limit store unreachable: limiting each caller per process until it is back (fail-open)');
    }
    const waitMs = this.o.local.take(caller);
    if (waitMs > 0) this.o.onRefused('fallback');
    return waitMs;
  }
}
