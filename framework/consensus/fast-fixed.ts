/**
 * I32F32 arithmetic on raw bits held in plain Numbers (exact integers below 2^53), for the hot loops of
 * runEpoch. Products of two raw values need up to 2^96, so they are split into 16-bit limbs; divisions
 * are done as exact long division in chunks small enough that every intermediate stays below 2^53.
 * Out-of-range operands fall back to the BigInt primitives, so results are always bit-identical.
 */
import { checkedDiv, satMul } from './fixed.ts';

export const ONE_N = 4294967296; // 2^32
const LIMB = 65536;
const BIG = 2 ** 47;

/** floor(a·b / 2^32) (substrate-fixed `saturating_mul`, no saturation needed in range). */
export function mulFloor(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  const neg = (a < 0) !== (b < 0);
  const x = a < 0 ? -a : a;
  const y = b < 0 ? -b : b;
  if (x >= BIG || y >= BIG) return Number(satMul(BigInt(a), BigInt(b)));
  const xh = Math.floor(x / LIMB);
  const xl = x - xh * LIMB;
  const yh = Math.floor(y / LIMB);
  const yl = y - yh * LIMB;
  const low = xl * yl;
  const mid = xh * yl + xl * yh + Math.floor(low / LIMB);
  const q = xh * yh + Math.floor(mid / LIMB);
  if (q >= 2 ** 52) return Number(satMul(BigInt(a), BigInt(b)));
  if (!neg) return q;
  // floor of a negative value: one more unless the product was an exact multiple of 2^32
  return low % LIMB === 0 && mid % LIMB === 0 ? -q : -(q + 1);
}

/** trunc(a·2^32 / b) for a ≥ 0 (subtensor `safe_div`: 0 for b = 0). */
export function divTrunc(a: number, b: number): number {
  if (b === 0) return 0;
  if (a < 0 || b < 0 || b >= 2 ** 50 || a >= 2 ** 52) return Number(checkedDiv(BigInt(a), BigInt(b)) ?? 0n);
  let q = Math.floor(a / b);
  if (q >= 2 ** 20) return Number(checkedDiv(BigInt(a), BigInt(b)) ?? 0n);
  let r = a - q * b;
  if (b <= 2 ** 36) {
    // two 16-bit steps: r < b ≤ 2^36 keeps r·2^16 below 2^52
    let t = r * LIMB;
    let d = Math.floor(t / b);
    q = q * LIMB + d;
    r = t - d * b;
    t = r * LIMB;
    d = Math.floor(t / b);
    return q * LIMB + d;
  }
  // chunk size so that r·2^s < b·2^s < 2^52
  const step = Math.min(32, 52 - Math.ceil(Math.log2(b + 1)));
  let rem = 32;
  while (rem > 0) {
    const s = rem < step ? rem : step;
    const m = 2 ** s;
    const t = r * m;
    const d = Math.floor(t / b);
    q = q * m + d;
    r = t - d * b;
    rem -= s;
  }
  return q;
}

/** `fixed_proportion_to_u16`: floor(x·65535 / 2^32), saturated to [0, 65535]. */
export function toU16(x: number): number {
  if (x <= 0) return 0;
  const v = Math.floor((x * 65535) / ONE_N);
  return v > 65535 ? 65535 : v;
}

/** `inplace_normalize` on Numbers. */
export function normalizeN(xs: number[]): number[] {
  let s = 0;
  for (const x of xs) s += x;
  if (s === 0) return xs.slice();
  return xs.map((x) => divTrunc(x, s));
}
