/**
 * The validator's check of one streamed answer: ONE forward pass over prompt + response gives the reference
 * distribution at every returned position (cheaper than generating: a batch instead of one step per token),
 * then rank, probability-distance, top-k overlap, EOS/length, fake-logprob and canonical-sampler checks with
 * thresholds from a named preset. Every threshold is a tolerance, never exact equality: the miner runs one
 * token at a time with a KV cache and its own thread count, the verifier a whole batch, so floats differ.
 */
import type { Finish, TokenEvent } from './generate.ts';
import { RowScan } from './reference-row.ts';
import { drawFromCandidates, samplerCandidates, topIndices, uniformAt, type SamplingParams } from './sampler.ts';
import type { KvCache, OnnxLm } from './session.ts';

export interface VerifyPreset {
  name: string;
  /** Which live subnet the thresholds follow (see README). */
  follows: string;
  /** Any token whose reference rank (0-based) is ≥ this fails the answer. */
  maxRank: number;
  /** Also fail a token ranked at or beyond the request's top_k (+ slack for ties), when top_k > 0. */
  respectTopK: boolean;
  /** Fail when more than `maxCount` tokens rank ≥ `rank`. */
  lowRank: { rank: number; maxCount: number } | null;
  /** Fail when more than this share of tokens is not the reference's top-1 (SN4; only meaningful at low temperature). */
  maxNotTop1Share: number | null;
  /** Fail if P(EOS)/P(token) exceeds this at any position: the miner should have stopped (SN19: 100). */
  eosRatio: number | null;
  /** The stop token must rank below this at the stop position (SN1/SN4: EOS in the validator's top-k). */
  eosTopK: number;
  /** Per-token probability distance d = |p_ref − p_claimed| → score; the answer's quality is the mean. */
  probScore: 'sn19' | 'sn4';
  minProbScore: number;
  /** Mean overlap of the claimed top alternatives with the reference top set (SN1 sim .83); null = off. */
  minTopOverlap: number | null;
  /** SN4 OVERFIT: fail if the share of logprobs exactly 0 is ≥ 1 − min(.5·temperature, .6). */
  overfit: boolean;
  /** Share of tokens that must equal the canonical seeded sampler's draw from the reference (SN96 idea); null = off. */
  minSamplerAgreement: number | null;
}

const SN19: VerifyPreset = {
  name: 'sn19', follows: 'SN19 Nineteen (namoray/vision-workers text checker)',
  maxRank: 10, respectTopK: false, lowRank: { rank: 10, maxCount: 3 }, maxNotTop1Share: null, eosRatio: 100, eosTopK: 10,
  probScore: 'sn19', minProbScore: 0.5, minTopOverlap: null, overfit: false, minSamplerAgreement: null,
};
const SN4: VerifyPreset = {
  name: 'sn4', follows: 'SN4 Targon v5 (verifier/verifier.py)',
  maxRank: 75, respectTopK: false, lowRank: { rank: 25, maxCount: 4 }, maxNotTop1Share: 0.5, eosRatio: null, eosTopK: 10,
  probScore: 'sn4', minProbScore: 0.75, minTopOverlap: null, overfit: true, minSamplerAgreement: null,
};
const SN1: VerifyPreset = {
  name: 'sn1', follows: 'SN1 Apex (prompting/rewards/exact_match.py)',
  maxRank: 10, respectTopK: false, lowRank: { rank: 10, maxCount: 0 }, maxNotTop1Share: null, eosRatio: null, eosTopK: 10,
  probScore: 'sn19', minProbScore: 0, minTopOverlap: 0.83, overfit: false, minSamplerAgreement: null,
};
/** The default: SN19's rank/EOS/distance checks + SN4's OVERFIT + SN1's overlap + SN96's canonical sampler replay. */
const CANONICAL: VerifyPreset = {
  name: 'canonical', follows: 'SN19 thresholds + SN4 OVERFIT + SN1 top-k overlap + SN96 canonical seeded sampler',
  maxRank: 10, respectTopK: true, lowRank: { rank: 10, maxCount: 0 }, maxNotTop1Share: null, eosRatio: 100, eosTopK: 10,
  probScore: 'sn19', minProbScore: 0.8, minTopOverlap: 0.83, overfit: true, minSamplerAgreement: 0.9,
};

export const PRESETS = { sn19: SN19, sn4: SN4, sn1: SN1, canonical: CANONICAL } as const satisfies Record<string, VerifyPreset>;
export type PresetName = keyof typeof PRESETS;

