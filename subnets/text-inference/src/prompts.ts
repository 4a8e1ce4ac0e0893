/** Prompts: how a query becomes model input, and how the validator draws unpredictable ones. */
import type { SeededRng } from '../../../framework/commodity/rng.ts';
import { CORPUS_LINES, QUESTION_TEMPLATES, SYSTEM_PROMPTS, TOPICS } from './corpus.ts';
import { chatPrompt, promptIds, type Tokenizer } from './tokenizer.ts';
import type { InferenceQuery } from './wire.ts';

/** The model input as text: chat messages in the tokenizer's chat format (its chat template, else `chatPrompt`). */
export function promptText(q: Pick<InferenceQuery, 'messages' | 'prompt'>, tok: Pick<Tokenizer, 'formatChat'>): string {
  if (!q.messages) return q.prompt ?? '';
  return tok.formatChat ? tok.formatChat(q.messages) : chatPrompt(q.messages);
}

export function queryPromptIds(tok: Tokenizer, q: Pick<InferenceQuery, 'messages' | 'prompt'>): number[] {
  return promptIds(tok, promptText(q, tok));
}

/**
 * Why `promptTokens` plus up to `maxTokens` generated tokens do not fit a model of `contextLength`
 * positions (the OpenAI rule: prompt + max_tokens ≤ context); null when they fit or the length is unknown.
 */
export function contextError(promptTokens: number, maxTokens: number, contextLength: number | null | undefined): string | null {
  if (contextLength === null || contextLength === undefined || promptTokens + maxTokens <= contextLength) return null;
  return `this model's maximum context length is ${contextLength} tokens, but ${promptTokens + maxTokens} were requested (${promptTokens} in the prompt + max_tokens ${maxTokens})`;
}

export interface DrawOptions {
  model: string;
  maxTokens: { min: number; max: number };
  logprobs: number;
}

/**
 * A synthetic query from the round's seeded generator: chat (system + templated question) or completion
 * (the start of a corpus line), temperature .2–1, top_k 5–10, top_p .8–1 and a fresh seed, so an answer
 * cached from another request is wrong for this one.
 */
export function drawQuery(rng: SeededRng, o: DrawOptions): InferenceQuery {
  const chat = rng.bool(0.7);
  const common = {
    model: o.model,
    // never greedy: with T = 0 a prompt-insensitive model would make one cached answer right for many prompts
    temperature: rng.int(2, 10) / 10,
    top_k: rng.int(5, 10),
    top_p: rng.int(80, 100) / 100,
    max_tokens: rng.int(o.maxTokens.min, o.maxTokens.max),
    seed: rng.int(0, 2 ** 40),
    logprobs: o.logprobs,
  };
  if (chat) {
    const question = rng.pick(QUESTION_TEMPLATES).replace('{topic}', rng.pick(TOPICS));
    return { ...common, messages: [{ role: 'system', content: rng.pick(SYSTEM_PROMPTS) }, { role: 'user', content: question }], prompt: null };
  }
  const line = rng.pick(CORPUS_LINES);
  const words = line.split(' ');
  return { ...common, messages: null, prompt: words.slice(0, rng.int(2, Math.max(2, words.length - 3))).join(' ') + ' ' };
}
