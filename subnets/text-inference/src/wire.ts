/**
 * What travels between validator and miner. The query carries everything the validator drew (prompt,
 * sampling parameters, a per-request seed); the miner streams one SSE event per token, then a final event.
 */
import { z } from 'zod';
import type { Finish, TokenEvent } from './generate.ts';

export const MAX_PROMPT_CHARS = 8_000;
export const MAX_TOKENS_LIMIT = 512;
export const MAX_LOGPROBS = 20;

const message = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(MAX_PROMPT_CHARS) });

export const inferenceQuery = z.object({
  model: z.string().min(1).max(200),
  /** Chat messages, or a completion `prompt` (exactly one of them). */
  messages: z.array(message).max(32).nullish(),
  prompt: z.string().max(MAX_PROMPT_CHARS).nullish(),
  temperature: z.number().min(0).max(2),
  top_k: z.number().int().min(0).max(1000),
  top_p: z.number().gt(0).max(1),
  max_tokens: z.number().int().min(1).max(MAX_TOKENS_LIMIT),
  seed: z.number().int().min(0).max(2 ** 48),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS),
});
export type InferenceQuery = z.infer<typeof inferenceQuery>;

/** The concatenated stream text; the scorer reads the per-chunk events (with their timestamps) instead. */
export const inferenceResponse = z.object({ completion: z.string().nullish() });

const tokenChunk = z.object({ t: z.number().int(), lp: z.number(), top: z.array(z.tuple([z.number().int(), z.number()])).max(MAX_LOGPROBS) });
const finishChunk = z.object({ finish: z.enum(['stop', 'length']) });
const chunk = z.union([tokenChunk, finishChunk]);

export const tokenEvent = (e: TokenEvent): string => `data: ${JSON.stringify({ t: e.id, lp: e.logprob, top: e.top })}\n\n`;
export const finishEvent = (f: Finish): string => `data: ${JSON.stringify({ finish: f })}\n\n`;

export interface ParsedStream {
  tokens: TokenEvent[];
  /** Arrival time (performance.now() ms) of each token's chunk. */
  arrivals: number[];
  finish: Finish;
}

/** Parse a miner's streamed chunks; null if malformed (a miner fault: scored 0). */
export function parseStream(chunks: ReadonlyArray<{ data: string; receivedAt: number }>, maxTokens: number): ParsedStream | null {
  const tokens: TokenEvent[] = [];
  const arrivals: number[] = [];
  let finish: Finish | null = null;
  for (const c of chunks) {
    if (finish !== null || tokens.length > maxTokens + 64) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(c.data);
    } catch {
      return null;
    }
    const r = chunk.safeParse(raw);
    if (!r.success) return null;
    if ('finish' in r.data) finish = r.data.finish;
    else {
      tokens.push({ id: r.data.t, logprob: r.data.lp, top: r.data.top });
      arrivals.push(c.receivedAt);
    }
  }
  return finish === null ? null : { tokens, arrivals, finish };
}
