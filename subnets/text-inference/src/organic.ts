/**
 * Organic results waiting to be counted: the gateway spot-checks a share of real users' answers and records
 * them here; the next synthetic round's `score` merges them into its rewards (so they feed the same EMA).
 */
import { organicReward, type Measured, type Pace } from './scoring.ts';

export class OrganicLedger {
  private readonly pending = new Map<string, number[]>();
  private readonly maxPerHotkey = 64;
  checked = 0;
  failed = 0;
  constructor(private readonly floor: number) {}

  record(m: Measured, pace: Pace | null): number {
    const r = organicReward(m, pace, this.floor);
    const list = this.pending.get(m.hotkey) ?? [];
    if (list.length < this.maxPerHotkey) list.push(r);
    this.pending.set(m.hotkey, list);
    this.checked++;
    if (r === 0) this.failed++;
    return r;
  }

  /** Each hotkey's reward becomes the mean of its synthetic reward (if any) and its organic ones. */
  mergeInto(rewards: Record<string, number>): Record<string, number> {
    const out = { ...rewards };
    for (const [hotkey, list] of this.pending) {
      const all = hotkey in out ? [out[hotkey]!, ...list] : list;
      out[hotkey] = all.reduce((a, b) => a + b, 0) / all.length;
    }
    this.pending.clear();
    return out;
  }

  pendingCount(): number {
    return [...this.pending.values()].reduce((a, l) => a + l.length, 0);
  }
}
