/**
 * A model's own chat format: tokenizer_config.json `chat_template` (Jinja, via @huggingface/jinja), used by the
 * miner, the validator's verifier and the gateway alike, so they agree on the prompt a chat query means.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonReject } from '../../../framework/axon/index.ts';
import type { MinerCallContext } from '../../../framework/commodity/define.ts';
import { BOS_TOKEN, EOS_TOKEN } from '../src/bpe-trainer.ts';
import { ensureExportedModelDir, loadExportedModel, type ExportedModel } from '../src/exported.ts';
import { HfTokenizer } from '../src/hf-tokenizer.ts';
import { inferenceMiner } from '../src/miner.ts';
import { OnnxBackend } from '../src/onnx-backend.ts';
import { promptText, queryPromptIds } from '../src/prompts.ts';
import { OnnxLm } from '../src/session.ts';
import { chatPrompt } from '../src/tokenizer.ts';
import { PRESETS, Verifier } from '../src/verifier.ts';
import { parseStream, type InferenceQuery } from '../src/wire.ts';

// Llama-2-like: BOS first, roles must alternate user/assistant after an optional system message
const TEMPLATE = [
  '{{ bos_token }}',
  "{% if messages[0]['role'] == 'system' %}{% set rest = messages[1:] %}[SYS]{{ messages[0]['content'] }}[/SYS]{% else %}{% set rest = messages %}{% endif %}",
  "{% for m in rest %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate user/assistant') }}{% endif %}",
  "{% if m['role'] == 'user' %}[INST]{{ m['content'] }}[/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}",
].join('');

const query = (messages: InferenceQuery['messages']): InferenceQuery => ({ model: '', messages, prompt: null, temperature: 0.7, top_k: 8, top_p: 0.95, max_tokens: 24, seed: 1234, logprobs: 5 });

describe('chat_template', () => {
  let dir: string;
  let model: ExportedModel;
  let backend: OnnxBackend;
  let ref: OnnxLm;
  beforeAll(async () => {
    const src = ensureExportedModelDir();
    dir = mkdtempSync(join(tmpdir(), 'chat-template-'));
    for (const f of ['model.onnx', 'tokenizer.json', 'config.json']) copyFileSync(join(src, f), join(dir, f));
    const cfg = JSON.parse(readFileSync(join(src, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, chat_template: TEMPLATE }));
    model = loadExportedModel(dir);
    backend = new OnnxBackend({ modelPath: model.modelPath, modelId: model.modelId, threads: 1 });
    ref = await OnnxLm.load(model.modelPath, { threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
    await ref?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the template (one BOS, special tokens encoded as themselves); without a template the bundled format is used', () => {
    const tok = model.tokenizer;
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi' }, { role: 'assistant' as const, content: 'Hello.' }, { role: 'user' as const, content: 'Rivers?' }];
    const text = promptText(query(messages), tok);
    expect(text).toBe(`[SYS]Be brief.[/SYS][INST]Hi[/INST]Hello.${EOS_TOKEN}[INST]Rivers?[/INST]`);
    const ids = queryPromptIds(tok, query(messages));
    expect(ids.filter((id) => id === tok.bosId)).toEqual([tok.bosId]);
    expect(ids[0]).toBe(tok.bosId);
    expect(ids.filter((id) => id === tok.eosId)).toHaveLength(1); // the assistant turn's end, one token, not its characters
    expect(tok.decode(ids.slice(1))).toContain('Hello.');

    const plain = new HfTokenizer({ tokenizer: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), config: { bos_token: BOS_TOKEN, eos_token: EOS_TOKEN } });
    expect(plain.formatChat).toBeUndefined();
    expect(promptText(query(messages), plain)).toBe(chatPrompt(messages));
  });

  it("an honest miner's answer to a templated chat passes the validator's verifier, which formats the prompt the same way", async () => {
    const tok = model.tokenizer;
    const q = { ...query([{ role: 'user', content: 'Tell me about rivers.' }]), model: model.modelId };
    const chunks: Array<{ data: string; receivedAt: number }> = [];
    const ctx = { signal: new AbortController().signal } as MinerCallContext;
    for await (const s of inferenceMiner(backend, tok).handle(q, ctx) as AsyncIterable<string>) chunks.push({ data: s.slice('data: '.length).trim(), receivedAt: performance.now() });
    const a = parseStream(chunks, q.max_tokens)!;
    const verify = (prompt: number[]) => new Verifier(ref, PRESETS.canonical).verify({
      prompt, tokens: a.tokens, finish: a.finish, eosId: tok.eosId, params: { temperature: q.temperature, topK: q.top_k, topP: q.top_p, seed: q.seed, maxTokens: q.max_tokens },
    });
    expect((await verify(queryPromptIds(tok, q))).failures).toEqual([]);
    // the same answer checked against the other chat format does not pass: the template really is the model input
    const other = await verify([tok.bosId!, ...tok.encode(chatPrompt(q.messages!))]);
    console.log(`templated answer: ${a.tokens.length} tokens; checked against the bundled format instead: ${other.failures[0] ?? 'passed'}`);
    expect(other.pass).toBe(false);
  }, 60_000);

  it("messages the template refuses (and a model not served) get a 400 from the miner with the reason; a broken template fails at load", () => {
    const q = { ...query([{ role: 'assistant', content: 'I speak first.' }]), model: model.modelId };
    const ctx = { signal: new AbortController().signal } as MinerCallContext;
    let err: unknown;
    try {
      inferenceMiner(backend, model.tokenizer).handle(q, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AxonReject);
    expect((err as AxonReject).status).toBe(400);
    expect((err as AxonReject).message).toBe('cannot format the messages: roles must alternate user/assistant');
    // a model the miner does not serve is the caller's mistake too
    let wrongModel: unknown;
    try {
      inferenceMiner(backend, model.tokenizer).handle({ ...q, model: 'someone/else' }, ctx);
    } catch (e) {
      wrongModel = e;
    }
    expect(wrongModel).toBeInstanceOf(AxonReject);
    expect((wrongModel as AxonReject).status).toBe(400);
    expect((wrongModel as AxonReject).message).toBe(`model 'someone/else' is not served here (this miner serves '${model.modelId}')`);
    const tokenizer = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as unknown;
    expect(() => new HfTokenizer({ tokenizer, config: { eos_token: EOS_TOKEN, chat_template: '{% for m in messages %}' } })).toThrow(/chat_template does not parse/);
  });
});
