import type { Finish, GenerateParams, TokenEvent } from './generate.ts';

/** What a miner needs from an inference engine: a token stream with logprobs for one request. */
export interface GenerationRequest {
  /** The prompt as text (what OpenAI-compatible servers take) and as ids (what an in-process model takes). */
  promptText: string;
  promptIds: number[];
  params: GenerateParams;
}

export interface InferenceBackend {
  readonly modelId: string;
  /** Positions the model takes (prompt + generated); the miner refuses queries beyond it. null/absent: unknown. */
  readonly contextLength?: number | null;
  generate(req: GenerationRequest, signal?: AbortSignal): AsyncGenerator<TokenEvent, Finish>;
  close(): Promise<void>;
}
