/**
 * The `openai` miner backend: any OpenAI-compatible server that returns logprobs (vLLM, llama.cpp server,
 * another subnet's gateway), so an operator can put a GPU box behind a miner. Uses the streaming
 * `/v1/completions` endpoint with the rendered prompt, `logprobs: n`, the request's seed and `top_k` (vLLM
 * extension) and `return_tokens_as_token_ids` so tokens map back to ids exactly.
 * Limitation: servers do not stream the EOS token, so a natural stop is reported as EOS with a claimed logprob of
 * log ½ and no alternatives (its distance costs at most 1/n of the probability score).
 */
import { z } from 'zod';
import type { GenerationRequest, InferenceBackend } from './backend.ts';
import type { Finish, TokenEvent } from './generate.ts';
import type { Tokenizer } from './tokenizer.ts';

export interface OpenAiBackendOptions {
  baseUrl: string;
  apiKey?: string;
  /** Model name on the server, and the id the subnet knows it by. */
  model: string;
  modelId?: string;
  tokenizer: Tokenizer;
  timeoutMs?: number;
  /** The served model's context length, if known (the miner refuses queries beyond it; the server would too). */
  contextLength?: number;
}

const chunk = z.object({
  choices: z.array(z.object({
    text: z.string().optional(),
    finish_reason: z.string().nullish(),
    logprobs: z.object({ tokens: z.array(z.string()), token_logprobs: z.array(z.number().nullable()), top_logprobs: z.array(z.record(z.number()).nullable()).nullish() }).nullish(),
  })).max(1),
});

export class OpenAiBackend implements InferenceBackend {
  readonly modelId: string;
  readonly contextLength: number | null;
  constructor(private readonly opts: OpenAiBackendOptions) {
    this.modelId = opts.modelId ?? opts.model;
    this.contextLength = opts.contextLength ?? null;
  }

  private tokenId(s: string): number {
    const m = /^token_id:(\d+)$/.exec(s);
    if (m) return Number(m[1]);
    const ids = this.opts.tokenizer.encode(s);
    if (ids.length !== 1) throw new Error(`server token '${s}' is not one token of this tokenizer (ask for token ids)`);
    return ids[0]!;
  }

  async *generate(req: GenerationRequest, signal?: AbortSignal): AsyncGenerator<TokenEvent, Finish> {
    const p = req.params;
    const res = await fetch(`${this.opts.baseUrl.replace(/\/$/, '')}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
      body: JSON.stringify({
        model: this.opts.model, prompt: req.promptText, max_tokens: p.maxTokens, temperature: p.temperature, top_p: p.topP,
        ...(p.topK > 0 ? { top_k: p.topK } : {}), seed: p.seed, logprobs: p.logprobs, stream: true, return_tokens_as_token_ids: true,
      }),
      signal: AbortSignal.any([...(signal ? [signal] : []), AbortSignal.timeout(this.opts.timeoutMs ?? 60_000)]),
    });
    if (!res.ok || res.body === null) throw new Error(`inference server answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    let finish: Finish = 'length';
    for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      if (buffer.length > 1 << 20) throw new Error('inference server sent an oversized event');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data === '' || data === '[DONE]') continue;
        const c = chunk.parse(JSON.parse(data)).choices[0];
        if (c === undefined) continue;
        const lps = c.logprobs;
        if (lps) {
          for (let i = 0; i < lps.tokens.length; i++) {
            const top = Object.entries(lps.top_logprobs?.[i] ?? {}).map(([t, lp]) => [this.tokenId(t), lp] as [number, number]).sort((a, b) => b[1] - a[1]);
            yield { id: this.tokenId(lps.tokens[i]!), logprob: lps.token_logprobs[i] ?? 0, top };
          }
        }
        if (c.finish_reason) finish = c.finish_reason === 'stop' ? 'stop' : 'length';
      }
    }
    if (finish === 'stop') yield { id: this.opts.tokenizer.eosId, logprob: Math.log(0.5), top: [] };
    return finish;
  }

  async close(): Promise<void> {}
}
