/**
 * Bytes of request bodies held in memory (reading, parsed, waiting for admission, in the handler), per
 * caller and in total. Reserved before a body is read, so a burst of large bodies is refused up front
 * instead of being buffered; returned when the exchange ends.
 */
export interface ByteBudgetOptions {
  maxBytes: number;
  maxBytesPerCaller: number;
}

/** Why a reservation was refused (→ 503, connection closed: the body was not read). */
export class BudgetExceeded extends Error {
  constructor(readonly scope: 'caller' | 'total', readonly limit: number) {
    super(
      scope === 'caller'
        ? `Service unavailable: this caller already has request bodies in flight up to its limit of ${limit} bytes`
        : `Service unavailable: request bodies in flight reached the axon's limit of ${limit} bytes`,
    );
    this.name = 'BudgetExceeded';
  }
}

export class ByteBudget {
  private readonly maxBytes: number;
  private readonly maxPerCaller: number;
  private readonly perCaller = new Map<string, number>();
  private used = 0;

  constructor(opts: ByteBudgetOptions) {
    this.maxBytes = opts.maxBytes;
    this.maxPerCaller = opts.maxBytesPerCaller;
  }

  /** Bytes reserved right now, in total and by `key`. */
  get total(): number {
    return this.used;
  }
  heldBy(key: string): number {
    return this.perCaller.get(key) ?? 0;
  }

  /** Reserve `n` more bytes for `key`; throws BudgetExceeded (reserving nothing) when either limit would be passed. */
  take(key: string, n: number): void {
    if (n <= 0) return;
    const mine = this.perCaller.get(key) ?? 0;
    if (mine + n > this.maxPerCaller) throw new BudgetExceeded('caller', this.maxPerCaller);
    if (this.used + n > this.maxBytes) throw new BudgetExceeded('total', this.maxBytes);
    this.perCaller.set(key, mine + n);
    this.used += n;
  }

  /** Give back `n` bytes of `key`'s reservation. */
  give(key: string, n: number): void {
    if (n <= 0) return;
    const left = (this.perCaller.get(key) ?? 0) - n;
    if (left > 0) this.perCaller.set(key, left);
    else this.perCaller.delete(key);
    this.used = Math.max(0, this.used - n);
  }

  /** A per-request handle: `take` as bytes arrive, `release()` once (idempotent) when the exchange ends. */
  open(key: string): Reservation {
    return new Reservation(this, key);
  }
}

export class Reservation {
  bytes = 0;
  private done = false;
  constructor(
    private readonly budget: ByteBudget,
    readonly key: string,
  ) {}
  /** Reserve `n` more bytes; throws BudgetExceeded. */
  take(n: number): void {
    if (this.done) return;
    this.budget.take(this.key, n);
    this.bytes += n;
  }
  /** Reserve up to `n` bytes in total (counting what is already reserved). */
  ensure(n: number): void {
    if (n > this.bytes) this.take(n - this.bytes);
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    this.budget.give(this.key, this.bytes);
    this.bytes = 0;
  }
}