export interface VerifyRequest {
  prompt: readonly number[];
  tokens: readonly TokenEvent[];
  finish: Finish;
  params: SamplingParams & { maxTokens: number };
  eosId: number;
}

export interface VerifyResult {
  pass: boolean;
  /** Mean per-token probability score in [0, 1] (0 when failed). */
  quality: number;
  /** Why it failed (empty when it passed). */
  failures: string[];
  stats: { tokens: number; maxRank: number; meanProbScore: number; topOverlap: number | null; samplerAgreement: number; zeroLogprobShare: number };
}

function tokenProbScore(kind: VerifyPreset['probScore'], d: number): number {
  if (kind === 'sn4') return d <= 0.1 ? 1 : 1 - d;
  if (d <= 0.125) return 1;
  if (d <= 0.25) return 1 - (4 * (d - 0.125));
  return 0;
}

/** Longest candidate list the row scan keeps by insertion (as `topIndices`, which sorts beyond 64). */
const SCAN_TOP_MAX = 64;

/**
 * Share of the claimed alternatives that are in the reference's top `refCount` (= how many were claimed),
 * each reference id counted once
 * (claiming the top-1 five times is one hit, not five).
 */
function distinctOverlap(claimed: ReadonlyArray<readonly [number, number]>, ref: Int32Array, refCount: number): number {
  const m = claimed.length;
  let hits = 0;
  for (let i = 0; i < m; i++) {
    const id = claimed[i]![0];
    let inRef = false;
    for (let r = 0; r < refCount && !inRef; r++) inRef = ref[r] === id;
    let repeat = false;
    for (let e = 0; e < i && !repeat; e++) repeat = claimed[e]![0] === id;
    if (inRef && !repeat) hits++;
  }
  return hits / m;
}

export class Verifier {
  /** Every miner in a round answers the same prompt: its KV cache is computed once (prefix caching). */
  private readonly prefixes = new Map<string, Promise<{ cache: KvCache; last: Float32Array }>>();
  private readonly maxPrefixes = 8;
  private readonly scan = new RowScan();
  constructor(
    readonly lm: OnnxLm,
    readonly preset: VerifyPreset = PRESETS.canonical,
  ) {}

