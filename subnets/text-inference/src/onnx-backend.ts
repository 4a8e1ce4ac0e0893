/**
 * The `onnx` miner backend: onnxruntime-node in a worker thread (the framework's WorkerPool), so the axon's
 * event loop stays free while tokens are computed; tokens arrive through shared memory as they are made.
 */
import { WorkerPool } from '../../../framework/axon/workers.ts';
import type { GenerationRequest, InferenceBackend } from './backend.ts';
import type { Finish, TokenEvent } from './generate.ts';
import { contextLengthOf } from './session.ts';
import { HEADER_INTS, H_CANCEL, H_COUNT, H_DONE, H_SEQ, recordSize, type GenerateJob } from './onnx-worker.ts';

// Node ≥ 16 has Atomics.waitAsync; the ES2023 lib typings do not declare it yet
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const WORKER = new URL('./onnx-worker.ts', import.meta.url);

export interface OnnxBackendOptions {
  modelPath: string;
  modelId: string;
  /** intra-op threads per session (default 1). */
  threads?: number;
  /** Generations in parallel, one worker (and one session) each (default 1). */
  workers?: number;
  /** Override the model's context length (default: config.json or the ONNX metadata, `contextLengthOf`). */
  contextLength?: number;
}

export class OnnxBackend implements InferenceBackend {
  readonly modelId: string;
  readonly contextLength: number | null;
  private readonly pool: WorkerPool;
  constructor(private readonly opts: OnnxBackendOptions) {
    this.modelId = opts.modelId;
    this.contextLength = opts.contextLength ?? contextLengthOf(opts.modelPath);
    this.pool = new WorkerPool({ size: opts.workers ?? 1 });
  }

  async *generate(req: GenerationRequest, signal?: AbortSignal): AsyncGenerator<TokenEvent, Finish> {
    const size = recordSize(req.params.logprobs);
    const header = new SharedArrayBuffer(HEADER_INTS * 4);
    const records = new SharedArrayBuffer((req.params.maxTokens + 1) * size * 8);
    const h = new Int32Array(header);
    const r = new Float64Array(records);
    const job: GenerateJob = { modelPath: this.opts.modelPath, threads: this.opts.threads ?? 1, prompt: req.promptIds, params: req.params, header, records };
    // the worker is told to stop at its next token (cooperative), instead of being terminated (which would drop the loaded session)
    const cancel = () => Atomics.store(h, H_CANCEL, 1);
    signal?.addEventListener('abort', cancel, { once: true });
    let failure: unknown = null;
    const done = this.pool.run<{ finish: Finish; tokens: number }>(WORKER, 'generateInto', job).catch((e: unknown) => {
      failure = e;
      Atomics.store(h, H_DONE, 1);
      Atomics.add(h, H_SEQ, 1);
      Atomics.notify(h, H_SEQ);
      return null;
    });
    let seen = 0;
    try {
      for (;;) {
        const seq = Atomics.load(h, H_SEQ);
        const count = Atomics.load(h, H_COUNT);
        for (; seen < count; seen++) {
          const o = seen * size;
          const top: Array<[number, number]> = [];
          for (let j = 0; j < req.params.logprobs; j++) top.push([r[o + 2 + 2 * j]!, r[o + 3 + 2 * j]!]);
          yield { id: r[o]!, logprob: r[o + 1]!, top };
        }
        if (Atomics.load(h, H_DONE) === 1 && Atomics.load(h, H_COUNT) === seen) break;
        const w = waitAsync(h, H_SEQ, seq);
        if (w.async) await w.value;
      }
      const result = await done;
      if (failure !== null || result === null) throw failure instanceof Error ? failure : new Error(String(failure));
      return result.finish;
    } finally {
      cancel();
      signal?.removeEventListener('abort', cancel);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
