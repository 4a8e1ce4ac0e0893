/**
 * Bounded admission queue: at most `maxConcurrent` holders run; up to `maxQueue` more wait, served in
 * priority order (higher first, FIFO among equals). When the queue is full a newcomer with a higher
 * priority than the lowest waiter displaces it; otherwise the newcomer is refused at once (→ 503).
 * A waiter still queued at its deadline is refused with 'timeout' (→ 408).
 */
export type Release = () => void;

export class AdmissionError extends Error {
  constructor(readonly kind: 'overflow' | 'timeout' | 'closed', message: string) {
    super(message);
    this.name = 'AdmissionError';
  }
}

interface Waiter {
  priority: number;
  seq: number;
  resolve: (r: Release) => void;
  reject: (e: AdmissionError) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface AdmissionOptions {
  maxConcurrent: number;
  maxQueue: number;
}

export class AdmissionQueue {
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
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
  }

  get running(): number {
    return this.active;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot right now if one is free and nobody waits (no promise: the common, unloaded case), else undefined. */
  tryAcquire(): Release | undefined {
    if (this.closed || this.active >= this.maxConcurrent || this.waiters.length > 0) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Get a slot, waiting at most until `deadline` (Date.now() ms). Resolves to an idempotent release. */
  acquire(priority: number, deadline: number): Promise<Release> {
    if (this.closed) return Promise.reject(new AdmissionError('closed', 'axon is shutting down'));
    const now = this.tryAcquire();
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
      const w: Waiter = { priority, seq: this.seq++, resolve, reject, timer: undefined };
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

  private releaser(): Release {
    // bind, not a closure: under tsx each closure made per request also pays a name-keeping call
    return this.releaseSlot.bind(this, { done: false });
  }

  private releaseSlot(slot: { done: boolean }): void {
    if (slot.done) return;
    slot.done = true;
    this.active--;
    this.pump();
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.waiters.length > 0) {
      const w = this.waiters.shift() as Waiter;
      clearTimeout(w.timer);
      this.active++;
      w.resolve(this.releaser());
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
