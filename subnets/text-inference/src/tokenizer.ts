/**
 * Tokenizers. The bundled model is byte-level: ids 0–255 are bytes, then BOS and EOS. A real exported
 * model brings its own `tokenizer.json`; anything implementing `Tokenizer` plugs in (see README).
 */
export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number;
  encode(text: string): number[];
  /** Bytes of one token (so a stream can be decoded incrementally without splitting a character). */
  tokenBytes(id: number): Uint8Array;
  decode(ids: readonly number[]): string;
  /** The model's own chat format (a Hugging Face `chat_template`), when it has one; else `chatPrompt` is used. */
  readonly formatChat?: (messages: readonly ChatMessage[]) => string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export class ByteTokenizer implements Tokenizer {
  readonly vocabSize = 258;
  readonly bosId = 256;
  readonly eosId = 257;
  private readonly enc = new TextEncoder();
  encode(text: string): number[] {
    return Array.from(this.enc.encode(text));
  }
  tokenBytes(id: number): Uint8Array {
    return id >= 0 && id < 256 ? Uint8Array.of(id) : new Uint8Array(0);
  }
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(Uint8Array.from(ids.filter((i) => i >= 0 && i < 256)));
  }
}

/** The bundled model's chat format: one `role: content` line per message, then the assistant's turn. */
/** The bundled models' chat format (they were trained on it); models with a chat template use theirs. */
export function chatPrompt(messages: readonly ChatMessage[]): string {
  return `${messages.map((m) => `${m.role}: ${m.content}\n`).join('')}assistant: `;
}

/** Prompt ids: BOS (when the tokenizer has one) + the encoded text. */
export function promptIds(tok: Tokenizer, text: string): number[] {
  return tok.bosId === null ? tok.encode(text) : [tok.bosId, ...tok.encode(text)];
}
