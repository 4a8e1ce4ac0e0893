/**
 * The "real exported model" path without a download: a byte-level BPE tokenizer.json learnt from the corpus
 * plus a decoder in the Optimum layout (position_ids, KV dims only in config.json), in float32 and float16;
 * loaded through the same code a downloaded export goes through.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MinerCallContext } from '../../../framework/commodity/define.ts';
import { SeededRng } from '../../../framework/commodity/rng.ts';
import { BYTE_TO_CHAR, GPT2_SPLIT, trainByteBpe, trainingTexts } from '../src/bpe-trainer.ts';
import { ensureExportedModelDir, loadExportedModel, type ExportedModel } from '../src/exported.ts';
import { formatRows, judge, runHarness } from '../src/harness.ts';
import { HfTokenizer } from '../src/hf-tokenizer.ts';
import { inferenceMiner, type Behavior } from '../src/miner.ts';
import { OnnxBackend } from '../src/onnx-backend.ts';
import { drawQuery, queryPromptIds } from '../src/prompts.ts';
import { OnnxLm } from '../src/session.ts';
import { chatPrompt, promptIds } from '../src/tokenizer.ts';
import { PRESETS, Verifier, type PresetName } from '../src/verifier.ts';
import { parseStream, type InferenceQuery } from '../src/wire.ts';

/** GPT-2's reference BPE (merge every occurrence of the best-ranked pair until none is left), to check the library against. */
function referenceEncode(text: string, merges: readonly string[], vocab: Record<string, number>): number[] {
  const rank = new Map(merges.map((m, i) => [m, i]));
  const out: number[] = [];
  for (const piece of text.match(GPT2_SPLIT) ?? []) {
    let syms = Array.from(new TextEncoder().encode(piece), (b) => BYTE_TO_CHAR[b]!);
    for (;;) {
      let best = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
        if (r !== undefined && (best < 0 || r < rank.get(`${syms[best]} ${syms[best + 1]}`)!)) best = i;
      }
      if (best < 0) break;
      const [a, b] = [syms[best]!, syms[best + 1]!];
      const next: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) next.push(a + b), i++;
        else next.push(syms[i]!);
      }
      syms = next;
    }
    out.push(...syms.map((s) => vocab[s]!));
  }
  return out;
}

const UNSEEN = ['Gravity bends light near heavy stars — ünïcödé, 日本語, emoji 🐝 and tabs\there.', "It's 42 o'clock; they've   gone.\n\n"];

