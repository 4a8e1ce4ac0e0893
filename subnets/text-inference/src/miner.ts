/**
 * Miner sides: the honest one (stream whatever the backend generates) and the cheapest cheats the
 * adversarial harness runs against the verifier. Each cheat is what a profit-seeking miner would try.
 */
import { AxonReject } from '../../../framework/axon/index.ts';
import type { MinerSide } from '../../../framework/commodity/define.ts';
import type { InferenceBackend } from './backend.ts';
import { CORPUS_LINES, SYSTEM_PROMPTS } from './corpus.ts';
import type { Finish, GenerateParams, TokenEvent } from './generate.ts';
import { contextError, promptText, queryPromptIds } from './prompts.ts';
import type { Tokenizer } from './tokenizer.ts';
import { finishEvent, tokenEvent, type InferenceQuery, type inferenceResponse } from './wire.ts';
import type { z } from 'zod';

export type Behavior =
  | 'honest'
  /** honest, but `slowMs` of extra delay per token (a weaker machine) */
  | 'slow'
  /** random token ids with plausible-looking logprobs */
  | 'random'
  /** a different, cheaper model (the caller passes its backend) */
  | 'other-model'
  /** replays one answer computed once for another prompt, whatever the prompt and seed */
  | 'cached'
  /** real tokens, logprobs reported as 0 (skips the softmax; Targon's OVERFIT cheat) */
  | 'fake-logprobs'
  /** stops after a quarter of max_tokens and claims EOS */
  | 'early-stop'
  /** ignores EOS and max_tokens, keeps going (paid per token) */
  | 'runaway'
  /** honest on prompts it recognises as the validator's synthetic ones (bundled templates), random tokens on organic traffic */
  | 'organic-cheat';

export type InferenceMinerSide = MinerSide<InferenceQuery, z.infer<typeof inferenceResponse>>;

export interface MinerOptions {
  behavior?: Behavior;
  slowMs?: number;
  /** Seed of the random-token cheat. */
  seed?: number;
  /** Told after each answer whether the behaviour changed it: an early-stop cheat on a naturally short answer has nothing to cut, so that answer is honest (the harness counts these). */
  onAnswer?: (tampered: boolean) => void;
}

export function generateParams(q: InferenceQuery, eosId: number): GenerateParams {
  return { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens, logprobs: q.logprobs, eosId };
}

/** What a cheater can learn from watching traffic: synthetic prompts come from the public templates and corpus. */
function looksSynthetic(q: InferenceQuery): boolean {
  if (q.messages) return q.messages.some((m) => m.role === 'system' && SYSTEM_PROMPTS.includes(m.content));
  return CORPUS_LINES.some((l) => l.startsWith((q.prompt ?? '').trim()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function inferenceMiner(backend: InferenceBackend, tok: Tokenizer, opts: MinerOptions = {}): InferenceMinerSide {
  const behavior = opts.behavior ?? 'honest';
  let cached: { tokens: TokenEvent[]; finish: Finish } | null = null;
  let rand = (opts.seed ?? 7) >>> 0;
  const nextRand = () => {
    rand = (Math.imul(rand, 1664525) + 1013904223) >>> 0;
    return rand / 4294967296;
  };
  async function* stream(q: InferenceQuery, ids: number[], signal: AbortSignal): AsyncGenerator<string> {
    const params = generateParams(q, tok.eosId);
    const req = { promptText: promptText(q, tok), promptIds: ids, params };
    if (behavior === 'random' || (behavior === 'organic-cheat' && !looksSynthetic(q))) {
      for (let i = 0; i < q.max_tokens; i++) {
        const id = Math.floor(nextRand() * 256);
        yield tokenEvent({ id, logprob: -1.5, top: Array.from({ length: q.logprobs }, (_, j) => [j === 0 ? id : Math.floor(nextRand() * 256), -1.5 - j] as [number, number]) });
      }
      yield finishEvent('length');
      opts.onAnswer?.(true);
      return;
    }
    if (behavior === 'cached' && cached === null) {
      // filled once from a prompt of its own; every later query gets the same (cheap) replay
      const other = 'user: Tell me something about bread.\nassistant: ';
      const gen = backend.generate({ promptText: other, promptIds: [...(tok.bosId === null ? [] : [tok.bosId]), ...tok.encode(other)], params: { ...params, seed: 1 } }, signal);
      const tokens: TokenEvent[] = [];
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) tokens.push(r.value);
      cached = { tokens, finish: r.value };
    }
    if (behavior === 'cached' && cached !== null) {
      for (const t of cached.tokens) yield tokenEvent(t);
      yield finishEvent(cached.finish);
      opts.onAnswer?.(true);
      return;
    }
    if (behavior === 'runaway') {
      // no EOS (an impossible id) and more tokens than asked for
      const gen = backend.generate({ ...req, params: { ...params, eosId: -1, maxTokens: q.max_tokens + 16 } }, signal);
      for (let r = await gen.next(); !r.done; r = await gen.next()) yield tokenEvent(r.value);
      yield finishEvent('length');
      opts.onAnswer?.(true);
      return;
    }
    const limit = behavior === 'early-stop' ? Math.max(1, Math.floor(q.max_tokens / 4)) : Infinity;
    const seen: TokenEvent[] = [];
    let tampered = behavior === 'fake-logprobs';
    const gen = backend.generate(req, signal);
    let finish: Finish = 'length';
    for (;;) {
      const r = await gen.next();
      if (r.done) {
        finish = r.value;
        break;
      }
      if (seen.length >= limit && r.value.id !== tok.eosId) {
        tampered = true;
        await gen.return('length');
        const eos: TokenEvent = { id: tok.eosId, logprob: -0.05, top: [[tok.eosId, -0.05]] };
        seen.push(eos);
        yield tokenEvent(eos);
        finish = 'stop';
        break;
      }
      let t = r.value;
      if (behavior === 'fake-logprobs') t = { id: t.id, logprob: 0, top: t.top.map(([id]) => [id, 0]) };
      if (behavior === 'slow') await sleep(opts.slowMs ?? 20);
      seen.push(t);
      yield tokenEvent(t);
    }
    yield finishEvent(finish);
    opts.onAnswer?.(tampered);
  }
  return {
    handle(q, ctx) {
      // the caller's mistake, not the miner's failure: a 400 that says what is served, not a logged 500
      if (q.model !== backend.modelId) throw new AxonReject(400, `model '${q.model}' is not served here (this miner serves '${backend.modelId}')`);
      let ids: number[];
      try {
        ids = queryPromptIds(tok, q);
      } catch (e) {
        // the model's chat template refused these messages (e.g. roles out of order): the caller's mistake
        throw new AxonReject(400, `cannot format the messages: ${e instanceof Error ? e.message : String(e)}`);
      }
      // refused before any model work, with the numbers (400): the request cannot be answered within max_tokens
      const tooLong = contextError(ids.length, q.max_tokens, backend.contextLength);
      if (tooLong !== null) throw new AxonReject(400, tooLong);
      return stream(q, ids, ctx.signal);
    },
  };
}
