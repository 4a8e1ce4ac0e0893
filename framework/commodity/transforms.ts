/**
 * Reward → weight transforms. Input: one score per uid (NaN/undefined = unscored). Output: non-negative
 * weights per uid summing to 1 (or all zero when nobody earned anything, so the caller can skip).
 */
export type WeightTransform = (scores: readonly number[]) => number[];

function clean(scores: readonly number[]): number[] {
  return scores.map((s) => (Number.isFinite(s) && s > 0 ? s : 0));
}

function toUnit(x: number[]): number[] {
  const sum = x.reduce((a, b) => a + b, 0);
  return sum > 0 && Number.isFinite(sum) ? x.map((v) => v / sum) : x.map(() => 0);
}

/** Negatives and NaN → 0, then divide by the sum (L1). */
export const normalize = (): WeightTransform => (scores) => toUnit(clean(scores));

/** x^p then normalize: p > 1 sharpens toward the best miners (SN1 uses ≈9.4, SN19 a cube). */
export const power = (p: number): WeightTransform => {
  if (!(p > 0)) throw new RangeError('power exponent must be > 0');
  return (scores) => toUnit(clean(scores).map((v) => v ** p));
};

/**
 * Softmax over scored entries: w ∝ exp(s / temperature). Unscored (non-finite) entries get 0.
 * A negative temperature favours low scores (SN50 ranks by CRPS, lower is better).
 */
export const softmax = (opts: { temperature: number }): WeightTransform => {
  const t = opts.temperature;
  if (t === 0 || !Number.isFinite(t)) throw new RangeError('softmax temperature must be finite and non-zero');
  return (scores) => {
    const finite = scores.filter((s) => Number.isFinite(s)).map((s) => s / t);
    if (finite.length === 0) return scores.map(() => 0);
    const max = Math.max(...finite);
    return toUnit(scores.map((s) => (Number.isFinite(s) ? Math.exp(s / t - max) : 0)));
  };
};

/** Keep the k best positive scores (ties broken by lower uid), zero the rest, normalize. */
export const topK = (k: number): WeightTransform => (scores) => {
  const c = clean(scores);
  const keep = new Set(
    c.map((v, uid) => ({ v, uid })).filter((e) => e.v > 0).sort((a, b) => b.v - a.v || a.uid - b.uid).slice(0, Math.max(0, k)).map((e) => e.uid),
  );
  return toUnit(c.map((v, uid) => (keep.has(uid) ? v : 0)));
};

/** (s − min) / (max − min) over positive entries, then normalize (SN4/SN26 style). */
export const minMax = (): WeightTransform => (scores) => {
  const c = clean(scores);
  const pos = c.filter((v) => v > 0);
  if (pos.length === 0) return c;
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  if (hi === lo) return toUnit(c.map((v) => (v > 0 ? 1 : 0)));
  return toUnit(c.map((v) => (v > 0 ? (v - lo) / (hi - lo) : 0)));
};

/** Apply transforms left to right. */
export const compose = (...ts: WeightTransform[]): WeightTransform => (scores) => ts.reduce<number[]>((acc, t) => t(acc), scores.slice());