describe('tokenizer.json (byte-level BPE through @huggingface/tokenizers)', () => {
  const files = trainByteBpe();
  const tok = new HfTokenizer({ tokenizer: files.tokenizer, config: files.tokenizerConfig });
  const model = files.tokenizer.model as { merges: string[]; vocab: Record<string, number> };

  it('is learnt deterministically and encodes exactly as the reference BPE', () => {
    expect(JSON.stringify(trainByteBpe().tokenizer)).toBe(JSON.stringify(files.tokenizer));
    expect(model.merges.length).toBe(96);
    expect([tok.vocabSize, tok.bosId, tok.eosId]).toEqual([354, 352, 353]);
    let tokens = 0;
    let bytes = 0;
    for (const text of [...trainingTexts(), ...UNSEEN]) {
      const ids = tok.encode(text);
      expect(ids, text).toEqual(referenceEncode(text, model.merges, model.vocab));
      expect(tok.decode(ids)).toBe(text);
      // token bytes concatenate to the text (incremental streaming never splits a character for good)
      const joined = ids.flatMap((i) => [...tok.tokenBytes(i)]);
      expect(new TextDecoder().decode(Uint8Array.from(joined))).toBe(text);
      tokens += ids.length;
      bytes += new TextEncoder().encode(text).length;
    }
    // the merges compress: fewer tokens than bytes
    expect(tokens / bytes).toBeLessThan(0.75);
    expect(tok.tokenBytes(tok.eosId).length).toBe(0);
    expect(tok.decode([tok.bosId!, ...tok.encode('hi'), tok.eosId])).toBe('hi');
  });

  it('refuses tokenizer files it cannot use, with one clear message', () => {
    expect(() => new HfTokenizer({ tokenizer: files.tokenizer, config: { bos_token: '<|begin_of_text|>' } })).toThrow(/no EOS token/);
    expect(() => new HfTokenizer({ tokenizer: files.tokenizer, config: { eos_token: '<|eot|>' } })).toThrow(/eos_token '<\|eot\|>', which is not in tokenizer.json/);
    // the EOS id can come from config.json instead, as in exports whose tokenizer config names none
    expect(new HfTokenizer({ tokenizer: files.tokenizer, config: {}, modelConfig: { eos_token_id: [353, 1] } }).eosId).toBe(353);
    expect(() => new HfTokenizer({ tokenizer: { model: { type: 'BPE' } } })).toThrow();
    const dir = mkdtempSync(join(tmpdir(), 'ti-tok-'));
    try {
      expect(() => HfTokenizer.fromDir(dir)).toThrow(/tokenizer.json not found/);
      writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
      expect(() => HfTokenizer.fromDir(dir)).toThrow(/tokenizer.json is not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('standard exported decoder (Optimum layout, tokenizer.json, config.json)', () => {
  let f32: ExportedModel;
  let f16: ExportedModel;
  let ref: OnnxLm;
  const backends: OnnxBackend[] = [];
  beforeAll(async () => {
    f32 = loadExportedModel(ensureExportedModelDir());
    f16 = loadExportedModel(ensureExportedModelDir({ io: 'float16' }));
    ref = await OnnxLm.load(f32.modelPath, { threads: 2 });
  }, 60_000);
  afterAll(async () => {
    for (const b of backends) await b.close();
    await ref?.release();
  });

  it('loads: KV shape from config.json, position_ids fed, cached steps equal a full pass (float32 and float16)', async () => {
    expect(f32.modelId).toBe('subnetkit/bpe-decoder-2x360');
    expect([ref.layers, ref.kvHeads, ref.headDim, ref.kvType]).toEqual([2, 4, 90, 'float32']);
    const lm16 = await OnnxLm.load(f16.modelPath, { threads: 1 });
    try {
      expect(lm16.kvType).toBe('float16');
      const ids = promptIds(f32.tokenizer, chatPrompt([{ role: 'user', content: 'Tell me about rivers.' }]));
      const full = await ref.forward(ids, ref.emptyCache());
      expect(full.vocab).toBe(354);
      for (const lm of [ref, lm16]) {
        let step = await lm.forward(ids.slice(0, -3), lm.emptyCache());
        for (let k = ids.length - 3; k < ids.length; k++) {
          step = await lm.forward([ids[k]!], step.cache);
          const want = full.logits.subarray(k * 354, (k + 1) * 354);
          // float16 cache and logits: ~3 significant digits
          const tol = lm === ref ? 1e-3 : 2e-2;
          for (let v = 0; v < 354; v++) expect(Math.abs(step.logits[v]! - want[v]!)).toBeLessThan(tol);
        }
      }
    } finally {
      await lm16.release();
    }
  });

  it('honest miners on the float32 or the float16 export pass the float32 validator; cheats fail', async () => {
    const b32 = new OnnxBackend({ modelPath: f32.modelPath, modelId: f32.modelId, threads: 1 });
    const b16 = new OnnxBackend({ modelPath: f16.modelPath, modelId: f16.modelId, threads: 1 });
    backends.push(b32, b16);
    const tok = f32.tokenizer;
    const rng = new SeededRng('exported-test');
    const ctx = { signal: new AbortController().signal } as MinerCallContext;
    const run = async (backend: OnnxBackend, behavior: Behavior, q: InferenceQuery) => {
      const chunks: Array<{ data: string; receivedAt: number }> = [];
      for await (const s of inferenceMiner(backend, tok, { behavior }).handle(q, ctx) as AsyncIterable<string>) chunks.push({ data: s.slice('data: '.length).trim(), receivedAt: performance.now() });
      const a = parseStream(chunks, q.max_tokens)!;
      return (preset: PresetName) => new Verifier(ref, PRESETS[preset]).verify({
        prompt: queryPromptIds(tok, q), tokens: a.tokens, finish: a.finish, eosId: tok.eosId,
        params: { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens },
      });
    };
    let tokens = 0;
    for (let i = 0; i < 8; i++) {
      const q = drawQuery(rng, { model: f32.modelId, maxTokens: { min: 24, max: 48 }, logprobs: 5 });
      for (const backend of [b32, b16]) {
        const verify = await run(backend, 'honest', q);
        for (const preset of ['canonical', 'sn19'] as const) {
          const r = await verify(preset);
          expect(r.failures, `${backend === b16 ? 'float16' : 'float32'} miner, ${preset}`).toEqual([]);
          tokens += preset === 'sn19' ? r.stats.tokens : 0;
        }
      }
      // (early stop is left to the bundled-model harness: this small export often ranks EOS in its top 10
      // after a few tokens, where stopping is what the model might do, so the check rightly lets it through)
      for (const cheat of ['random', 'fake-logprobs', 'runaway'] as const) {
        const r = await (await run(b32, cheat, q))('canonical');
        expect(r.pass, cheat).toBe(false);
      }
    }
    expect(tokens).toBeGreaterThan(8 * 2 * 5); // answers were not trivially short
  }, 120_000);

  it('refuses a bfloat16 export with one clear line', async () => {
    const bf = loadExportedModel(ensureExportedModelDir({ io: 'bfloat16' }));
    await expect(OnnxLm.load(bf.modelPath)).rejects.toThrow(/cannot use model .*bfloat16: only float32 and float16 models are supported/);
  });

  it('runs as a subnet: honest miners on the export are paid, cheaters are not', async () => {
    const r = await runHarness({ model: f32, lineup: ['honest', 'honest', 'random', 'cached', 'fake-logprobs'], epochs: 1, minRounds: 4, maxSeconds: 60 });
    console.log(`\n${formatRows(r.rows)}\nhonest share ${(100 * r.honestShare).toFixed(1)} % after ${r.epochs} epochs, ${r.seconds.toFixed(1)} s\n`);
    expect(judge(r)).toEqual([]);
    for (const row of r.rows) expect(row.verified, row.behavior).toBeGreaterThan(0);
    for (const row of r.rows.filter((x) => x.behavior === 'honest')) expect(row.passed).toBe(row.verified);
  }, 120_000);
});
