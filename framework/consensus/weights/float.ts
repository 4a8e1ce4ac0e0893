/**
 * Float arithmetic as numpy does it, so SDK results can be reproduced bit for bit.
 * A JS number is an IEEE double; float32 arithmetic is emulated by rounding every intermediate with
 * Math.fround (exact for + − × ÷, because a double carries more than 2·24+2 significand bits).
 */

export type FloatDtype = 'float32' | 'float64';

export type Rounder = (x: number) => number;

const identity: Rounder = (x) => x;

/** The rounding applied after each operation of the given dtype. */
export function rounderFor(dtype: FloatDtype): Rounder {
  return dtype === 'float32' ? Math.fround : identity;
}

/** numpy's pairwise-summation block size (PW_BLOCKSIZE in loops_utils.h). */
const PW_BLOCKSIZE = 128;

function pairwise(a: ArrayLike<number>, start: number, n: number, r: Rounder): number {
  if (n < 8) {
    let res = r(0);
    for (let i = 0; i < n; i++) res = r(res + a[start + i]);
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    // Eight interleaved accumulators, combined as a balanced tree, then the tail sequentially.
    const acc = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[start + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) acc[j] = r(acc[j] + a[start + i + j]);
    }
    let res = r(r(r(acc[0] + acc[1]) + r(acc[2] + acc[3])) + r(r(acc[4] + acc[5]) + r(acc[6] + acc[7])));
    for (; i < n; i++) res = r(res + a[start + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(pairwise(a, start, n2, r) + pairwise(a, start + n2, n - n2, r));
}

/** `np.sum` of a contiguous 1-d array: numpy's pairwise summation, rounded in `dtype`. */
export function npSum(a: ArrayLike<number>, dtype: FloatDtype): number {
  const r = rounderFor(dtype);
  // add.reduce starts from the identity 0, so the whole array goes through pairwise summation.
  return r(0 + pairwise(a, 0, a.length, r));
}

/** `np.cumsum`: a plain running sum, rounded in `dtype`. */
export function npCumsum(a: ArrayLike<number>, dtype: FloatDtype): number[] {
  const r = rounderFor(dtype);
  const out: number[] = new Array(a.length);
  let acc = 0;
  for (let i = 0; i < a.length; i++) {
    acc = i === 0 ? r(a[0]) : r(acc + a[i]);
    out[i] = acc;
  }
  return out;
}

/**
 * `np.quantile(a, q)` with the default 'linear' method and a Python-float `q` (weak promotion: the result
 * keeps `a`'s dtype). Mirrors numpy 2.x `_quantile` + `_lerp`, including the `t ≥ 0.5` branch.
 */
export function npQuantileLinear(a: ArrayLike<number>, q: number, dtype: FloatDtype): number {
  const r = rounderFor(dtype);
  const n = a.length;
  if (n === 0) throw new RangeError('quantile of an empty array');
  const sorted = Array.from(a).sort((x, y) => x - y);
  const virtualIndex = (n - 1) * q;
  let prev = Math.floor(virtualIndex);
  let next = prev + 1;
  if (virtualIndex >= n - 1) prev = next = n - 1;
  const lo = sorted[prev];
  const hi = sorted[next];
  const t = virtualIndex - Math.floor(virtualIndex);
  const diff = r(hi - lo);
  // The weak Python float `t` (and `1 - t`) is cast to the array dtype before multiplying.
  if (t >= 0.5) return r(hi - r(diff * r(1 - t)));
  return r(lo + r(diff * r(t)));
}

/** Python's `round(x)` for a float: nearest integer, ties to even (banker's rounding). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
