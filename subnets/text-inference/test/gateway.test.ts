import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { Dendrite } from '../../../framework/dendrite/dendrite.ts';
import { startGateway } from '../src/gateway.ts';
import { runHarness } from '../src/harness.ts';
import type { MinerCallContext } from '../../../framework/commodity/define.ts';
import { SeededRng } from '../../../framework/commodity/rng.ts';
import { inferenceMiner } from '../src/miner.ts';
import { BUNDLED_MODEL_ID } from '../src/model-builder.ts';
import { OpenAiBackend } from '../src/openai-backend.ts';
import { drawQuery, queryPromptIds } from '../src/prompts.ts';
import { parseStream } from '../src/wire.ts';

const until = async (what: string, fn: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('OpenAI-compatible gateway', () => {
  it('serves the openai client (chat, completions, SSE and not, models, API keys) and its spot checks count', async () => {
    const findings: string[] = [];
    await runHarness({
      lineup: ['honest', 'honest', 'organic-cheat'],
      epochs: 1,
      minRounds: 1,
      maxSeconds: 170,
      during: async (net) => {
        const [h1, h2, cheat] = net.miners.map((m) => m.hotkey);
        await until('all three miners scored', () => [h1, h2, cheat].every((h) => (net.validator.state.scores()[h!] ?? 0) > 0));
        const dendrite = new Dendrite(net.validatorKey);
        const gw = await startGateway({
          inference: net.inference, chain: net.chain, netuid: net.netuid, dendrite, scores: () => net.validator.state.scores(),
          apiKeys: ['sk-local-test'], spotCheckShare: 1, minScoreFraction: 0.2, defaults: { maxTokens: 24 },
        });
        try {
          const client = new OpenAI({ apiKey: 'sk-local-test', baseURL: `http://127.0.0.1:${gw.port}/v1`, maxRetries: 0 });
          const models = await client.models.list();
          expect(models.data.map((m) => m.id)).toEqual([BUNDLED_MODEL_ID]);

          const stream = await client.chat.completions.create({ model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: 'Tell me something about bees.' }], stream: true, max_tokens: 24 });
          let text = '';
          let finish: string | null = null;
          let pieces = 0;
          for await (const chunk of stream) {
            text += chunk.choices[0]?.delta.content ?? '';
            finish = chunk.choices[0]?.finish_reason ?? finish;
            pieces++;
          }
          expect(text.length).toBeGreaterThan(0);
          expect(pieces).toBeGreaterThan(3); // streamed token by token, not in one piece
          expect(['stop', 'length']).toContain(finish);

          const chat = await client.chat.completions.create({ model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: 'Describe rain.' }], max_tokens: 16, logprobs: true, top_logprobs: 3, seed: 5 });
          expect(chat.choices[0]!.message.content!.length).toBeGreaterThan(0);
          expect(chat.choices[0]!.logprobs!.content!.length).toBe(chat.usage!.completion_tokens);
          expect(chat.choices[0]!.logprobs!.content![0]!.top_logprobs.length).toBe(3);

          const done = await client.completions.create({ model: BUNDLED_MODEL_ID, prompt: 'Once upon a time ', max_tokens: 12 });
          expect(done.choices[0]!.text.length).toBeGreaterThan(0);
          let streamed = '';
          for await (const c of await client.completions.create({ model: BUNDLED_MODEL_ID, prompt: 'My favourite colour is ', max_tokens: 12, stream: true })) streamed += c.choices[0]?.text ?? '';
          expect(streamed.length).toBeGreaterThan(0);

          const wrongKey = new OpenAI({ apiKey: 'sk-wrong', baseURL: `http://127.0.0.1:${gw.port}/v1`, maxRetries: 0 });
          await expect(wrongKey.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
          await expect(client.chat.completions.create({ model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: 'x' }], max_tokens: 100_000 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
          await expect(client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
          // prompt + max_tokens beyond the model's 512 positions: refused with OpenAI's code before a miner is asked
          await expect(client.chat.completions.create({ model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: 'Tell me about bees.' }], max_tokens: 512 }))
            .rejects.toMatchObject({ status: 400, code: 'context_length_exceeded', message: expect.stringMatching(/maximum context length is 512 tokens, but \d+ were requested/) });
          // and a miner asked directly refuses it too, with the numbers (400, before any model work)
          const m0 = net.miners[0]!;
          const refused = await dendrite.stream({ ip: '127.0.0.1', port: m0.handle.port, hotkey: m0.hotkey }, net.inference.commodity.synapse,
            { model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: 'Tell me about bees.' }], prompt: null, temperature: 0.7, top_k: 8, top_p: 0.9, max_tokens: 512, seed: 1, logprobs: 5 }, { framing: 'sse', timeoutMs: 10_000 });
          expect([refused.statusCode, refused.statusMessage]).toEqual([400, expect.stringMatching(/maximum context length is 512 tokens/)]);

          // organic traffic: the miner that cheats only there is caught by the spot checks
          const before = { ...net.validator.state.scores() };
          for (let i = 0; i < 9; i++) await client.chat.completions.create({ model: BUNDLED_MODEL_ID, messages: [{ role: 'user', content: `Question ${i} about trains.` }], max_tokens: 16 });
          await gw.idle();
          findings.push(`spot-checked ${gw.stats.spotChecked}, failed ${gw.stats.spotFailed}, served by ${JSON.stringify(Object.fromEntries(net.miners.map((m) => [m.behavior + ':' + m.hotkey.slice(0, 6), gw.stats.servedBy[m.hotkey] ?? 0])))}`);
          const served = Object.values(gw.stats.servedBy).reduce((a, b) => a + b, 0);
          expect(gw.stats.spotChecked).toBe(served); // share 1: every answered request was verified
          expect(gw.stats.spotChecked).toBeGreaterThanOrEqual(12);
          expect(gw.stats.servedBy[cheat!] ?? 0).toBeGreaterThan(0);
          expect(gw.stats.spotFailed).toBe(gw.stats.servedBy[cheat!]);
          const step = net.validator.state.step;
          await until('organic results merged by a round', () => net.inference.organic.pendingCount() === 0 && net.validator.state.step > step);
          const s = net.validator.state.scores();

          // the `openai` miner backend, pointed at this gateway (an OpenAI-compatible server with logprobs):
          // its answers pass the validator's canonical verifier
          // (a second gateway that routes to the honest miners only: the organic cheater would answer it randomly)
          const honestGw = await startGateway({
            inference: net.inference, chain: net.chain, netuid: net.netuid, dendrite, apiKeys: ['sk-local-test'], spotCheckShare: 0,
            scores: () => Object.fromEntries(Object.entries(net.validator.state.scores()).filter(([h]) => h === h1 || h === h2)), minScoreFraction: 0,
          });
          const proxy = inferenceMiner(new OpenAiBackend({ baseUrl: `http://127.0.0.1:${honestGw.port}/v1`, apiKey: 'sk-local-test', model: BUNDLED_MODEL_ID, tokenizer: net.inference.tokenizer }), net.inference.tokenizer);
          const verifier = await net.inference.verifier();
          const rng = new SeededRng('openai-backend');
          let proxied = 0;
          for (let i = 0; i < 3; i++) {
            const q = drawQuery(rng, { model: BUNDLED_MODEL_ID, maxTokens: { min: 12, max: 24 }, logprobs: 5 });
            const chunks: Array<{ data: string; receivedAt: number }> = [];
            for await (const e of proxy.handle(q, { signal: new AbortController().signal } as MinerCallContext) as AsyncIterable<string>) chunks.push({ data: e.slice(6).trim(), receivedAt: performance.now() });
            const a = parseStream(chunks, q.max_tokens)!;
            const r = await verifier.verify({ prompt: queryPromptIds(net.inference.tokenizer, q), tokens: a.tokens, finish: a.finish, eosId: net.inference.tokenizer.eosId, params: { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens } });
            expect(r.failures).toEqual([]);
            proxied += a.tokens.length;
          }
          await honestGw.close();
          findings.push(`openai backend through the gateway: 3 answers, ${proxied} tokens, all verified`);
          const kept = (h: string) => s[h]! / before[h]!;
          findings.push(`score kept through the organic traffic: honest ${kept(h1!).toFixed(2)}, ${kept(h2!).toFixed(2)}; organic-cheat ${kept(cheat!).toFixed(2)}`);
          // (not asserted: while the EMA is still ramping up from 0, how much each score grew depends on timing)
        } finally {
          await gw.close();
          await dendrite.close();
        }
      },
    });
    console.log(findings.join('\n'));
  }, 200_000);
});
