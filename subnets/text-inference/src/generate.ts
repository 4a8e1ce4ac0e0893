/**
 * The honest generation loop over an OnnxLm: prefill the prompt, then one cached step per token, sampled
 * with the canonical seeded sampler. Reported logprobs are the model's raw (temperature-1, unfiltered)
 * log-softmax, as vLLM and the OpenAI API report them.
 */
import { logSoftmax, sampleToken, topIndices, uniformAt, type SamplingParams } from './sampler.ts';
import type { OnnxLm } from './session.ts';

export interface TokenEvent {
  id: number;
  logprob: number;
  /** Top alternatives as [id, logprob], best first. */
  top: Array<[number, number]>;
}

export type Finish = 'stop' | 'length';

export interface GenerateParams extends SamplingParams {
  maxTokens: number;
  /** How many top alternatives to report per token (0–20). */
  logprobs: number;
  eosId: number;
}

/**
 * Yields each token as it is produced; returns why generation ended. The EOS token is yielded too.
 * Generation also ends ('length') when the model's context is full: callers refuse requests that cannot
 * fit beforehand (`contextError`), this only keeps the engine from indexing past its positions.
 */
export async function* generateTokens(lm: OnnxLm, prompt: readonly number[], p: GenerateParams, isCancelled: () => boolean = () => false): AsyncGenerator<TokenEvent, Finish> {
  const ctx = lm.contextLength ?? Infinity;
  if (prompt.length > ctx) throw new Error(`prompt of ${prompt.length} tokens exceeds the model's context length ${ctx}`);
  let { logits, vocab, cache } = await lm.forward(prompt, lm.emptyCache());
  let row = logits.subarray((prompt.length - 1) * vocab, prompt.length * vocab);
  for (let i = 0; i < p.maxTokens; i++) {
    if (isCancelled()) return 'length';
    const id = sampleToken(row, p, uniformAt(p.seed, i));
    const lp = logSoftmax(row);
    yield { id, logprob: lp[id]!, top: topIndices(lp, p.logprobs).map((t) => [t, lp[t]!]) };
    if (id === p.eosId) return 'stop';
    if (i === p.maxTokens - 1 || cache.length >= ctx) break;
    ({ logits, vocab, cache } = await lm.forward([id], cache));
    row = logits.subarray(0, vocab);
  }
  return 'length';
}
