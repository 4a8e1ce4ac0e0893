/**
 * Context length: read from config.json or the ONNX metadata, and enforced on both sides — the validator
 * draws queries that fit, the miner refuses ones that do not (400), generation stops at the last position,
 * and an answer beyond the reference's context is a validator-side error (never the miner's penalty).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MinerCallContext, TaskContext } from '../../../framework/commodity/define.ts';
import { SeededRng } from '../../../framework/commodity/rng.ts';
import { createTextInference } from '../src/commodity.ts';
import { ensureExportedModelDir } from '../src/exported.ts';
import { generateTokens } from '../src/generate.ts';
import { inferenceMiner } from '../src/miner.ts';
import { BUNDLED_MODEL_ID, BUNDLED_SPEC, ensureModel } from '../src/model-builder.ts';
import { OnnxBackend } from '../src/onnx-backend.ts';
import { readOnnxMetadata } from '../src/onnx-proto.ts';
import { queryPromptIds } from '../src/prompts.ts';
import { contextLengthOf, OnnxLm } from '../src/session.ts';
import { ByteTokenizer, chatPrompt, promptIds } from '../src/tokenizer.ts';
import { Verifier } from '../src/verifier.ts';
import type { InferenceQuery } from '../src/wire.ts';

const tok = new ByteTokenizer();
const tmp = mkdtempSync(join(tmpdir(), 'ti-context-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('context length', () => {
  it('comes from config.json, else the ONNX metadata', () => {
    const bundled = ensureModel();
    expect(readOnnxMetadata(bundled).max_position_embeddings).toBe(String(BUNDLED_SPEC.maxPositions));
    expect(contextLengthOf(bundled)).toBe(BUNDLED_SPEC.maxPositions);
    expect(contextLengthOf(join(ensureExportedModelDir(), 'model.onnx'))).toBe(BUNDLED_SPEC.maxPositions); // its config.json
    // config.json next to the model wins (GPT-2 spells it n_positions)
    const dir = join(tmp, 'gpt2-like');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    copyFileSync(bundled, join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ n_positions: 96, head_dim: null }));
    expect(contextLengthOf(join(dir, 'model.onnx'))).toBe(96);
    writeFileSync(join(dir, 'config.json'), '{ not json');
    expect(() => contextLengthOf(join(dir, 'model.onnx'))).toThrow(/config\.json: not JSON/);
    // not an ONNX file / missing: nothing known
    writeFileSync(join(tmp, 'junk.onnx'), 'hello, this is not protobuf');
    expect(readOnnxMetadata(join(tmp, 'junk.onnx'))).toEqual({});
    expect(contextLengthOf(join(tmp, 'missing.onnx'))).toBeNull();
  });

  it('generation stops at the last position instead of running past it', async () => {
    const prompt = promptIds(tok, chatPrompt([{ role: 'user', content: 'Tell me about rivers.' }]));
    const lm = await OnnxLm.load(ensureModel(), { threads: 1, contextLength: prompt.length + 5 });
    try {
      const g = generateTokens(lm, prompt, { temperature: 0.7, topK: 8, topP: 1, seed: 3, maxTokens: 40, logprobs: 2, eosId: -1 });
      let n = 0;
      let r = await g.next();
      for (; !r.done; r = await g.next()) n++;
      // the 5 positions after the prompt are fed back (the last sampled token is not): 6 tokens
      expect([n, r.value]).toEqual([6, 'length']);
      await expect(generateTokens(lm, [...prompt, ...prompt], { temperature: 0, topK: 0, topP: 1, seed: 0, maxTokens: 1, logprobs: 0, eosId: -1 }).next()).rejects.toThrow(/exceeds the model's context length/);
    } finally {
      await lm.release();
    }
  });

  it('validator queries fit; the miner refuses what does not fit (400); the verifier throws instead of failing the miner', async () => {
    const inference = createTextInference({ referenceModelPath: ensureModel(), contextLength: 120, maxTokens: { min: 40, max: 64 } });
    expect(inference.contextLength()).toBe(120);
    const rng = new SeededRng('context');
    let clamped = 0;
    for (let i = 0; i < 40; i++) {
      const spec = await inference.commodity.generate({ rng } as unknown as TaskContext<Record<string, never>>);
      const q = (Array.isArray(spec) ? spec[0]! : spec!).query as InferenceQuery;
      const p = queryPromptIds(tok, q).length;
      expect(p + q.max_tokens).toBeLessThanOrEqual(120);
      if (q.max_tokens < 40) clamped++;
    }
    expect(clamped).toBeGreaterThan(5); // the long chat prompts were clamped
    // without a model file nothing is known, and nothing is clamped
    expect(createTextInference({ referenceModelPath: join(tmp, 'missing.onnx') }).contextLength()).toBeNull();

    const backend = new OnnxBackend({ modelPath: ensureModel(), modelId: BUNDLED_MODEL_ID });
    expect(backend.contextLength).toBe(512);
    const miner = inferenceMiner(backend, tok);
    const q = { model: BUNDLED_MODEL_ID, messages: [{ role: 'user' as const, content: 'Tell me about bees.' }], prompt: null, temperature: 0.5, top_k: 5, top_p: 1, max_tokens: 500, seed: 1, logprobs: 5 };
    const ctx = { signal: new AbortController().signal } as MinerCallContext;
    expect(() => miner.handle(q, ctx)).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/maximum context length is 512 tokens, but 5\d\d were requested \(\d+ in the prompt \+ max_tokens 500\)/) }));
    await backend.close();

    const lm = await OnnxLm.load(ensureModel(), { threads: 1, contextLength: 40 });
    try {
      const prompt = queryPromptIds(tok, q);
      const tokens = Array.from({ length: 30 }, () => ({ id: 101, logprob: -1, top: [] as Array<[number, number]> }));
      await expect(new Verifier(lm).verify({ prompt, tokens, finish: 'length', eosId: tok.eosId, params: { temperature: 0.5, topK: 5, topP: 1, seed: 1, maxTokens: 30 } }))
        .rejects.toThrow(/exceeds the reference model's context length 40/);
    } finally {
      await lm.release();
    }
  });
});
