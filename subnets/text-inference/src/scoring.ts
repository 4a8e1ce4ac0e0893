/** From verified answers to rewards: quality gate × speed relative to the round's passing miners. */
import { relativeSpeed } from '../../../framework/commodity/scorers.ts';

export interface Measured {
  hotkey: string;
  /** Verified quality in [0, 1]; 0 = failed. */
  quality: number;
  /** Time to first token (ms) and mean gap between tokens (ms); null when unknown. */
  ttftMs: number | null;
  perTokenMs: number | null;
}

export interface Pace {
  ttftMs: number;
  perTokenMs: number;
}

/** Per-chunk timestamps → TTFT and the mean inter-token gap. */
export function timing(ttftMs: number | null, arrivals: readonly number[]): { ttftMs: number | null; perTokenMs: number | null } {
  const n = arrivals.length;
  return { ttftMs, perTokenMs: n >= 2 ? (arrivals[n - 1]! - arrivals[0]!) / (n - 1) : null };
}

/**
 * reward = quality × √(rel(TTFT) · rel(per-token gap)); rel = fastest/own among passing answers, floored at
 * `floor` (SN1 clips its speed factor at .3) so a slower honest miner keeps a share a cheater never gets.
 * Returns the rewards and the round's pace (fastest passing TTFT and gap) for organic answers scored later.
 */
export function roundRewards(m: readonly Measured[], floor: number): { rewards: Record<string, number>; pace: Pace | null } {
  const pass = m.map((x) => x.quality > 0);
  const ttft = relativeSpeed(m.map((x, i) => (pass[i] ? x.ttftMs : null)), { floor });
  const gap = relativeSpeed(m.map((x, i) => (pass[i] ? (x.perTokenMs ?? x.ttftMs) : null)), { floor });
  const rewards: Record<string, number> = {};
  m.forEach((x, i) => {
    rewards[x.hotkey] = pass[i] ? x.quality * Math.sqrt(ttft[i]! * gap[i]!) : 0;
  });
  const ok = m.filter((_, i) => pass[i]);
  const pace = ok.length === 0 ? null : {
    ttftMs: Math.min(...ok.map((x) => x.ttftMs ?? Infinity)),
    perTokenMs: Math.min(...ok.map((x) => x.perTokenMs ?? x.ttftMs ?? Infinity)),
  };
  return { rewards, pace };
}

/** An organic answer's reward against the last synthetic round's pace (same formula, same floor). */
export function organicReward(x: Measured, pace: Pace | null, floor: number): number {
  if (x.quality <= 0) return 0;
  if (pace === null) return x.quality;
  const rel = (fast: number, own: number | null) => (own === null || !Number.isFinite(fast) ? 1 : Math.min(1, Math.max(floor, fast / Math.max(own, 1e-3))));
  return x.quality * Math.sqrt(rel(pace.ttftMs, x.ttftMs) * rel(pace.perTokenMs, x.perTokenMs ?? x.ttftMs));
}
