/**
 * What the verifier needs from one row of reference logits, in two passes and no allocation: the best `k`
 * ids (the order of `topIndices`), the rank of the miner's token and of EOS, and the row's log-sum-exp.
 * The rows are the validator's whole per-token cost besides the model (a tiny model makes a batched forward
 * cheap, so a per-row log-softmax array, a sort-based sampler and one pass per check used to cost a third
 * of the verification).
 */

// exp(x) = 2^hi · 2^(lo/64) · e^r: 2^hi from POW2 (hi = −1075 … 0), 2^(lo/64) from FRAC, |r| ≤ ln2/128
const POW2 = Float64Array.from({ length: 1076 }, (_, i) => 2 ** (i - 1075));
const FRAC = Float64Array.from({ length: 64 }, (_, i) => 2 ** (i / 64));
const INV_STEP = 64 / Math.LN2;
const STEP = Math.LN2 / 64;

/**
 * exp(x) for x ≤ 0 with a 64-entry table and a degree-5 polynomial (relative error ~1e-13, far below the
 * float32 noise of the logits it is applied to); about twice as fast as Math.exp in V8, which matters at
 * vocab × tokens calls per answer.
 */
export function expNonPositive(x: number): number {
  if (!(x > -745)) return x === x ? 0 : NaN; // underflow; NaN passes through
  const t = Math.floor(x * INV_STEP + 0.5);
  const r = x - t * STEP;
  return (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r / 120))))) * FRAC[t & 63]! * POW2[(t >> 6) + 1075]!;
}

/** Reusable per-verifier buffers and the results of the last scan. */
export class RowScan {
  /** The best `count` ids of the last row, best first (value descending, then id ascending). */
  top: Int32Array;
  private topVals: Float64Array;
  count = 0;
  /** How many values of the row are strictly greater than the token's value (its 0-based rank). */
  tokenRank = 0;
  /** log Σ exp(row): log-softmax(row)[i] = row[i] − logSumExp. */
  logSumExp = 0;

  constructor(capacity = 32) {
    this.top = new Int32Array(capacity);
    this.topVals = new Float64Array(capacity);
  }

  /**
   * One pass for the top `k` and the token's rank, one for the log-sum-exp. A `tokenId` outside the row
   * gives rank 0. Throws when the row is not finite (a broken reference model is the validator's problem).
   */
  scan(row: ArrayLike<number>, k: number, tokenId: number): void {
    const v = row.length;
    k = Math.max(1, Math.min(k, v));
    if (this.top.length < k) {
      this.top = new Int32Array(k);
      this.topVals = new Float64Array(k);
    }
    const top = this.top;
    const vals = this.topVals;
    const tv = tokenId >= 0 && tokenId < v ? row[tokenId]! : Infinity;
    let tr = 0;
    let n = 0;
    let last = -Infinity; // vals[k − 1] once the list is full
    for (let i = 0; i < v; i++) {
      const x = row[i]!;
      tr += +(x > tv); // branch-free: the comparison is unpredictable for low-rank tokens
      if (n === k && !(x > last)) continue;
      let j = n < k ? n++ : k - 1;
      while (j > 0 && vals[j - 1]! < x) {
        vals[j] = vals[j - 1]!;
        top[j] = top[j - 1]!;
        j--;
      }
      vals[j] = x;
      top[j] = i;
      if (n === k) last = vals[k - 1]!;
    }
    const max = vals[0]!;
    if (!Number.isFinite(max)) throw new Error(`reference model returned a non-finite logit (${max})`);
    let z = 0;
    for (let i = 0; i < v; i++) z += expNonPositive(row[i]! - max);
    if (!Number.isFinite(z)) throw new Error('reference model returned a non-finite logit');
    this.count = n;
    this.tokenRank = tr;
    this.logSumExp = max + Math.log(z);
  }
}
