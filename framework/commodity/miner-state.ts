import type { z } from 'zod';

/** How a commodity declares its per-miner state: a zod schema (validated on load) and a fresh value. */
export interface MinerStateDef<S> {
  schema: z.ZodType<S>;
  initial: () => S;
}

/** Read/write access to per-miner state, keyed by hotkey. */
export interface MinerStateAccess<S> {
  get(hotkey: string): S;
  set(hotkey: string, value: S): void;
  update(hotkey: string, fn: (prev: S) => S): S;
  has(hotkey: string): boolean;
  hotkeys(): string[];
}

/**
 * Per-miner state keyed by hotkey. `syncHotkeys` is called with the metagraph's hotkeys after every
 * resync: a hotkey that left (uid recycled to a new hotkey, or deregistered) is dropped, so whoever
 * takes the uid starts from `initial()` — never inheriting the previous owner's history.
 */
export class MinerStateStore<S> implements MinerStateAccess<S> {
  private readonly map = new Map<string, S>();
  constructor(private readonly def: MinerStateDef<S>) {}

  get(hotkey: string): S {
    return this.map.get(hotkey) ?? this.def.initial();
  }

  set(hotkey: string, value: S): void {
    this.map.set(hotkey, this.def.schema.parse(value));
  }

  update(hotkey: string, fn: (prev: S) => S): S {
    const next = fn(this.get(hotkey));
    this.set(hotkey, next);
    return next;
  }

  has(hotkey: string): boolean {
    return this.map.has(hotkey);
  }

  /**
   * A view for scorers whose writes for hotkeys `isCurrent` rejects are dropped: a scorer still running
   * when a resync removed a hotkey must not bring its state back after syncHotkeys dropped it.
   */
  guarded(isCurrent: (hotkey: string) => boolean): MinerStateAccess<S> {
    return {
      get: (hk) => this.get(hk),
      set: (hk, v) => {
        if (isCurrent(hk)) this.set(hk, v);
      },
      update: (hk, fn) => {
        const next = fn(this.get(hk));
        if (isCurrent(hk)) this.set(hk, next);
        return next;
      },
      has: (hk) => this.has(hk),
      hotkeys: () => this.hotkeys(),
    };
  }

  hotkeys(): string[] {
    return [...this.map.keys()];
  }

  /** Drop state of hotkeys not in `current`; returns the dropped hotkeys. */
  syncHotkeys(current: readonly string[]): string[] {
    const keep = new Set(current);
    const dropped: string[] = [];
    for (const hk of this.map.keys()) {
      if (!keep.has(hk)) {
        this.map.delete(hk);
        dropped.push(hk);
      }
    }
    return dropped;
  }

  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.map);
  }

  /** Load persisted entries; an entry that fails the schema is dropped (reset) rather than crashing the validator. */
  load(data: Record<string, unknown>): { loaded: number; invalid: string[] } {
    this.map.clear();
    const invalid: string[] = [];
    for (const [hk, raw] of Object.entries(data)) {
      const r = this.def.schema.safeParse(raw);
      if (r.success) this.map.set(hk, r.data);
      else invalid.push(hk);
    }
    return { loaded: this.map.size, invalid };
  }
}
