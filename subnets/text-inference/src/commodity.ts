/**
 * Verified LLM text inference: the commodity a reader follows.
 *
 *  generate  the validator's seeded RNG draws a prompt (bundled corpus + templates), sampling parameters and
 *            a per-request seed (prompts.ts), so nothing can be predicted or cached;
 *  miner     streams one SSE event per token with its logprob and top-k alternatives (miner.ts; backends:
 *            onnx-backend.ts in a worker thread, openai-backend.ts for any OpenAI-compatible server);
 *  score     one reference forward pass per answer checks it (verifier.ts), then
 *            reward = quality gate × speed relative to the round (scoring.ts);
 *            answers the gateway spot-checked since the last round count too (organic.ts);
 *  weights   EMA per hotkey (the validator's alpha), then power(2) (README: why).
 *
 * A validator-side failure (reference model missing, ORT error) throws from `score`: the framework then
 * applies nothing, so a miner is never penalised for the validator's problem.
 */
import { defineCommodity, type MinerAnswer } from '../../../framework/commodity/define.ts';
import { power } from '../../../framework/commodity/transforms.ts';
import { BUNDLED_MODEL_ID } from './model-builder.ts';
import type { InferenceMinerSide } from './miner.ts';
import { OrganicLedger } from './organic.ts';
import { drawQuery, queryPromptIds } from './prompts.ts';
import { roundRewards, timing, type Measured, type Pace } from './scoring.ts';
import { contextLengthOf, OnnxLm } from './session.ts';
import { ByteTokenizer, type Tokenizer } from './tokenizer.ts';
import { PRESETS, Verifier, type PresetName, type VerifyResult } from './verifier.ts';
import { inferenceQuery, inferenceResponse, parseStream, type InferenceQuery } from './wire.ts';

export interface TextInferenceOptions {
  modelId?: string;
  /** The validator's reference model (ONNX); only needed on validators. */
  referenceModelPath?: string;
  /** intra-op threads of the reference session (deliberately allowed to differ from miners'). */
  verifierThreads?: number;
  /**
   * The model's context length (prompt + max_tokens); default: the reference model's (`contextLengthOf`).
   * Synthetic queries are drawn to fit it; the gateway refuses organic ones that do not.
   */
  contextLength?: number;
  preset?: PresetName;
  tokenizer?: Tokenizer;
  timeoutMs?: number;
  sampleSize?: number;
  maxTokens?: { min: number; max: number };
  logprobs?: number;
  /** Speed factor floor (default .3, as SN1). */
  speedFloor?: number;
  /** Exponent of the reward→weight transform (default 2). */
  weightPower?: number;
  miner?: InferenceMinerSide;
  /** Called with every verification (the harness prints them). */
  onVerified?: (hotkey: string, result: VerifyResult | { pass: false; failures: string[] }) => void;
}

export type TextInference = ReturnType<typeof createTextInference>;

export function createTextInference(opts: TextInferenceOptions = {}) {
  const modelId = opts.modelId ?? BUNDLED_MODEL_ID;
  const tok = opts.tokenizer ?? new ByteTokenizer();
  const floor = opts.speedFloor ?? 0.3;
  const organic = new OrganicLedger(floor);
  let verifier: Promise<Verifier> | null = null;
  const getVerifier = (): Promise<Verifier> => {
    if (verifier === null) {
      if (opts.referenceModelPath === undefined) return Promise.reject(new Error('no reference model configured on this validator'));
      verifier = OnnxLm.load(opts.referenceModelPath, { threads: opts.verifierThreads ?? 2 }).then((lm) => new Verifier(lm, PRESETS[opts.preset ?? 'canonical']));
      verifier.catch(() => (verifier = null)); // retried next round; meanwhile score() throws (no penalty)
    }
    return verifier;
  };

  let context: number | null | undefined;
  /** The context length queries must fit; null when unknown (no reference model, or it says nothing). */
  const contextLength = (): number | null => {
    if (context !== undefined) return context;
    if (opts.contextLength !== undefined) return (context = opts.contextLength);
    if (opts.referenceModelPath === undefined) return (context = null);
    try {
      return (context = contextLengthOf(opts.referenceModelPath));
    } catch {
      return null; // an unreadable config: loading the reference model reports it (and scoring throws)
    }
  };

  /** Check one streamed answer. Throws only for validator-side problems. */
  async function measure(a: MinerAnswer<InferenceQuery, unknown>): Promise<Measured> {
    const parsed = a.ok && a.stream ? parseStream(a.stream.chunks, a.query.max_tokens) : null;
    if (parsed === null) {
      opts.onVerified?.(a.hotkey, { pass: false, failures: [a.ok ? 'malformed stream' : `no answer (${a.statusCode})`] });
      return { hotkey: a.hotkey, quality: 0, ttftMs: null, perTokenMs: null };
    }
    const v = await getVerifier();
    const q = a.query;
    const result = await v.verify({
      prompt: queryPromptIds(tok, q),
      tokens: parsed.tokens,
      finish: parsed.finish,
      params: { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens },
      eosId: tok.eosId,
    });
    opts.onVerified?.(a.hotkey, result);
    return { hotkey: a.hotkey, quality: result.quality, ...timing(a.stream?.timeToFirstChunkMs ?? null, parsed.arrivals) };
  }

  let pace: Pace | null = null;
  const commodity = defineCommodity({
    name: 'TextInferenceSynapse',
    query: inferenceQuery,
    response: inferenceResponse,
    streaming: true,
    streamFraming: 'sse',
    timeoutMs: opts.timeoutMs ?? 10_000,
    sampleSize: opts.sampleSize ?? 16,
    generate: (ctx) => {
      const q = drawQuery(ctx.rng, { model: modelId, maxTokens: opts.maxTokens ?? { min: 24, max: 64 }, logprobs: opts.logprobs ?? 5 });
      const ctxLen = contextLength();
      if (ctxLen === null) return { query: q, data: null };
      // clamped so that prompt + max_tokens fits the model: an honest miner could not answer more
      const promptTokens = queryPromptIds(tok, q).length;
      if (promptTokens >= ctxLen) throw new Error(`synthetic prompt of ${promptTokens} tokens does not fit the model's context length ${ctxLen}`);
      return { query: { ...q, max_tokens: Math.min(q.max_tokens, ctxLen - promptTokens) }, data: null };
    },
    async score({ answers }) {
      const measured: Measured[] = [];
      for (const a of answers) measured.push(await measure(a));
      const round = roundRewards(measured, floor);
      pace = round.pace ?? pace;
      return organic.mergeInto(round.rewards);
    },
    toWeights: power(opts.weightPower ?? 2),
    miner: opts.miner,
  });

  return {
    commodity,
    modelId,
    tokenizer: tok,
    organic,
    /** The loaded reference verifier (the gateway's spot checks share it). */
    verifier: getVerifier,
    /** Verify one answer outside a round (organic traffic). */
    measure,
    contextLength,
    pace: () => pace,
  };
}
