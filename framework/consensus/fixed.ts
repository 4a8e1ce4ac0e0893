/**
 * Exact emulation of substrate-fixed v0.6.0 (as used by subtensor) on raw integers held in BigInt.
 * An I32F32 value x is stored as its raw bits X = x·2^32 (a signed 64-bit integer); I64F64 as x·2^64.
 *
 * Rules (substrate-fixed `mul_div_widen`): multiplication is `(A·B) >> 32` (floor, arithmetic shift),
 * division is `(A << 32) / B` truncated toward zero; `checked_*` gives null on overflow or a zero divisor,
 * subtensor's `safe_div` maps that null to 0, `saturating_*` clamps to the type's range.
 */

export const FRAC = 32n;
/** Raw bits of I32F32 1.0. */
export const ONE = 1n << FRAC;
/** Raw bits of I32F32 0.5. */
export const HALF = 1n << 31n;
export const I64_MAX = (1n << 63n) - 1n;
export const I64_MIN = -(1n << 63n);
export const U16_MAX_FIXED = 65535n << FRAC;

/** Clamp to the I32F32 range (saturating). */
export function sat(x: bigint): bigint {
  return x > I64_MAX ? I64_MAX : x < I64_MIN ? I64_MIN : x;
}

/** I32F32 from an integer (u16, u64 small enough, i16): exact, saturating. */
export function fromInt(v: number | bigint): bigint {
  return sat(BigInt(v) << FRAC);
}

export function satAdd(a: bigint, b: bigint): bigint {
  return sat(a + b);
}

export function satSub(a: bigint, b: bigint): bigint {
  return sat(a - b);
}

/** `checked_mul`: floor(A·B / 2^32), null when it does not fit. */
export function checkedMul(a: bigint, b: bigint): bigint | null {
  const p = (a * b) >> FRAC;
  return p > I64_MAX || p < I64_MIN ? null : p;
}

/** `saturating_mul`. */
export function satMul(a: bigint, b: bigint): bigint {
  return sat((a * b) >> FRAC);
}

/** `checked_div`: trunc(A·2^32 / B), null on zero divisor or overflow. */
export function checkedDiv(a: bigint, b: bigint): bigint | null {
  if (b === 0n) return null;
  const q = (a << FRAC) / b; // BigInt division truncates toward zero, like Rust's i128 `/`
  return q > I64_MAX || q < I64_MIN ? null : q;
}

/** subtensor `safe_div` on fixed types: `checked_div(..).unwrap_or_default()`. */
export function safeDiv(a: bigint, b: bigint): bigint {
  return checkedDiv(a, b) ?? 0n;
}

/** `saturating_div` (divisor is never zero at the call sites). */
export function satDiv(a: bigint, b: bigint): bigint {
  return sat((a << FRAC) / b);
}

/** Sum with plain addition, as Rust's `iter().sum()` (values here never approach the range limits). */
export function sum(xs: readonly bigint[]): bigint {
  let s = 0n;
  for (const x of xs) s += x;
  return s;
}

/** `inplace_normalize`: divide by the sum unless the sum is zero. */
export function normalize(xs: readonly bigint[]): bigint[] {
  const s = sum(xs);
  if (s === 0n) return xs.slice();
  return xs.map((x) => safeDiv(x, s));
}

/** `fixed_proportion_to_u16(x)` = saturating u16 of `x·65535`, i.e. floor(X·65535 / 2^32) in [0, 65535]. */
export function proportionToU16(x: bigint): number {
  const v = satMul(x, U16_MAX_FIXED) >> FRAC;
  return v < 0n ? 0 : v > 65535n ? 65535 : Number(v);
}

/** `u16_proportion_to_fixed(u)` = u / 65535 (also kappa, bonds penalty, alpha low/high). */
export function u16ProportionToFixed(u: number): bigint {
  return safeDiv(BigInt(u) << FRAC, U16_MAX_FIXED);
}

