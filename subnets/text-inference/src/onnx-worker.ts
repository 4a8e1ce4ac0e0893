/**
 * Worker-thread side of the onnx backend (run through the framework's WorkerPool). The generation streams
 * back through a SharedArrayBuffer: the worker appends each token record and bumps a counter the main thread
 * waits on with Atomics.waitAsync, so no per-token round trip stalls generation.
 */
import { generateTokens, type GenerateParams } from './generate.ts';
import { OnnxLm } from './session.ts';

/** Header Int32 slots. */
export const H_COUNT = 0;
export const H_DONE = 1; // 0 running, 1 finished
export const H_CANCEL = 2;
// bumped on every change (token or done): the main thread waits on it, so no wake-up is lost
export const H_SEQ = 3;
export const HEADER_INTS = 4;
/** One token record: id, logprob, then `logprobs` × (id, logprob), as float64. */
export const recordSize = (logprobs: number): number => 2 + 2 * logprobs;

export interface GenerateJob {
  modelPath: string;
  threads: number;
  prompt: number[];
  params: GenerateParams;
  header: SharedArrayBuffer;
  records: SharedArrayBuffer;
}

const sessions = new Map<string, Promise<OnnxLm>>();

export async function generateInto(job: GenerateJob): Promise<{ finish: 'stop' | 'length'; tokens: number }> {
  const key = `${job.modelPath}#${job.threads}`;
  let lm = sessions.get(key);
  if (lm === undefined) {
    lm = OnnxLm.load(job.modelPath, { threads: job.threads });
    sessions.set(key, lm);
    lm.catch(() => sessions.delete(key));
  }
  const model = await lm;
  const header = new Int32Array(job.header);
  const records = new Float64Array(job.records);
  const size = recordSize(job.params.logprobs);
  const capacity = Math.floor(records.length / size);
  let n = 0;
  const gen = generateTokens(model, job.prompt, job.params, () => Atomics.load(header, H_CANCEL) === 1);
  try {
    for (;;) {
      const r = await gen.next();
      if (r.done) return { finish: r.value, tokens: n };
      if (n >= capacity) return { finish: 'length', tokens: n };
      const o = n * size;
      records[o] = r.value.id;
      records[o + 1] = r.value.logprob;
      r.value.top.forEach(([id, lp], j) => {
        records[o + 2 + 2 * j] = id;
        records[o + 3 + 2 * j] = lp;
      });
      n++;
      Atomics.store(header, H_COUNT, n);
      Atomics.add(header, H_SEQ, 1);
      Atomics.notify(header, H_SEQ);
    }
  } finally {
    Atomics.store(header, H_DONE, 1);
    Atomics.add(header, H_SEQ, 1);
    Atomics.notify(header, H_SEQ);
  }
}
