import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MinerCallContext } from '../../../framework/commodity/define.ts';
import { SeededRng } from '../../../framework/commodity/rng.ts';
import { BUNDLED_MODEL_ID, BUNDLED_SPEC, ensureModel } from '../src/model-builder.ts';
import { inferenceMiner, type Behavior } from '../src/miner.ts';
import { OnnxBackend } from '../src/onnx-backend.ts';
import { drawQuery, queryPromptIds } from '../src/prompts.ts';
import { OnnxLm } from '../src/session.ts';
import { ByteTokenizer } from '../src/tokenizer.ts';
import { PRESETS, Verifier, type PresetName } from '../src/verifier.ts';
import { parseStream, type InferenceQuery } from '../src/wire.ts';

const tok = new ByteTokenizer();
let real: OnnxBackend;
let small: OnnxBackend;
let lm: OnnxLm;

beforeAll(async () => {
  real = new OnnxBackend({ modelPath: ensureModel(), modelId: BUNDLED_MODEL_ID, threads: 1 });
  small = new OnnxBackend({ modelPath: ensureModel({ ...BUNDLED_SPEC, seed: 2, table: 'unigram', layers: 1, dModel: 264, ffn: 128 }), modelId: BUNDLED_MODEL_ID });
  // the verifier runs a whole batch with 2 threads; miners one cached step at a time with 1 thread
  lm = await OnnxLm.load(ensureModel(), { threads: 2 });
});
afterAll(async () => {
  await real?.close();
  await small?.close();
  await lm?.release();
});

async function answer(behavior: Behavior, q: InferenceQuery, backend = real, miner = inferenceMiner(backend, tok, { behavior })) {
  const ctx = { signal: new AbortController().signal } as MinerCallContext;
  const chunks: Array<{ data: string; receivedAt: number }> = [];
  for await (const s of miner.handle(q, ctx) as AsyncIterable<string>) chunks.push({ data: s.slice('data: '.length).trim(), receivedAt: performance.now() });
  const parsed = parseStream(chunks, q.max_tokens);
  if (parsed === null) throw new Error('unparsable stream');
  return parsed;
}

function queries(n: number, seed = 'verifier-test'): InferenceQuery[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => drawQuery(rng, { model: BUNDLED_MODEL_ID, maxTokens: { min: 24, max: 64 }, logprobs: 5 }));
}

async function verify(preset: PresetName, q: InferenceQuery, a: Awaited<ReturnType<typeof answer>>) {
  return new Verifier(lm, PRESETS[preset]).verify({
    prompt: queryPromptIds(tok, q), tokens: a.tokens, finish: a.finish, eosId: tok.eosId,
    params: { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens },
  });
}

describe('verifier', () => {
  it('passes honest answers despite a different thread count and batch shape', async () => {
    const qs = queries(16);
    for (const q of qs) {
      const a = await answer('honest', q);
      for (const preset of ['canonical', 'sn19', 'sn1'] as const) {
        const r = await verify(preset, q, a);
        expect(r.failures, `${preset} on T=${q.temperature}`).toEqual([]);
        expect(r.quality).toBeGreaterThan(0.9);
      }
      // the reported logprobs come from a cached single-step run; the reference from one batched pass
      const r = await verify('canonical', q, a);
      expect(r.stats.samplerAgreement).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('fails every cheap cheat', async () => {
    const qs = queries(6, 'cheats');
    const table: Array<{ cheat: string; failed: number; of: number; example: string }> = [];
    for (const behavior of ['random', 'other-model', 'cached', 'fake-logprobs', 'early-stop', 'runaway'] as const) {
      const miner = behavior === 'other-model' ? inferenceMiner(small, tok) : inferenceMiner(real, tok, { behavior });
      if (behavior === 'cached') await answer(behavior, queries(1, 'warm')[0]!, real, miner); // its cache: another prompt
      let failed = 0;
      let example = '';
      for (const q of qs) {
        const r = await verify('canonical', q, await answer(behavior, q, real, miner));
        if (!r.pass) failed++;
        example ||= r.failures[0] ?? '';
      }
      table.push({ cheat: behavior, failed, of: qs.length, example });
    }
    console.table(table);
    for (const row of table) expect(row.failed, row.cheat).toBe(row.of);
  });

  it('counts a repeated claimed alternative once in the top-k overlap', async () => {
    // honest tokens and logprobs, but the alternatives are the token itself five times (no top-k computed)
    for (const q of queries(3, 'repeated-alternatives')) {
      const a = await answer('honest', q);
      const faked = { ...a, tokens: a.tokens.map((t) => ({ ...t, top: Array.from({ length: 5 }, () => [t.id, t.logprob] as [number, number]) })) };
      for (const preset of ['canonical', 'sn1'] as const) {
        const r = await verify(preset, q, faked);
        expect(r.stats.topOverlap).toBeLessThanOrEqual(0.2 + 1e-9); // one distinct id of five claimed (0 when it is not in the reference top-5)
        expect(r.failures.join('; ')).toMatch(/top-k overlap 0\.[0-2]\d\d < 0\.83/);
      }
    }
  });
});
