import type { SparseRow } from '../consensus/types.ts';

const U16_MAX = 65535;

/** Python's `round` (half to even), which the SDK's convert_weights_and_uids_for_emit uses. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Turn relative weights into the row subtensor stores: divide by the max so the largest entry becomes
 * 65535, `round(w/max·65535)`. Zeros stay as explicit entries (they matter to Yuma 3's sparse bonds).
 * Returns null when there is nothing to set (no entry or all zero), like the SDK's `([], [])`.
 */
export function maxUpscaleToU16(entries: Array<[number, number]>): SparseRow | null {
  let max = 0;
  for (const [, v] of entries) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`weight must be a finite non-negative number, got ${v}`);
    if (v > max) max = v;
  }
  if (max <= 0) return null;
  return [...entries]
    .sort((a, b) => a[0] - b[0])
    .map(([uid, v]): [number, number] => [uid, Math.min(U16_MAX, roundHalfEven((v / max) * U16_MAX))]);
}

/** u16 proportion → fraction of 1, as subtensor's `u16_proportion_to_fixed`. */
export function u16ToFraction(u: number): number {
  return u / U16_MAX;
}
