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
    let r0 = a[start], r1 = a[start + 1], r2 = a[start + 2], r3 = a[start + 3];
    let r4 = a[start + 4], r5 = a[start + 5], r6 = a[start + 6], r7 = a[start + 7];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const p = start + i;
      r0 = r(r0 + a[p]); r1 = r(r1 + a[p + 1]); r2 = r(r2 + a[p + 2]); r3 = r(r3 + a[p + 3]);
      r4 = r(r4 + a[p + 4]); r5 = r(r5 + a[p + 5]); r6 = r(r6 + a[p + 6]); r7 = r(r7 + a[p + 7]);
    }
    let res = r(r(r(r0 + r1) + r(r2 + r3)) + r(r(r4 + r5) + r(r6 + r7)));
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
  const sorted = Float64Array.from(a).sort(); // typed-array sort is numeric and much faster
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
