/**
 * Bounded admission queue: at most `maxConcurrent` holders run; up to `maxQueue` more wait, served in
 * priority order (higher first, FIFO among equals). When the queue is full a newcomer with a higher
 * priority than the lowest waiter displaces it; otherwise the newcomer is refused at once (→ 503).
 * A waiter still queued at its deadline is refused with 'timeout' (→ 408).
 *
 * Ordering alone does not stop starvation (slow requests from one caller can hold every slot), so a holder
 * may name a `Claimant`: one caller runs at most `maxPerCaller` at once, and all low-stake callers together
 * at most `lowStakeMaxConcurrent`; the rest of the slots stay free for staked callers. A waiter over its cap
 * waits without blocking the eligible waiters behind it.
 */
export type Release = () => void;

export class AdmissionError extends Error {
  constructor(readonly kind: 'overflow' | 'timeout' | 'closed', message: string) {
    super(message);
    this.name = 'AdmissionError';
  }
}

/** Who holds a slot: `key` identifies the caller (its public key or canonical address), `low` = below the stake threshold. */
export interface Claimant {
  key: string;
  low: boolean;
}

interface Waiter {
  who: Claimant | undefined;
  priority: number;
  seq: number;
  resolve: (r: Release) => void;
  reject: (e: AdmissionError) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface AdmissionOptions {
  maxConcurrent: number;
  maxQueue: number;
  /** Slots one claimant may hold at once (default maxConcurrent: no cap). */
  maxPerCaller?: number;
  /** Slots all low-stake claimants may hold together (default maxConcurrent: no cap). */
  lowStakeMaxConcurrent?: number;
}

export class AdmissionQueue {
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private readonly maxPerCaller: number;
  private readonly lowMax: number;
  /** Slots held per claimant key (only keys holding ≥ 1). */
  private readonly held = new Map<string, number>();
  private lowActive = 0;
  /** Sorted: best (highest priority, oldest) first. */
  private readonly waiters: Waiter[] = [];
  private active = 0;
  private seq = 0;
  private closed = false;

  constructor(opts: AdmissionOptions) {
    if (!Number.isInteger(opts.maxConcurrent) || opts.maxConcurrent < 1) throw new Error('maxConcurrent must be an integer >= 1');
    if (!Number.isInteger(opts.maxQueue) || opts.maxQueue < 0) throw new Error('maxQueue must be an integer >= 0');
    this.maxConcurrent = opts.maxConcurrent;
    this.maxQueue = opts.maxQueue;
    this.maxPerCaller = opts.maxPerCaller ?? opts.maxConcurrent;
    this.lowMax = opts.lowStakeMaxConcurrent ?? opts.maxConcurrent;
    if (!Number.isInteger(this.maxPerCaller) || this.maxPerCaller < 1) throw new Error('maxPerCaller must be an integer >= 1');
    if (!Number.isInteger(this.lowMax) || this.lowMax < 1) throw new Error('lowStakeMaxConcurrent must be an integer >= 1');
  }

  /** Slots `key` holds right now. */
  heldBy(key: string): number {
    return this.held.get(key) ?? 0;
  }
  get lowStakeRunning(): number {
    return this.lowActive;
  }

  get running(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * A slot right now if one is free and `who` is under its caps (no promise: the common, unloaded case),
   * else undefined. Waiters never block this unfairly: after every release the eligible ones are served,
   * so any waiter left while a slot is free is over its own cap.
   */
  tryAcquire(who?: Claimant): Release | undefined {
    if (this.closed || this.active >= this.maxConcurrent) return undefined;
    if (who === undefined) {
      if (this.waiters.length > 0) return undefined;
    } else if (!this.eligible(who)) return undefined;
    this.take(who);
    return this.releaser(who);
  }

  /** Get a slot, waiting at most until `deadline` (Date.now() ms). Resolves to an idempotent release. */
  acquire(priority: number, deadline: number, who?: Claimant): Promise<Release> {
    if (this.closed) return Promise.reject(new AdmissionError('closed', 'axon is shutting down'));
    const now = this.tryAcquire(who);
    if (now !== undefined) return Promise.resolve(now);
    if (this.waiters.length >= this.maxQueue) {
      const worst = this.waiters[this.waiters.length - 1];
      if (worst === undefined || worst.priority >= priority) {
        return Promise.reject(new AdmissionError('overflow', 'Service unavailable: admission queue is full'));
      }
      this.waiters.pop();
      this.settle(worst, new AdmissionError('overflow', 'Service unavailable: displaced by a higher-priority request'));
    }
    return new Promise<Release>((resolve, reject) => {
      const w: Waiter = { who, priority, seq: this.seq++, resolve, reject, timer: undefined };
      const wait = deadline - Date.now();
      w.timer = setTimeout(() => this.expire(w), Math.max(0, wait));
      this.waiters.splice(this.insertIndex(w), 0, w);
    });
  }

  /** Refuse all waiters and any later acquire (running holders finish normally). */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) this.settle(w, new AdmissionError('closed', 'axon is shutting down'));
  }

  private eligible(who: Claimant | undefined): boolean {
    if (who === undefined) return true;
    if ((this.held.get(who.key) ?? 0) >= this.maxPerCaller) return false;
    return !who.low || this.lowActive < this.lowMax;
  }

  private take(who: Claimant | undefined): void {
    this.active++;
    if (who === undefined) return;
    this.held.set(who.key, (this.held.get(who.key) ?? 0) + 1);
    if (who.low) this.lowActive++;
  }

  private releaser(who: Claimant | undefined): Release {
    // bind, not a closure: under tsx each closure made per request also pays a name-keeping call
    return this.releaseSlot.bind(this, { done: false, who });
  }

  private releaseSlot(slot: { done: boolean; who: Claimant | undefined }): void {
    if (slot.done) return;
    slot.done = true;
    this.active--;
    const who = slot.who;
    if (who !== undefined) {
      const n = (this.held.get(who.key) ?? 1) - 1;
      if (n > 0) this.held.set(who.key, n);
      else this.held.delete(who.key);
      if (who.low) this.lowActive--;
    }
    this.pump();
  }

  /** Serve waiters in priority order, skipping those over their caps (they keep their place). */
  private pump(): void {
    let i = 0;
    while (this.active < this.maxConcurrent && i < this.waiters.length) {
      const w = this.waiters[i] as Waiter;
      if (!this.eligible(w.who)) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      this.take(w.who);
      w.resolve(this.releaser(w.who));
    }
  }

  private expire(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    w.reject(new AdmissionError('timeout', 'queued past the request timeout'));
  }

  private settle(w: Waiter, err: AdmissionError): void {
    clearTimeout(w.timer);
    w.reject(err);
  }

  /** Binary search: after every waiter with priority >= w.priority (FIFO among equals). */
  private insertIndex(w: Waiter): number {
    let lo = 0;
    let hi = this.waiters.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.waiters[mid] as Waiter).priority >= w.priority) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