/** I32F32 → u64 RAO via I96F32: floor(X·E / 2^32), saturating to [0, 2^64−1]. */
export function proportionTimesRao(x: bigint, rao: bigint): bigint {
  const v = (x * rao) >> FRAC;
  const U64_MAX = (1n << 64n) - 1n;
  return v < 0n ? 0n : v > U64_MAX ? U64_MAX : v;
}

/**
 * EMA alpha from BondsMovingAverage (per million): `1 − I32F32(I64F64(bma) / 1e6)`; the I64F64 → I32F32
 * conversion truncates the low 32 fraction bits, so this is ONE − floor(bma·2^32 / 1e6).
 */
export function emaAlphaFromMovingAverage(bma: bigint): bigint {
  const ma64 = (bma << 128n) / (1_000_000n << 64n); // I64F64 raw of bma / 1e6
  return satSub(ONE, sat(ma64 >> FRAC));
}

/** substrate-fixed's I9F23 `E` widened to I32F32: floor(e·2^23) << 9. */
const E_FIXED = 22802601n << 9n;

/**
 * `substrate_fixed::transcendental::exp` for I32F32: a Taylor series cut at i = 31 (frac bits − 1), with
 * floor multiplications and truncating divisions at every term, and 1/result for negative inputs.
 * Returns null where the Rust returns Err (overflow).
 */
export function fixedExp(x: bigint): bigint | null {
  if (x === 0n) return ONE;
  if (x === ONE) return E_FIXED;
  const neg = x < 0n;
  const op = neg ? -x : x;
  let result = op + ONE;
  if (result > I64_MAX) return null;
  let term = op;
  for (let i = 2n; i < FRAC; i++) {
    const t = checkedMul(term, op);
    if (t === null) return null;
    const d = checkedDiv(t, i << FRAC);
    if (d === null) return null;
    term = d;
    result += term;
    if (result > I64_MAX) return null;
  }
  if (neg) return checkedDiv(ONE, result);
  return result;
}

const EXP_MIN = -20n << FRAC;
const EXP_MAX = 20n << FRAC;

/** subtensor `exp_safe`: input clamped to [−20, 20]; an Err becomes 0 (input ≤ 0) or I32F32::MAX. */
export function expSafe(x: bigint): bigint {
  const safe = x < EXP_MIN ? EXP_MIN : x > EXP_MAX ? EXP_MAX : x;
  const r = fixedExp(safe);
  if (r !== null) return r;
  return safe <= 0n ? 0n : I64_MAX;
}

function clamp(v: bigint, lo: bigint, hi: bigint): bigint {
  const m = v < hi ? v : hi; // value.min(high).max(low), as clamp_value
  return m > lo ? m : lo;
}

/**
 * subtensor `alpha_sigmoid`: per-entry liquid alpha from consensus c, weight w, bond b (all I32F32 raw).
 * `steepness` is the raw I32F32 of the i16 AlphaSigmoidSteepness.
 */
export function alphaSigmoid(c: bigint, w: bigint, b: bigint, lo: bigint, hi: bigint, steepness: bigint): bigint {
  const diffBuy = clamp(satSub(w, c), 0n, ONE);
  const diffSell = clamp(satSub(b, w), 0n, ONE);
  const combined = w >= b ? diffBuy : diffSell;
  return alphaFromDiff(combined, lo, hi, steepness);
}

/** The part of `alpha_sigmoid` after the combined difference is known (cacheable on it). */
export function alphaFromDiff(combined: bigint, lo: bigint, hi: bigint, steepness: bigint): bigint {
  const k = satDiv(steepness, -100n << FRAC);
  const e = expSafe(satMul(k, satSub(combined, HALF)));
  const sigmoid = satDiv(ONE, satAdd(ONE, e));
  const alpha = satAdd(lo, satMul(sigmoid, satSub(hi, lo)));
  return clamp(alpha, lo, hi);
}
