import { z } from 'zod';
import type { WeightTransform } from '../../../framework/commodity/index.ts';

/**
 * Per-miner record of resolved events and how it becomes a score (SN6 Numinous' shape):
 *  - a rolling window of the newest `windowEvents` events the miner was asked about;
 *  - a coverage gate: a miner that answered (and validly revealed) fewer than `minCoverage` of them
 *    does not qualify; a missed event counts as `missedSkill` in the mean, so skipping hard events
 *    is not free;
 *  - a pessimistic bound: the miner is ranked on mean − z·√((s² + τ²)/n), so a newcomer with a few
 *    lucky events (the sybil swarm's best member) ranks low until the evidence accumulates.
 */
export const ledgerEntry = z.object({ id: z.string(), at: z.number(), skill: z.number().nullable() }).strict();
export type LedgerEntry = z.infer<typeof ledgerEntry>;

export interface LedgerConfig {
  windowEvents: number;
  minCoverage: number;
  minEvents: number;
  missedSkill: number;
  z: number;
  /** Prior standard deviation τ added to the sample's: keeps the bound wide while n is small. */
  priorSd: number;
}

export const LEDGER_DEFAULTS: LedgerConfig = { windowEvents: 300, minCoverage: 0.85, minEvents: 20, missedSkill: -0.1, z: 1.645, priorSd: 0.1 };

/** Append an event's entry once (an event already in the window is never counted twice); keep the newest. */
export function recordEntry(window: readonly LedgerEntry[], entry: LedgerEntry, size: number): LedgerEntry[] {
  if (window.some((e) => e.id === entry.id)) return [...window];
  const next = [...window, entry].sort((a, b) => a.at - b.at);
  return next.length > size ? next.slice(next.length - size) : next;
}

export interface Standing {
  n: number;
  answered: number;
  coverage: number;
  mean: number;
  bound: number;
  qualified: boolean;
}

export function standing(window: readonly LedgerEntry[], cfg: LedgerConfig = LEDGER_DEFAULTS): Standing {
  const n = window.length;
  if (n === 0) return { n, answered: 0, coverage: 0, mean: 0, bound: Number.NEGATIVE_INFINITY, qualified: false };
  const xs = window.map((e) => e.skill ?? cfg.missedSkill);
  const answered = window.filter((e) => e.skill !== null).length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const bound = mean - cfg.z * Math.sqrt((variance + cfg.priorSd ** 2) / n);
  const coverage = answered / n;
  return { n, answered, coverage, mean, bound, qualified: n >= cfg.minEvents && coverage >= cfg.minCoverage };
}

/** The score the validator keeps for a miner: its margin over the market (bound, floored at 0) when it qualifies. */
export function margin(s: Standing): number {
  return s.qualified ? Math.max(0, s.bound) : 0;
}

export type Payout = { kind: 'margin2' } | { kind: 'softmax'; temperature: number };

/**
 * Scores (margins) → weights. `margin2`: w ∝ margin² (SN6: about the top few earn). `softmax`: over the
 * miners with a positive margin only, w ∝ exp(margin / T). When nobody beats the market and `burnUid`
 * is set, all weight goes to that uid (the subnet owner's, whose incentive is burned), instead of
 * spreading emission over miners who added nothing.
 */
export function payoutTransform(payout: Payout, burnUid: number | null): WeightTransform {
  return (scores) => {
    const m = scores.map((s) => (Number.isFinite(s) && s > 0 ? s : 0));
    let w: number[];
    if (payout.kind === 'margin2') w = m.map((x) => x * x);
    else {
      const hi = Math.max(0, ...m);
      w = m.map((x) => (x > 0 ? Math.exp((x - hi) / payout.temperature) : 0));
    }
    const sum = w.reduce((a, b) => a + b, 0);
    if (sum > 0) return w.map((x) => x / sum);
    if (burnUid !== null && burnUid >= 0 && burnUid < scores.length) return scores.map((_, uid) => (uid === burnUid ? 1 : 0));
    return scores.map(() => 0);
  };
}
