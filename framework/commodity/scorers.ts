/** Composable scoring helpers: pure functions over plain numbers so results are easy to persist and audit. */

/** 1 when the check passed, else 0. */
export function correctness(ok: boolean): number {
  return ok ? 1 : 0;
}

/** Linear latency score: 1 at 0 ms, 0 at (or beyond) the timeout. */
export function latencyScore(ms: number, timeoutMs: number): number {
  if (!Number.isFinite(ms) || timeoutMs <= 0) return 0;
  return Math.min(1, Math.max(0, 1 - ms / timeoutMs));
}

/**
 * Speed relative to the round's fastest valid answer: fastest / own, clipped to [floor, 1].
 * `null` entries (wrong or missing answers) get 0 and do not set the pace.
 */
export function relativeSpeed(times: ReadonlyArray<number | null>, opts: { floor?: number } = {}): number[] {
  const floor = opts.floor ?? 0;
  const valid = times.filter((t): t is number => t !== null && Number.isFinite(t) && t >= 0);
  if (valid.length === 0) return times.map(() => 0);
  const fastest = Math.max(Math.min(...valid), 1e-3);
  return times.map((t) => (t === null || !Number.isFinite(t) || t < 0 ? 0 : Math.min(1, Math.max(floor, fastest / Math.max(t, 1e-3)))));
}

/** Exponential moving average; an unknown `prev` counts as 0, so new miners ramp up (as in the template). */
export function ema(prev: number | undefined, value: number, alpha: number): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError('EMA alpha must be in (0, 1]');
  const v = Number.isFinite(value) ? value : 0;
  const p = prev === undefined || !Number.isFinite(prev) ? 0 : prev;
  return alpha * v + (1 - alpha) * p;
}

/** Append to a bounded window (returns a new array with at most `size` newest values). */
export function windowPush(window: readonly number[], value: number, size: number): number[] {
  const next = [...window, Number.isFinite(value) ? value : 0];
  return next.length > size ? next.slice(next.length - size) : next;
}

export function windowMean(window: readonly number[]): number {
  return window.length === 0 ? 0 : window.reduce((a, b) => a + b, 0) / window.length;
}

/** Product of factors (e.g. correctness × relative speed); NaN factors count as 0. */
export function product(...factors: number[]): number {
  return factors.reduce((a, b) => a * (Number.isFinite(b) ? b : 0), 1);
}

/** Lower bound of the Wilson score interval for a success rate (z = 1.96 ≈ 95 %); 0 with no trials. */
export function wilsonLowerBound(successes: number, trials: number, z = 1.96): number {
  if (trials <= 0) return 0;
  const p = Math.min(1, Math.max(0, successes / trials));
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const margin = z * Math.sqrt((p * (1 - p) + z2 / (4 * trials)) / trials);
  return Math.max(0, (centre - margin) / (1 + z2 / trials));
}

/** Beta reputation (Storj style): decay both counts by `lambda`, then add the outcome `v` ∈ [0, 1] with weight `w`. */
export function betaUpdate(prev: { alpha: number; beta: number }, v: number, opts: { lambda?: number; weight?: number } = {}): { alpha: number; beta: number } {
  const lambda = opts.lambda ?? 0.99;
  const w = opts.weight ?? 1;
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0));
  return { alpha: lambda * prev.alpha + w * x, beta: lambda * prev.beta + w * (1 - x) };
}

export function betaMean(r: { alpha: number; beta: number }): number {
  const s = r.alpha + r.beta;
  return s > 0 ? r.alpha / s : 0;
}
