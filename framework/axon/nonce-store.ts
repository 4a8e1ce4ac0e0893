/**
 * Replay protection for `hotkey:uuid` endpoints with bounded memory.
 *
 * Rules (SDK `default_verify`, v ≥ 7.2.0, applied to every caller here):
 *  - a nonce (unix ns) must be newer than `now − 4 s − timeout` (freshness window);
 *  - a nonce must be strictly greater than the last accepted one for the same endpoint key;
 *  - additionally (not in the SDK) a nonce more than `maxFutureMs` ahead of our clock is rejected, so a
 *    caller cannot pin an entry far in the future.
 *
 * Memory: an entry is only useful while its nonce is inside the widest freshness window
 * (`4 s + maxTimeout`); older entries are dropped because freshness alone already rejects a replay of them.
 * Optional `reorderWindowMs` (default 0 = the SDK's strict rule): also accept a nonce up to that far *below*
 * the newest one for the endpoint if that exact nonce was not seen before — so one dendrite session sending
 * concurrent requests over several connections is not rejected for arrival-order reordering, while every
 * exact replay still is (up to 64 out-of-order nonces are remembered per endpoint).
 *
 * When `capacity` live entries exist, the least recently updated one is evicted and its nonce raises a
 * global floor that every *first-seen* nonce must exceed — so eviction can never re-open a replay.
 */

import { ALLOWED_NONCE_DELTA_NS as ALLOWED_DELTA_NS } from '../protocol/index.ts';

export type NonceVerdict =
  | { ok: true }
  | { ok: false; reason: 'stale' | 'future' | 'replay' | 'evicted'; message: string };

export interface NonceStoreOptions {
  /** Max entries kept (default 100 000). */
  capacity?: number;
  /** Largest request timeout accepted, ms; sets how long entries stay relevant. */
  maxTimeoutMs: number;
  /** How far ahead of our clock a nonce may be, ms (default 5 000). */
  maxFutureMs?: number;
  /** Tolerated arrival reordering per endpoint, ms (default 0: strictly increasing, as the SDK). */
  reorderWindowMs?: number;
  /** Clock in unix ns (injectable for tests). */
  nowNs?: () => bigint;
}

import { Lru } from './lru.ts';

const NS_PER_MS = 1_000_000n;

function defaultNowNs(): bigint {
  // hrtime is monotonic, so anchor it to the wall clock once; the sum has ns resolution and no Date.now() cost.
  return wallAnchor + process.hrtime.bigint();
}
const wallAnchor = BigInt(Date.now()) * NS_PER_MS - process.hrtime.bigint();

interface Endpoint {
  max: bigint;
  /** Accepted nonces below `max` inside the reorder window (only with reorderWindowMs > 0). */
  recent?: bigint[];
  /** Nonces at or below this are rejected (raised when `recent` overflows). */
  low?: bigint;
}

const MAX_RECENT = 64;

export class NonceStore {
  private readonly last = new Lru<Endpoint>();
  private readonly reorderNs: bigint;
  private readonly capacity: number;
  private readonly maxFutureNs: bigint;
  private readonly retentionNs: bigint;
  private readonly nowNs: () => bigint;
  /** Highest nonce ever evicted while still live; first-seen nonces must exceed it. */
  private floor = 0n;
  private opsSinceSweep = 0;

  constructor(opts: NonceStoreOptions) {
    this.capacity = opts.capacity ?? 100_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new Error('nonce capacity must be a positive integer');
    this.maxFutureNs = BigInt(Math.round((opts.maxFutureMs ?? 5_000))) * NS_PER_MS;
    this.retentionNs = ALLOWED_DELTA_NS + BigInt(Math.ceil(opts.maxTimeoutMs)) * NS_PER_MS;
    this.nowNs = opts.nowNs ?? defaultNowNs;
    this.reorderNs = BigInt(Math.round(opts.reorderWindowMs ?? 0)) * NS_PER_MS;
  }

  get size(): number {
    return this.last.size;
  }

  /** Check a nonce without recording it (done before the signature is verified). */
  check(key: string, nonce: bigint, timeoutMs: number): NonceVerdict {
    const now = this.nowNs();
    if (nonce > now + this.maxFutureNs) {
      return { ok: false, reason: 'future', message: `Nonce is too far in the future: more than ${Number(this.maxFutureNs / NS_PER_MS) / 1000}s ahead of the axon clock` };
    }
    const prev = this.last.get(key);
    if (prev !== undefined) {
      if (nonce <= prev.max && !this.acceptsReordered(prev, nonce)) {
        return { ok: false, reason: 'replay', message: 'Nonce is too old, a newer one was last processed' };
      }
    } else if (nonce <= this.floor) {
      return { ok: false, reason: 'evicted', message: 'Nonce is too old: axon nonce memory is under pressure, retry with a fresh nonce' };
    }
    const allowedNs = ALLOWED_DELTA_NS + BigInt(Math.round(timeoutMs * 1e6));
    if (nonce <= now - allowedNs) {
      const diffS = Number(now - nonce) / 1e9;
      return { ok: false, reason: 'stale', message: `Nonce is too old: acceptable delta is ${(Number(allowedNs) / 1e9).toFixed(2)} seconds but request was ${diffS.toFixed(2)} seconds old` };
    }
    return { ok: true };
  }

  /** Record an accepted nonce (after the signature verified). Call `check` first in the same tick. */
  commit(key: string, nonce: bigint): void {
    const prev = this.last.get(key);
    this.last.set(key, prev === undefined || this.reorderNs === 0n ? { max: nonce } : this.merge(prev, nonce));
    if (this.last.size > this.capacity) this.evictOldest();
    if (++this.opsSinceSweep >= 1024) this.sweep();
  }

  /** check + commit. */
  checkAndCommit(key: string, nonce: bigint, timeoutMs: number): NonceVerdict {
    const v = this.check(key, nonce, timeoutMs);
    if (v.ok) this.commit(key, nonce);
    return v;
  }

  /** Drop entries whose nonce fell out of the widest freshness window (amortised; scans from the oldest). */
  sweep(): void {
    this.opsSinceSweep = 0;
    const cutoff = this.nowNs() - this.retentionNs;
    for (let o = this.last.oldest(); o !== undefined && o.value.max <= cutoff; o = this.last.oldest()) this.last.shift();
  }

  private evictOldest(): void {
    const first = this.last.shift();
    if (first === undefined) return;
    const nonce = first.value.max;
    if (nonce > this.floor && nonce > this.nowNs() - this.retentionNs) this.floor = nonce;
  }

  private acceptsReordered(e: Endpoint, nonce: bigint): boolean {
    if (this.reorderNs === 0n || nonce === e.max) return false;
    if (nonce <= e.max - this.reorderNs || (e.low !== undefined && nonce <= e.low)) return false;
    return !(e.recent?.includes(nonce) ?? false);
  }

  private merge(e: Endpoint, nonce: bigint): Endpoint {
    const recent = e.recent ?? [];
    let max = e.max;
    if (nonce > max) {
      recent.push(max);
      max = nonce;
    } else recent.push(nonce);
    const floor = max - this.reorderNs;
    let kept = recent.filter((n) => n > floor);
    let low = e.low;
    if (kept.length > MAX_RECENT) {
      kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const dropped = kept.slice(0, kept.length - MAX_RECENT);
      kept = kept.slice(kept.length - MAX_RECENT);
      const top = dropped[dropped.length - 1] as bigint;
      low = low === undefined || top > low ? top : low;
    }
    return { max, recent: kept, low };
  }
}
