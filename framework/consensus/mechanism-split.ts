/**
 * subtensor `split_emissions`: a subnet's epoch emission divided between its incentive mechanisms.
 * Per mechanism `floor(E·split/65535)` (an even `floor(E/count)` when no split is set), padded with
 * zeros, and the rounding remainder credited to mechanism 0.
 */
export function splitEmissions(alpha: bigint, count: number, split: readonly number[] | undefined): bigint[] {
  const out = split ? split.map((s) => (alpha * BigInt(s)) / 65_535n) : Array.from({ length: count }, () => alpha / BigInt(count));
  out.length = count;
  for (let i = 0; i < count; i++) out[i] ??= 0n;
  const rest = alpha - out.reduce((a, b) => a + b, 0n);
  if (rest > 0n) out[0] = out[0]! + rest;
  return out;
}

/** `0.7,0.3` (any non-negative numbers) → u16 shares summing to 65535, the remainder on mechanism 0. */
export function fractionsToSplit(parts: readonly number[]): number[] {
  if (parts.length === 0 || parts.some((x) => !Number.isFinite(x) || x < 0)) throw new RangeError('split entries must be non-negative numbers');
  const total = parts.reduce((a, b) => a + b, 0);
  if (total <= 0) throw new RangeError('split must not be all zeros');
  const u16 = parts.map((x) => Math.floor((x / total) * 65_535));
  u16[0]! += 65_535 - u16.reduce((a, b) => a + b, 0);
  return u16;
}

/** The emission one mechanism's epoch receives (what `epoch_mechanism` is called with). */
export function mechanismEmission(total: bigint, mechid: number, split: readonly number[]): bigint {
  if (!Number.isInteger(mechid) || mechid < 0 || mechid >= split.length) throw new RangeError(`mechanism ${mechid} is not in a ${split.length}-way split`);
  return splitEmissions(total, split.length, split)[mechid]!;
}

/**
 * `--mechid K --split a,b,…` of `subnet consensus epoch` and `subnet simulate`: the mechanism and the
 * u16 split, or null when neither flag is given. Throws RangeError with a one-line reason.
 */
export function mechanismFlags(mechid: string | undefined, split: string | undefined): { mechid: number; split: number[] } | null {
  if (mechid === undefined && split === undefined) return null;
  const id = Number(mechid ?? '0');
  const parts = split === undefined ? [1] : split.split(',').map((p) => Number(p.trim()));
  const u16 = fractionsToSplit(parts);
  if (!Number.isInteger(id) || id < 0 || id >= u16.length) throw new RangeError(`--mechid ${mechid} is not one of the ${u16.length} mechanisms of --split`);
  return { mechid: id, split: u16 };
}
