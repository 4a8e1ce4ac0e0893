import type { SparseRow } from '../consensus/types.ts';
import { roundHalfEven } from '../consensus/weights/float.ts';

const U16_MAX = 65535;

/**
 * Turn relative weights into the row subtensor stores: divide by the max so the largest entry becomes
 * 65535, `round(w/max·65535)` half to even, as the SDK's convertWeightsAndUidsForEmit — except that zeros
 * stay as explicit entries (as in subtensor's Yuma 3 tests): Yuma 3's sparse bonds decay an explicit
 * zero but drop an omitted uid.
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