  async verify(req: VerifyRequest): Promise<VerifyResult> {
    const p = this.preset;
    const n = req.tokens.length;
    const failures: string[] = [];
    const fail = (why: string) => failures.length < 8 && failures.push(why);
    const empty = { tokens: n, maxRank: 0, meanProbScore: 0, topOverlap: null, samplerAgreement: 0, zeroLogprobShare: 0 };
    if (n === 0) return { pass: false, quality: 0, failures: ['empty response'], stats: empty };
    // length and stop discipline need no model
    if (n > req.params.maxTokens) fail(`runaway: ${n} tokens > max_tokens ${req.params.maxTokens}`);
    const last = req.tokens[n - 1]!.id;
    if (req.finish === 'length' && n < req.params.maxTokens && last !== req.eosId) fail(`early stop: ${n} < max_tokens ${req.params.maxTokens} without EOS`);
    if (req.finish === 'stop' && last !== req.eosId) fail('finish=stop but the last token is not EOS');
    if (req.tokens.slice(0, -1).some((t) => t.id === req.eosId)) fail('EOS in the middle of the response');
    if (failures.length > 0) return { pass: false, quality: 0, failures, stats: empty };

    // the validator's queries fit the model (drawn to fit, organic ones refused) and n ≤ max_tokens here, so
    // this is a validator-side problem: throw (no penalty) rather than fail the miner
    const ctx = this.lm.contextLength;
    if (ctx !== null && req.prompt.length + n - 1 > ctx) throw new Error(`answer of ${n} tokens after a prompt of ${req.prompt.length} exceeds the reference model's context length ${ctx}`);
    const prefix = await this.prefix(req.prompt);
    const vocab = prefix.last.length;
    // row j = the reference distribution of token j: the prompt's last row, then one batched pass over the response
    const rest = n > 1 ? (await this.lm.logits(req.tokens.slice(0, -1).map((t) => t.id), prefix.cache)).logits : new Float32Array(0);
    const rowOf = (j: number) => (j === 0 ? prefix.last : rest.subarray((j - 1) * vocab, j * vocab));
    let maxRank = 0;
    let lowRank = 0;
    let notTop1 = 0;
    let probSum = 0;
    let overlapSum = 0;
    let overlapN = 0;
    let agree = 0;
    let zeros = 0;
    const topKLimit = req.params.topK > 0 ? req.params.topK + 1 : Infinity; // +1: a tie at the boundary may flip
    const kSample = samplerCandidates(req.params, vocab);
    const scan = this.scan;
    const eosValid = req.eosId >= 0 && req.eosId < vocab;
    const logRatio = p.eosRatio !== null ? Math.log(p.eosRatio) : Infinity;
    for (let j = 0; j < n; j++) {
      const t = req.tokens[j]!;
      if (!(t.id >= 0 && t.id < vocab && Number.isInteger(t.id))) {
        fail(`token ${j}: id ${t.id} outside the vocabulary`);
        continue;
      }
      const row = rowOf(j);
      const m = t.top.length;
      // one scan gives the claimed alternatives' reference set and the sampler's candidates (a longer list
      // only when top_k is large: then the sampler sorts the row itself)
      scan.scan(row, Math.max(m, kSample <= SCAN_TOP_MAX ? kSample : 1), t.id);
      const rank = scan.tokenRank;
      maxRank = Math.max(maxRank, rank);
      if (rank >= p.maxRank) fail(`token ${j}: reference rank ${rank} ≥ ${p.maxRank}`);
      if (p.respectTopK && rank >= topKLimit) fail(`token ${j}: rank ${rank} outside the request's top_k ${req.params.topK}`);
      if (p.lowRank && rank >= p.lowRank.rank) lowRank++;
      if (rank > 0) notTop1++;
      if (eosValid && t.id !== req.eosId && row[req.eosId]! - row[t.id]! > logRatio) fail(`token ${j}: EOS ${p.eosRatio}× likelier than the token (should have stopped)`);
      if (t.id === req.eosId && rank >= p.eosTopK) fail(`token ${j}: stopped while EOS ranks ${rank}`);
      probSum += tokenProbScore(p.probScore, Math.abs(Math.exp(row[t.id]! - scan.logSumExp) - Math.exp(Math.min(0, t.logprob))));
      if (t.logprob === 0) zeros++;
      if (m > 0) {
        overlapSum += distinctOverlap(t.top, scan.top, Math.min(m, scan.count));
        overlapN++;
      }
      const cand = kSample <= scan.count ? scan.top : topIndices(row, kSample);
      if (drawFromCandidates(row, cand, kSample, req.params, uniformAt(req.params.seed, j)) === t.id) agree++;
    }
    const meanProbScore = probSum / n;
    const topOverlap = overlapN > 0 ? overlapSum / overlapN : null;
    const samplerAgreement = agree / n;
    const zeroLogprobShare = zeros / n;
    if (p.lowRank && lowRank > p.lowRank.maxCount) fail(`${lowRank} tokens rank ≥ ${p.lowRank.rank} (max ${p.lowRank.maxCount})`);
    if (p.maxNotTop1Share !== null && notTop1 / n >= p.maxNotTop1Share) fail(`${((100 * notTop1) / n).toFixed(0)} % of tokens are not the reference top-1`);
    if (meanProbScore < p.minProbScore) fail(`probability score ${meanProbScore.toFixed(3)} < ${p.minProbScore}`);
    if (p.minTopOverlap !== null && topOverlap !== null && topOverlap < p.minTopOverlap) fail(`top-k overlap ${topOverlap.toFixed(3)} < ${p.minTopOverlap}`);
    if (p.overfit && zeroLogprobShare >= 1 - Math.min(0.5 * req.params.temperature, 0.6)) fail(`OVERFIT: ${(100 * zeroLogprobShare).toFixed(0)} % of logprobs are exactly 0`);
    if (p.minSamplerAgreement !== null && samplerAgreement < p.minSamplerAgreement) fail(`canonical sampler agreement ${samplerAgreement.toFixed(3)} < ${p.minSamplerAgreement}`);
    const pass = failures.length === 0;
    return { pass, quality: pass ? meanProbScore : 0, failures, stats: { tokens: n, maxRank, meanProbScore, topOverlap, samplerAgreement, zeroLogprobShare } };
  }

  private prefix(prompt: readonly number[]): Promise<{ cache: KvCache; last: Float32Array }> {
    if (prompt.length === 0) return Promise.reject(new Error('empty prompt'));
    const key = prompt.join(',');
    let p = this.prefixes.get(key);
    if (p === undefined) {
      p = this.lm.forward(prompt, this.lm.emptyCache()).then(({ logits, vocab, cache }) => ({ cache, last: logits.slice((prompt.length - 1) * vocab, prompt.length * vocab) }));
      p.catch(() => this.prefixes.delete(key));
      this.prefixes.set(key, p);
      if (this.prefixes.size > this.maxPrefixes) this.prefixes.delete(this.prefixes.keys().next().value!);
    }
    return p;
  }
}
