/**
 * The canonical seeded sampler (greedy / temperature / top-k / top-p). Miner and validator share it: the
 * uniform draw for token i is a hash of (request seed, i), so a validator holding the reference
 * distribution can recompute which token an honest miner must have drawn (SN96's canonical-sampler idea).
 */

export interface SamplingParams {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  seed: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) for draw `index` of request `seed` (53 bits from two murmur3 finalizer rounds). */
export function uniformAt(seed: number, index: number): number {
  const a = fmix32((seed >>> 0) ^ fmix32(index * 2 + 0x9e3779b9));
  const b = fmix32(Math.floor(seed / 4294967296) ^ fmix32(index * 2 + 1 + 0x7f4a7c15) ^ a);
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}

/** log-softmax of one row of logits. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += Math.exp(logits[i]! - max);
  const lz = max + Math.log(z);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lz;
  return out;
}

/** Beyond this many, `topIndices` sorts instead of inserting (insertion is O(values · n)). */
const INSERTION_MAX = 64;

/** Indices of the `n` largest values, largest first (ties: lower id first). */
export function topIndices(values: ArrayLike<number>, n: number): number[] {
  const k = Math.min(n, values.length);
  if (k > INSERTION_MAX) {
    // same order as the insertion below (value descending, then id ascending), O(V log V)
    const all = Array.from({ length: values.length }, (_, i) => i);
    all.sort((a, b) => values[b]! - values[a]! || a - b);
    return all.slice(0, k);
  }
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (best.length === k && v <= values[best[k - 1]!]!) continue;
    let j = best.length < k ? best.length : k - 1;
    if (best.length < k) best.push(i);
    while (j > 0 && values[best[j - 1]!]! < v) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = i;
  }
  return best;
}

/** 0-based rank of `id` (how many tokens score strictly higher). */
export function rankOf(values: ArrayLike<number>, id: number): number {
  const v = values[id]!;
  let r = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > v) r++;
  return r;
}

/** How many top candidates the canonical sampler draws from (1 when greedy, else top_k, 0 = the whole row). */
export function samplerCandidates(p: SamplingParams, vocab: number): number {
  if (p.temperature <= 0) return 1;
  return p.topK > 0 ? Math.min(p.topK, vocab) : vocab;
}

// weights of the candidates; grown on demand, reused (the sampler runs once per token on both sides)
let weights = new Float64Array(64);

/**
 * The canonical draw given the row's best `k` candidates (`cand`, best first, as `topIndices` orders
 * them; it may hold more than `k`): temperature, then top-p over the smallest prefix reaching `topP`.
 * Miner and verifier both draw through here, so the arithmetic (and its rounding) is identical.
 */
export function drawFromCandidates(logits: ArrayLike<number>, cand: ArrayLike<number>, k: number, p: SamplingParams, u: number): number {
  if (p.temperature <= 0 || k === 1) return cand[0]!;
  if (weights.length < k) weights = new Float64Array(Math.max(k, 2 * weights.length));
  const w = weights;
  const first = logits[cand[0]!]!;
  let total = 0;
  for (let i = 0; i < k; i++) {
    w[i] = Math.exp((logits[cand[i]!]! - first) / p.temperature);
    total += w[i]!;
  }
  // top-p: the smallest prefix whose mass reaches topP
  let keep = k;
  if (p.topP < 1) {
    let cum = 0;
    for (let i = 0; i < k; i++) {
      cum += w[i]! / total;
      if (cum >= p.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let i = 0; i < keep; i++) mass += w[i]!;
  let x = u * mass;
  for (let i = 0; i < keep; i++) {
    x -= w[i]!;
    if (x < 0) return cand[i]!;
  }
  return cand[keep - 1]!;
}

/** Draw a token from one row of logits with the canonical sampler and the uniform `u`. */
export function sampleToken(logits: ArrayLike<number>, p: SamplingParams, u: number): number {
  const k = samplerCandidates(p, logits.length);
  return drawFromCandidates(logits, topIndices(logits, k), k, p, u);
}
