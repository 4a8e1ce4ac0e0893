/**
 * The validator's OpenAI-compatible gateway: `/v1/chat/completions`, `/v1/completions` (SSE or not) and
 * `/v1/models` behind API keys. Each request goes to a well-scored miner (score ≥ `minScoreFraction` × the
 * best, picked in proportion to score) through the signed streaming dendrite; tokens are relayed as they
 * arrive. A share of answers is spot-checked with the validator's verifier and counted in scoring.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { z, type ZodError } from 'zod';
import type { MinerAnswer } from '../../../framework/commodity/define.ts';
import type { Chain, Metagraph } from '../../../framework/chain/types.ts';
import { describeZodError } from '../../../framework/errors.ts';
import type { Dendrite } from '../../../framework/dendrite/dendrite.ts';
import type { TextInference } from './commodity.ts';
import { contextError, queryPromptIds } from './prompts.ts';
import { parseStream, MAX_LOGPROBS, MAX_PROMPT_CHARS, MAX_TOKENS_LIMIT, type InferenceQuery } from './wire.ts';

export interface GatewayOptions {
  inference: TextInference;
  chain: Chain;
  netuid: number;
  dendrite: Dendrite;
  /** The validator's current scores by hotkey (ValidatorHandle.state.scores). */
  scores: () => Record<string, number>;
  apiKeys: readonly string[];
  host?: string;
  port?: number;
  /** Share of organic answers verified and counted in scoring (0–1, default .25). */
  spotCheckShare?: number;
  minScoreFraction?: number;
  timeoutMs?: number;
  /** Defaults for what the client leaves out. */
  defaults?: { maxTokens?: number; temperature?: number; topK?: number; topP?: number };
}

export interface Gateway {
  port: number;
  app: FastifyInstance;
  stats: { requests: number; spotChecked: number; spotFailed: number; errors: number; servedBy: Record<string, number> };
  /** Resolves when the spot checks started so far are done (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Organic requests sample within the top 10 at most (a larger or absent top_k is clamped). */
export const MAX_ORGANIC_TOP_K = 10;

const sampling = {
  model: z.string().min(1).max(200),
  stream: z.boolean().optional(),
  max_tokens: z.number().int().min(1).max(MAX_TOKENS_LIMIT).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).max(1000).nullish(),
  seed: z.number().int().min(0).max(2 ** 48).nullish(),
};
const chatBody = z.object({
  ...sampling,
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(MAX_PROMPT_CHARS) })).min(1).max(32),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
});
const completionBody = z.object({
  ...sampling,
  prompt: z.string().max(MAX_PROMPT_CHARS),
  logprobs: z.number().int().min(0).max(MAX_LOGPROBS).nullish(),
  /** vLLM's extension: tokens as `token_id:<n>` so a client can map them back exactly. */
  return_tokens_as_token_ids: z.boolean().nullish(),
});

const tokenChunk = z.object({ t: z.number().int(), lp: z.number(), top: z.array(z.tuple([z.number().int(), z.number()])) });

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error', readonly code: string | null = null) {
    super(message);
  }
}

