/**
 * A Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) as this subnet's `Tokenizer`, on
 * `@huggingface/tokenizers` (pure JS, no dependencies, nothing downloaded). Byte-level BPE (GPT-2, Llama 3,
 * Qwen) and SentencePiece-style vocabularies with `<0xNN>` byte fallback both give exact token bytes, so a
 * stream decodes incrementally without splitting a character.
 */
import { readFileSync, statSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfLib } from '@huggingface/tokenizers';
import { z } from 'zod';
import { BYTE_TO_CHAR } from './bpe-trainer.ts';
import type { ChatMessage, Tokenizer } from './tokenizer.ts';

// real tokenizer.json files are 2–20 MB; bound what is parsed
const MAX_JSON_BYTES = 64 << 20;

const tokenRef = z.union([z.string(), z.object({ content: z.string() })]).nullish();
const addedToken = z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean().default(false) });
const componentType = z.object({ type: z.string() }).passthrough().nullish();
const tokenizerJson = z.object({
  added_tokens: z.array(addedToken).default([]),
  pre_tokenizer: componentType,
  decoder: z.object({ type: z.string(), decoders: z.array(z.object({ type: z.string() }).passthrough()).optional() }).passthrough().nullish(),
  model: z.object({
    type: z.string(),
    vocab: z.union([z.record(z.number().int().nonnegative()), z.array(z.tuple([z.string(), z.number()]))]),
  }).passthrough(),
}).passthrough();
// a single template, or named ones (`default` is the chat one) as some exports write them
const chatTemplate = z.union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))]).nullish();
const tokenizerConfig = z.object({ bos_token: tokenRef, eos_token: tokenRef, add_bos_token: z.boolean().nullish(), chat_template: chatTemplate }).passthrough();
const modelConfig = z.object({
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int()).min(1)]).nullish(),
}).passthrough();

export interface HfTokenizerFiles {
  /** Parsed `tokenizer.json`. */
  tokenizer: unknown;
  /** Parsed `tokenizer_config.json` (optional, as in some exports). */
  config?: unknown;
  /** Parsed `config.json` or `generation_config.json` (token ids when the tokenizer config names none). */
  modelConfig?: unknown;
}

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));
const refContent = (r: z.infer<typeof tokenRef>) => (r == null ? null : typeof r === 'string' ? r : r.content);

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  readonly formatChat?: (messages: readonly ChatMessage[]) => string;
  private readonly lib: HfLib;
  private readonly byteLevel: boolean;
  private readonly specials = new Set<number>();
  private readonly bytesCache = new Map<number, Uint8Array>();
  private readonly enc = new TextEncoder();

  constructor(files: HfTokenizerFiles) {
    const tj = tokenizerJson.parse(files.tokenizer);
    const cfg = tokenizerConfig.parse(files.config ?? {});
    const mc = modelConfig.parse(files.modelConfig ?? {});
    this.lib = new HfLib(files.tokenizer as object, (files.config ?? {}) as object);
    const types = [tj.pre_tokenizer?.type, tj.decoder?.type, ...(tj.decoder?.decoders ?? []).map((d) => d.type)];
    this.byteLevel = types.includes('ByteLevel');
    const ids = Array.isArray(tj.model.vocab) ? tj.model.vocab.map((_, i) => i) : Object.values(tj.model.vocab);
    for (const t of tj.added_tokens) if (t.special) this.specials.add(t.id);
    this.vocabSize = Math.max(-1, ...ids, ...tj.added_tokens.map((t) => t.id)) + 1;
    const idOf = (name: string | null, what: string): number | null => {
      if (name === null) return null;
      const id = this.lib.token_to_id(name);
      if (id === undefined) throw new Error(`tokenizer_config.json names ${what} '${name}', which is not in tokenizer.json`);
      return id;
    };
    const eos = idOf(refContent(cfg.eos_token), 'eos_token') ?? (Array.isArray(mc.eos_token_id) ? mc.eos_token_id[0]! : mc.eos_token_id ?? null);
    if (eos === null) throw new Error('no EOS token: tokenizer_config.json has no eos_token and config.json no eos_token_id');
    this.eosId = eos;
    this.bosId = cfg.add_bos_token === false ? null : idOf(refContent(cfg.bos_token), 'bos_token') ?? mc.bos_token_id ?? null;
    const source = typeof cfg.chat_template === 'string' ? cfg.chat_template : cfg.chat_template?.find((t) => t.name === 'default')?.template;
    if (source) this.formatChat = chatFormatter(source, refContent(cfg.bos_token) ?? '', refContent(cfg.eos_token) ?? '', this.bosId !== null);
  }

  /** Reads `tokenizer.json` and, when present, `tokenizer_config.json` and `config.json` from `dir`. */
  static fromDir(dir: string): HfTokenizer {
    const read = (name: string, required: boolean): unknown => {
      const path = `${dir}/${name}`;
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        if (required) throw new Error(`${path} not found`);
        return undefined;
      }
      if (size > MAX_JSON_BYTES) throw new Error(`${path} is ${size} bytes (limit ${MAX_JSON_BYTES})`);
      try {
        return JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        throw new Error(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    return new HfTokenizer({ tokenizer: read('tokenizer.json', true), config: read('tokenizer_config.json', false), modelConfig: read('config.json', false) });
  }

  encode(text: string): number[] {
    // BOS is added by the caller (promptIds), so the library's post-processor template stays off
    return this.lib.encode(text, { add_special_tokens: false }).ids;
  }

  tokenBytes(id: number): Uint8Array {
    let b = this.bytesCache.get(id);
    if (b === undefined) {
      b = this.computeBytes(id);
      this.bytesCache.set(id, b);
    }
    return b;
  }

  private computeBytes(id: number): Uint8Array {
    if (this.specials.has(id)) return new Uint8Array(0);
    const s = this.lib.id_to_token(id);
    if (s === undefined) return new Uint8Array(0);
    if (this.byteLevel) {
      const chars = [...s];
      const bytes = chars.map((c) => CHAR_TO_BYTE.get(c));
      if (bytes.every((x) => x !== undefined)) return Uint8Array.from(bytes as number[]);
      return this.enc.encode(s); // an added, non-special token stored as plain text
    }
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(s);
    if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    return this.enc.encode(s.replaceAll('▁', ' ')); // SentencePiece's word-boundary marker
  }

  decode(ids: readonly number[]): string {
    return this.lib.decode([...ids], { skip_special_tokens: true });
  }
}

/**
 * A `chat_template` (Jinja, rendered by @huggingface/jinja as transformers' apply_chat_template does, with
 * the generation prompt). Parsed once at load, so a broken template fails there with one line. Templates
 * usually start with `{{ bos_token }}`; promptIds adds BOS itself, so a leading one is dropped here.
 */
function chatFormatter(source: string, bosToken: string, eosToken: string, dropLeadingBos: boolean): (messages: readonly ChatMessage[]) => string {
  let template: Template;
  try {
    template = new Template(source);
  } catch (e) {
    throw new Error(`tokenizer_config.json: chat_template does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  return (messages) => {
    const text = template.render({ messages: messages.map((m) => ({ role: m.role, content: m.content })), add_generation_prompt: true, bos_token: bosToken, eos_token: eosToken }); // raise_exception is built in
    return dropLeadingBos && bosToken !== '' && text.startsWith(bosToken) ? text.slice(bosToken.length) : text;
  };
}
