/**
 * A deterministic byte-level BPE `tokenizer.json` (the Hugging Face format GPT-2, Llama 3 and Qwen ship),
 * learnt from the bundled corpus, so the exported-model path (`tokenizer.json` + standard decoder) is tested
 * end to end without downloading anything. Same corpus and merge count → same file.
 */
import { CORPUS_LINES, QUESTION_TEMPLATES, SYSTEM_PROMPTS, TOPICS } from './corpus.ts';

/** GPT-2's byte → printable character table (bytes that are not printable move to U+0100…). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable(b) ? b : 256 + n++);
  return out;
})();

/** GPT-2's pre-tokenizer split (what a ByteLevel pre-tokenizer with use_regex does). */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const BOS_TOKEN = '<|begin_of_text|>';
export const EOS_TOKEN = '<|end_of_text|>';

/** Texts the merges are learnt from: corpus lines and the chat-formatted prompts the validator sends. */
export function trainingTexts(): string[] {
  const texts = [...CORPUS_LINES];
  for (const s of SYSTEM_PROMPTS) texts.push(`system: ${s}\n`);
  for (const q of QUESTION_TEMPLATES) for (const t of TOPICS) texts.push(`user: ${q.replace('{topic}', t)}\nassistant: `);
  return texts;
}

function pieces(text: string): string[][] {
  const enc = new TextEncoder();
  return (text.match(GPT2_SPLIT) ?? []).map((w) => Array.from(enc.encode(w), (b) => BYTE_TO_CHAR[b]!));
}

export interface BpeFiles {
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  vocabSize: number;
  bosId: number;
  eosId: number;
}

/** Learns `merges` BPE merges (most frequent pair first, ties by the pair's text) and writes the two JSON files. */
export function trainByteBpe(merges = 96, texts: readonly string[] = trainingTexts()): BpeFiles {
  const words = new Map<string, { syms: string[]; n: number }>();
  for (const t of texts) {
    for (const p of pieces(t)) {
      const key = p.join('');
      const w = words.get(key);
      if (w) w.n++;
      else words.set(key, { syms: p, n: 1 });
    }
  }
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((c, b) => (vocab[c] = b)); // ids 0–255 are the bytes, in byte order
  const learnt: string[] = [];
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const { syms, n } of words.values()) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = `${syms[i]} ${syms[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + n);
      }
    }
    let best: string | null = null;
    let bestN = 1; // a pair seen once is not worth a token
    for (const [k, n] of counts) if (n > bestN || (n === bestN && best !== null && k < best)) [best, bestN] = [k, n];
    if (best === null) break;
    const [a, b] = best.split(' ') as [string, string];
    learnt.push(best);
    vocab[a + b] = 256 + m;
    for (const w of words.values()) {
      const s = w.syms;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]!);
      }
      w.syms = out;
    }
  }
  const bosId = 256 + learnt.length;
  const eosId = bosId + 1;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(bosId, BOS_TOKEN), special(eosId, EOS_TOKEN)],
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: learnt },
    },
    tokenizerConfig: { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: BOS_TOKEN, eos_token: EOS_TOKEN, add_bos_token: true, clean_up_tokenization_spaces: false, model_max_length: 512 },
    vocabSize: eosId + 1,
    bosId,
    eosId,
  };
}