const errorBody = (e: HttpError) => ({ error: { message: e.message, type: e.type, param: null, code: e.code } });

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const inf = opts.inference;
  const tok = inf.tokenizer;
  const synapse = inf.commodity.synapse;
  const share = opts.spotCheckShare ?? 0.25;
  const keys = opts.apiKeys.map((k) => Buffer.from(k));
  if (keys.length === 0) throw new Error('the gateway needs at least one API key');
  const stats: Gateway['stats'] = { requests: 0, spotChecked: 0, spotFailed: 0, errors: 0, servedBy: {} };
  const checks = new Set<Promise<void>>();
  let metagraph: { at: number; value: Metagraph } | null = null;

  const authorized = (header: string | undefined): boolean => {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    return keys.some((k) => k.length === given.length && timingSafeEqual(k, given));
  };

  async function pickMiners(): Promise<Array<{ hotkey: string; ip: string; port: number }>> {
    if (metagraph === null || Date.now() - metagraph.at > 5_000) metagraph = { at: Date.now(), value: await opts.chain.getMetagraph(opts.netuid) };
    const m = metagraph.value;
    const scores = opts.scores();
    const best = Math.max(0, ...Object.values(scores));
    if (best <= 0) return [];
    const ok = m.hotkeys
      .map((hotkey, uid) => ({ hotkey, axon: m.axons[uid], score: scores[hotkey] ?? 0 }))
      .filter((x) => x.axon && x.axon.port > 0 && x.score >= (opts.minScoreFraction ?? 0.5) * best);
    // weighted shuffle by score: better miners first, but every good miner gets traffic
    const keyed = ok.map((x) => ({ x, k: Math.random() ** (1 / x.score) })).sort((a, b) => b.k - a.k);
    return keyed.map(({ x }) => ({ hotkey: x.hotkey, ip: x.axon!.ip, port: x.axon!.port }));
  }

  /** The miner's query for a request, and the prompt's token count; refused (400) when it cannot fit the model's context. */
  function toQuery(b: z.infer<typeof chatBody> | z.infer<typeof completionBody>, logprobs: number): { query: InferenceQuery; promptTokens: number } {
    if (b.model !== inf.modelId) throw new HttpError(404, `The model '${b.model}' does not exist`, 'invalid_request_error', 'model_not_found');
    const d = opts.defaults ?? {};
    const query: InferenceQuery = {
      model: b.model,
      messages: 'messages' in b ? b.messages : null,
      prompt: 'prompt' in b ? b.prompt : null,
      temperature: b.temperature ?? d.temperature ?? 0.7,
      // bounded so organic answers stay verifiable: the verifier's rank checks assume sampling within the top 10
      top_k: Math.min(Math.max(b.top_k ?? d.topK ?? MAX_ORGANIC_TOP_K, 1), MAX_ORGANIC_TOP_K),
      top_p: b.top_p ?? d.topP ?? 1,
      max_tokens: Math.min(b.max_tokens ?? d.maxTokens ?? 64, MAX_TOKENS_LIMIT),
      seed: b.seed ?? Math.floor(Math.random() * 2 ** 40),
      logprobs: Math.max(logprobs, 5), // the verifier's overlap check needs alternatives; clients see what they asked for
    };
    const promptTokens = queryPromptIds(tok, query).length;
    const ctx = inf.contextLength();
    // as OpenAI: an explicit max_tokens that does not fit is refused; the default one shrinks to what fits
    if (b.max_tokens == null && ctx !== null) query.max_tokens = Math.max(1, Math.min(query.max_tokens, ctx - promptTokens));
    const tooLong = contextError(promptTokens, query.max_tokens, ctx);
    if (tooLong !== null) throw new HttpError(400, `${tooLong}; shorten the prompt or lower max_tokens`, 'invalid_request_error', 'context_length_exceeded');
    return { query, promptTokens };
  }

  /** Relay one request: stream from a miner, calling `emit` per decoded text piece. */
  async function relay(query: InferenceQuery, emit: (text: string, lp: { id: number; logprob: number; top: Array<[number, number]> }) => void) {
    const miners = await pickMiners();
    if (miners.length === 0) throw new HttpError(503, 'no verified miner is available yet', 'server_error', 'no_miners');
    const decoder = new TextDecoder('utf-8');
    for (const target of miners.slice(0, 3)) {
      let started = false;
      const r = await opts.dendrite.stream(target, synapse, query, {
        timeoutMs: opts.timeoutMs ?? 30_000,
        framing: 'sse',
        onChunk: (c) => {
          let ev: unknown;
          try {
            ev = JSON.parse(c.data);
          } catch {
            return;
          }
          const t = tokenChunk.safeParse(ev);
          if (!t.success || t.data.t === tok.eosId) return;
          started = true;
          emit(decoder.decode(tok.tokenBytes(t.data.t), { stream: true }), { id: t.data.t, logprob: t.data.lp, top: t.data.top });
        },
      });
      const parsed = r.ok ? parseStream(r.chunks, query.max_tokens) : null;
      if (parsed !== null) {
        stats.servedBy[target.hotkey] = (stats.servedBy[target.hotkey] ?? 0) + 1;
        const tail = decoder.decode();
        if (tail) emit(tail, { id: -1, logprob: 0, top: [] });
        return { target, result: r, parsed };
      }
      if (started) throw new HttpError(502, 'the miner broke off the answer', 'server_error', 'miner_failed');
    }
    throw new HttpError(502, 'no miner answered', 'server_error', 'miner_failed');
  }

  function spotCheck(query: InferenceQuery, hotkey: string, r: Awaited<ReturnType<typeof relay>>['result']): void {
    if (!(Math.random() < share)) return;
    const answer: MinerAnswer<InferenceQuery, unknown> = {
      uid: -1, hotkey, ok: r.ok, statusCode: r.statusCode, statusMessage: r.statusMessage, latencyMs: r.roundTripMs, query, response: r.response,
      stream: { chunks: r.chunks, timeToFirstChunkMs: r.timeToFirstChunkMs, chunksPerSecond: r.chunksPerSecond },
    };
    const p = inf
      .measure(answer)
      .then((m) => {
        stats.spotChecked++;
        if (inf.organic.record(m, inf.pace()) === 0) stats.spotFailed++;
      })
      .catch(() => {}) // validator-side failure: nothing recorded, the miner is not penalised
      .finally(() => checks.delete(p));
    checks.add(p);
  }

  const app = Fastify({ bodyLimit: 64 * 1024, logger: false });
  app.addHook('onRequest', async (req, reply) => {
    if (!authorized(req.headers.authorization)) {
      await reply.code(401).send(errorBody(new HttpError(401, 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key')));
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    const e = err instanceof HttpError ? err : new HttpError((err as { statusCode?: number }).statusCode ?? 500, err instanceof Error ? err.message : 'internal error', 'server_error');
    if (e.status >= 500) stats.errors++;
    void reply.code(e.status).send(errorBody(e));
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [{ id: inf.modelId, object: 'model', created: 0, owned_by: 'subnet' }] }));

  const parse = <T>(schema: z.ZodType<T>, body: unknown): T => {
    const r = schema.safeParse(body);
    if (!r.success) throw new HttpError(400, describeZodError(r.error as ZodError, 'request body'));
    return r.data;
  };

  const handle = (kind: 'chat' | 'text') => async (req: { body: unknown }, reply: { hijack(): void; raw: ServerResponse }) => {
    stats.requests++;
    const b = kind === 'chat' ? parse(chatBody, req.body) : parse(completionBody, req.body);
    const wantLogprobs = kind === 'chat' ? ((b as z.infer<typeof chatBody>).logprobs ? ((b as z.infer<typeof chatBody>).top_logprobs ?? 0) : -1) : ((b as z.infer<typeof completionBody>).logprobs ?? -1);
    const { query, promptTokens } = toQuery(b, Math.max(0, wantLogprobs));
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const asIds = kind === 'text' && (b as z.infer<typeof completionBody>).return_tokens_as_token_ids === true;
    const name = (tid: number) => (asIds ? `token_id:${tid}` : tok.decode([tid]));
    const legacyLogprobs = (lp: { id: number; logprob: number; top: Array<[number, number]> } | null) =>
      lp === null || lp.id < 0 || wantLogprobs < 0 ? null : { tokens: [name(lp.id)], token_logprobs: [lp.logprob], top_logprobs: [Object.fromEntries(lp.top.slice(0, wantLogprobs).map(([t, l]) => [name(t), l]))], text_offset: [0] };
    const piece = (text: string, finish: string | null, lp: Parameters<typeof legacyLogprobs>[0] = null) =>
      kind === 'chat'
        ? { id, object: 'chat.completion.chunk', created, model: query.model, choices: [{ index: 0, delta: finish === null ? { content: text } : {}, logprobs: null, finish_reason: finish }] }
        : { id, object: 'text_completion', created, model: query.model, choices: [{ index: 0, text, logprobs: legacyLogprobs(lp), finish_reason: finish }] };
    if (b.stream) {
      let res: ServerResponse | null = null;
      const open = () => {
        if (res) return res;
        reply.hijack();
        res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        if (kind === 'chat') res.write(`data: ${JSON.stringify({ ...piece('', null), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })}\n\n`);
        return res;
      };
      let out: Awaited<ReturnType<typeof relay>>;
      try {
        out = await relay(query, (text, lp) => {
          // one event per token (also a token whose bytes end mid-character), so logprobs line up with tokens
          if (text || lp.id >= 0) open().write(`data: ${JSON.stringify(piece(text, null, lp))}\n\n`);
        });
      } catch (e) {
        if (res === null) throw e; // nothing sent yet: a normal JSON error
        stats.errors++;
        (res as ServerResponse).end(`data: ${JSON.stringify(errorBody(e instanceof HttpError ? e : new HttpError(502, 'the miner broke off the answer', 'server_error')))}\n\n`);
        return;
      }
      const w = open();
      w.write(`data: ${JSON.stringify(piece('', out.parsed.finish))}\n\n`);
      w.end('data: [DONE]\n\n');
      spotCheck(query, out.target.hotkey, out.result);
      return;
    }
    let text = '';
    const lps: Array<{ token: string; logprob: number; top: Array<[number, number]> }> = [];
    const out = await relay(query, (t, lp) => {
      text += t;
      if (lp.id >= 0) lps.push({ token: tok.decode([lp.id]), logprob: lp.logprob, top: lp.top });
    });
    spotCheck(query, out.target.hotkey, out.result);
    const completionTokens = out.parsed.tokens.filter((t) => t.id !== tok.eosId).length;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const n = Math.max(0, wantLogprobs);
    const chatLogprobs = wantLogprobs >= 0 ? { content: lps.map((l) => ({ token: l.token, logprob: l.logprob, bytes: null, top_logprobs: l.top.slice(0, n).map(([id, lp]) => ({ token: tok.decode([id]), logprob: lp, bytes: null })) })) } : null;
    const choice = kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: chatLogprobs, finish_reason: out.parsed.finish }
      : { index: 0, text, logprobs: wantLogprobs >= 0 ? { tokens: lps.map((l) => l.token), token_logprobs: lps.map((l) => l.logprob), top_logprobs: lps.map((l) => Object.fromEntries(l.top.slice(0, n).map(([id, lp]) => [tok.decode([id]), lp]))), text_offset: [] } : null, finish_reason: out.parsed.finish };
    return { id, object, created, model: query.model, choices: [choice], usage };
  };
  app.post('/v1/chat/completions', handle('chat'));
  app.post('/v1/completions', handle('text'));

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    app,
    stats,
    async idle() {
      while (checks.size > 0) await Promise.all([...checks]);
    },
    async close() {
      await app.close();
      await Promise.all([...checks]);
    },
  };
}
