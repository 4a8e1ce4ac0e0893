/**
 * Replay memory for btauth/1: remembers every accepted (hotkey, nonce) pair for `retentionMs`. The verifier
 * records a pair only after its signature verified, so unauthenticated traffic cannot fill it.
 */
export type NonceVerdict = 'fresh' | 'replayed' | 'pressure';

export interface NonceStore {
  /** How long a recorded pair is remembered; the verifier refuses a store shorter than maxAge + allowedSkew. */
  readonly retentionMs: number;
  /** Record the pair if unseen ('fresh'); 'replayed' when it was seen; 'pressure' when memory cannot tell. */
  record(hotkey: string, nonce: string): NonceVerdict | Promise<NonceVerdict>;
  close?(): Promise<void>;
}

export interface MemoryNonceStoreOptions {
  /** Default 60 000 ms (the SDK's default). */
  retentionMs?: number;
  /** Most pairs kept at once (default 200 000 ≈ 3 300 requests/s for a 60 s retention). */
  capacity?: number;
  /** Clock, unix ms (tests). */
  nowMs?: () => number;
}

export const MEMORY_NONCE_DEFAULTS = { retentionMs: 60_000, capacity: 200_000 } as const;

/**
 * Bounded in-memory store: a ring of pairs in record order (so expiry is a sweep from the oldest) plus a Set
 * for lookups; memory is fixed by `capacity`. When full, the oldest pair is dropped before its time and its
 * nonce raises a floor: a first-seen nonce at or below the floor is refused ('pressure', retry with a fresh
 * nonce), so dropping an entry can never re-open a replay.
 */
export class MemoryNonceStore implements NonceStore {
  readonly retentionMs: number;
  readonly capacity: number;
  private readonly nowMs: () => number;
  private readonly keys: Array<string | undefined>;
  private readonly expires: Float64Array;
  private readonly nonceMs: Float64Array;
  private readonly seen = new Set<string>();
  private head = 0;
  private count = 0;
  private floorMs = -Infinity;

  constructor(opts: MemoryNonceStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? MEMORY_NONCE_DEFAULTS.retentionMs;
    this.capacity = opts.capacity ?? MEMORY_NONCE_DEFAULTS.capacity;
    if (!(this.retentionMs > 0)) throw new Error('nonce store retentionMs must be > 0');
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new Error('nonce store capacity must be a positive integer');
    this.nowMs = opts.nowMs ?? Date.now;
    this.keys = new Array<string | undefined>(this.capacity);
    this.expires = new Float64Array(this.capacity);
    this.nonceMs = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  record(hotkey: string, nonce: string): NonceVerdict {
    const now = this.nowMs();
    this.expire(now);
    const key = `${hotkey}:${nonce}`;
    if (this.seen.has(key)) return 'replayed';
    // ms precision is plenty for the floor (a nonce is ns, beyond 2^53: Number() rounds it, never by a ms)
    const ms = Number(nonce) / 1e6;
    if (ms <= this.floorMs) return 'pressure';
    if (this.count === this.capacity) {
      if (this.nonceMs[this.head] as number > this.floorMs) this.floorMs = this.nonceMs[this.head] as number;
      this.drop();
    }
    const i = (this.head + this.count) % this.capacity;
    this.keys[i] = key;
    this.expires[i] = now + this.retentionMs;
    this.nonceMs[i] = ms;
    this.count++;
    this.seen.add(key);
    return 'fresh';
  }

  private expire(now: number): void {
    while (this.count > 0 && (this.expires[this.head] as number) <= now) this.drop();
  }

  private drop(): void {
    const k = this.keys[this.head];
    if (k !== undefined) this.seen.delete(k);
    this.keys[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}
