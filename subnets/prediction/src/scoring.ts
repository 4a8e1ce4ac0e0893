import type { BinaryEvent, PathsEvent } from './events.ts';
import { normCdf, normPdf } from './random.ts';

/**
 * Proper scoring rules (losses: lower is better) and the market-relative skill built on them.
 * Skill = baseline loss − forecaster loss, so a forecaster who copies the market scores exactly 0,
 * one who beats it scores > 0, and one who is worse scores < 0 (SN6 Numinous' construction).
 */

/** Brier loss (p − o)². */
export function brier(p: number, outcome: 0 | 1): number {
  return (p - outcome) ** 2;
}

/** Log loss −ln p(outcome), with p clipped to [eps, 1 − eps] so one confident miss is bounded (SN6 clips to [.01, .99]). */
export function logLoss(p: number, outcome: 0 | 1, eps = 0.01): number {
  const q = Math.min(1 - eps, Math.max(eps, p));
  return -Math.log(outcome === 1 ? q : 1 - q);
}

/**
 * CRPS of an ensemble (the estimator of `properscoring.crps_ensemble`): mean|xᵢ − y| − ½·mean|xᵢ − xⱼ|,
 * in O(M log M) from the sorted sample: Σᵢⱼ|xᵢ − xⱼ| = 2·Σᵢ (2i − M − 1)·x₍ᵢ₎. Sorts `xs` in place.
 */
export function crpsEnsembleSortedInPlace(xs: Float64Array, y: number): number {
  xs.sort();
  const m = xs.length;
  let abs = 0;
  let pair = 0;
  for (let i = 0; i < m; i++) {
    const x = xs[i]!;
    abs += Math.abs(x - y);
    pair += (2 * i + 1 - m) * x;
  }
  return abs / m - pair / (m * m);
}

export function crpsEnsemble(xs: readonly number[], y: number): number {
  return crpsEnsembleSortedInPlace(Float64Array.from(xs), y);
}

/** Closed-form CRPS of a normal N(μ, σ²) at y (Gneiting et al. 2005). */
export function crpsNormal(mu: number, sigma: number, y: number): number {
  const z = (y - mu) / sigma;
  return sigma * (z * (2 * normCdf(z) - 1) + 2 * normPdf(z) - 1 / Math.sqrt(Math.PI));
}

export type BinaryRule = 'brier' | 'log';

/** Market-relative skill of a binary forecast: loss(market) − loss(p). */
export function binarySkill(event: Pick<BinaryEvent, 'market'>, p: number, outcome: 0 | 1, rule: BinaryRule = 'brier'): number {
  const loss = rule === 'brier' ? brier : logLoss;
  return loss(event.market, outcome) - loss(p, outcome);
}

/** Log-return from the reference price, in basis points (SN50 scores returns in bps). */
const bps = (price: number, ref: number) => 1e4 * Math.log(price / ref);

/** CRPS of sample paths summed over the event's points, on bps log-returns. `paths[i][j]` = path i at point j. */
export function pathsCrps(event: Pick<PathsEvent, 'refPrice'>, paths: readonly (readonly number[])[], realized: readonly number[]): number {
  const m = paths.length;
  const col = new Float64Array(m);
  let total = 0;
  for (let j = 0; j < realized.length; j++) {
    for (let i = 0; i < m; i++) col[i] = bps(paths[i]![j]!, event.refPrice);
    total += crpsEnsembleSortedInPlace(col, bps(realized[j]!, event.refPrice));
  }
  return total;
}

/** The market's CRPS: its normal baseline at each point, closed form. */
export function baselineCrps(event: Pick<PathsEvent, 'refPrice' | 'baseline'>, realized: readonly number[]): number {
  let total = 0;
  for (let j = 0; j < realized.length; j++) total += crpsNormal(event.baseline.mean[j]!, event.baseline.sd[j]!, bps(realized[j]!, event.refPrice));
  return total;
}

/** Relative CRPS skill (baseline − forecast) / baseline, clipped to [−1, 1] so one wild forecast is bounded. */
export function pathsSkill(event: Pick<PathsEvent, 'refPrice' | 'baseline'>, paths: readonly (readonly number[])[], realized: readonly number[]): number {
  const base = baselineCrps(event, realized);
  const own = pathsCrps(event, paths, realized);
  if (!(base > 0)) return 0;
  return Math.max(-1, Math.min(1, (base - own) / base));
}
