/**
 * onnxruntime-node session over a standard exported causal decoder: `input_ids`, `attention_mask`,
 * optional `position_ids`, `past_key_values.{i}.key|value` → `logits`, `present.{i}.key|value`
 * (float32 or float16). Works for the bundled model and for Optimum-style exports of real models. A float16
 * cache stays float16 between steps (handed back to the session as it came); logits are widened to float32.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { readOnnxMetadata } from './onnx-proto.ts';

export interface LmOptions {
  /** intra-op threads (the verifier may use a different count from the miner: results must agree within tolerance). */
  threads?: number;
  /** KV heads and head size, when neither the model's input shapes nor a config.json next to it say. */
  kvHeads?: number;
  headDim?: number;
  /** Positions the model can attend over, when neither config.json nor the ONNX metadata say. */
  contextLength?: number;
}

export interface KvCache {
  tensors: Record<string, ort.Tensor>;
  length: number;
}

type KvType = 'float32' | 'float16';

/** IEEE 754 half → float (onnxruntime-node hands float16 data as raw Uint16Array bits). */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

const hfConfig = z.object({
  max_position_embeddings: z.number().int().positive().nullish(),
  n_positions: z.number().int().positive().nullish(), // GPT-2
  max_sequence_length: z.number().int().positive().nullish(),
  num_attention_heads: z.number().int().positive().nullish(),
  num_key_value_heads: z.number().int().positive().nullish(),
  hidden_size: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
});

/** config.json next to the model, or one level up (transformers.js puts the model in onnx/). */
function configPath(modelPath: string): string | null {
  for (const p of [join(dirname(modelPath), 'config.json'), join(dirname(modelPath), '..', 'config.json')]) if (existsSync(p)) return p;
  return null;
}

function readConfig(modelPath: string): z.infer<typeof hfConfig> | null {
  const p = configPath(modelPath);
  if (p === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`${p}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const r = hfConfig.safeParse(json);
  if (!r.success) throw new Error(`${p}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * How many positions (prompt + generated tokens) the model at `modelPath` can take: config.json's
 * `max_position_embeddings` (or `n_positions`, `max_sequence_length`), else the ONNX metadata entry
 * `max_position_embeddings` (the bundled model writes it); null when neither says (or the file is missing).
 */
export function contextLengthOf(modelPath: string): number | null {
  const cfg = readConfig(modelPath);
  const fromConfig = cfg?.max_position_embeddings ?? cfg?.n_positions ?? cfg?.max_sequence_length;
  if (typeof fromConfig === 'number') return fromConfig;
  if (!existsSync(modelPath)) return null; // loading it reports that
  const meta = Number(readOnnxMetadata(modelPath).max_position_embeddings);
  return Number.isSafeInteger(meta) && meta > 0 ? meta : null;
}

export class OnnxLm {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly layers: number,
    readonly kvHeads: number,
    readonly headDim: number,
    readonly vocabSize: number,
    private readonly hasPositionIds: boolean,
    /** Element type of the KV cache inputs (float16 exports keep their cache in float16). */
    readonly kvType: KvType,
    /** Positions it can attend over (prompt + generated), null if unknown (`contextLengthOf`). */
    readonly contextLength: number | null,
  ) {}

  static async load(path: string, opts: LmOptions = {}): Promise<OnnxLm> {
    if (!existsSync(path)) throw new Error(`model file not found: ${path}`);
    let session: ort.InferenceSession | undefined;
    try {
      session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        // idle intra-op threads sleep instead of spinning: spinning burns CPU time on a shared machine
        ...((opts.threads ?? 1) > 1 ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
      });
      return OnnxLm.inspect(session, path, opts);
    } catch (e) {
      await session?.release().catch(() => {});
      const msg = e instanceof Error ? e.message : String(e);
      // onnxruntime-node cannot even describe bfloat16 (ONNX type 16) inputs/outputs
      const hint = /Unsupported data type: 16\b/.test(msg) ? ' (bfloat16: only float32 and float16 models are supported; export in one of those)' : '';
      throw new Error(`cannot use model ${path}: ${msg}${hint}`);
    }
  }

  private static inspect(session: ort.InferenceSession, path: string, opts: LmOptions): OnnxLm {
    const pastNames = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n));
    for (const need of ['input_ids', 'attention_mask']) if (!session.inputNames.includes(need)) throw new Error(`model has no '${need}' input (not a standard exported decoder)`);
    if (!session.outputNames.includes('logits')) throw new Error("model has no 'logits' output");
    const types = new Set<string>();
    for (const m of session.inputMetadata) if (m.isTensor && m.name.startsWith('past_key_values.')) types.add(m.type);
    const logitsMeta = session.outputMetadata.find((m) => m.name === 'logits');
    if (logitsMeta?.isTensor) types.add(logitsMeta.type);
    const unsupported = [...types].filter((t) => t !== 'float32' && t !== 'float16');
    if (unsupported.length > 0) throw new Error(`unsupported KV cache / logits type ${unsupported.join(', ')} (float32 and float16 are)`);
    const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    const kvType: KvType = meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
    let kvHeads = opts.kvHeads;
    let headDim = opts.headDim;
    if (meta && meta.isTensor) {
      const [, h, , d] = meta.shape;
      if (typeof h === 'number') kvHeads ??= h;
      if (typeof d === 'number') headDim ??= d;
    }
    const cfg = kvHeads === undefined || headDim === undefined ? readConfig(path) : null;
    if (cfg !== null) {
      kvHeads ??= cfg.num_key_value_heads ?? cfg.num_attention_heads ?? undefined;
      if (cfg.hidden_size && cfg.num_attention_heads) headDim ??= cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
      else headDim ??= cfg.head_dim ?? undefined;
    }
    if (kvHeads === undefined || headDim === undefined) throw new Error('cannot tell the KV cache shape: pass kvHeads/headDim or put config.json next to the model');
    const out = session.outputMetadata.find((m) => m.name === 'logits');
    const v = out && out.isTensor ? out.shape[2] : undefined;
    const vocab = typeof v === 'number' ? v : 0; // 0: learnt from the first run
    return new OnnxLm(session, pastNames.length, kvHeads, headDim, vocab, session.inputNames.includes('position_ids'), kvType, opts.contextLength ?? contextLengthOf(path));
  }

  emptyCache(): KvCache {
    const tensors: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.layers; l++) {
      for (const kv of ['key', 'value']) tensors[`past_key_values.${l}.${kv}`] = this.kvType === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), [1, this.kvHeads, 0, this.headDim]) : new ort.Tensor('float32', new Float32Array(0), [1, this.kvHeads, 0, this.headDim]);
    }
    return { tensors, length: 0 };
  }

  /**
   * Run `ids` after the cached context. Returns the logits of every new position ([ids.length × vocab],
   * row-major) and the extended cache.
   */
  async forward(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; vocab: number; cache: KvCache }> {
    const out = await this.session.run(this.feeds(ids, cache));
    const next: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.layers; l++) {
      next[`past_key_values.${l}.key`] = out[`present.${l}.key`] as ort.Tensor;
      next[`past_key_values.${l}.value`] = out[`present.${l}.value`] as ort.Tensor;
    }
    return { ...OnnxLm.logitsOf(out), cache: { tensors: next, length: cache.length + ids.length } };
  }

  /** As `forward`, without the extended cache: the present tensors are not copied out of onnxruntime (the verifier's last pass). */
  async logits(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; vocab: number }> {
    return OnnxLm.logitsOf(await this.session.run(this.feeds(ids, cache), ['logits']));
  }

  private feeds(ids: readonly number[], cache: KvCache): Record<string, ort.Tensor> {
    const total = cache.length + ids.length;
    const feeds: Record<string, ort.Tensor> = {
      ...cache.tensors,
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(cache.length + i)), [1, ids.length]);
    return feeds;
  }

  private static logitsOf(out: ort.InferenceSession.OnnxValueMapType): { logits: Float32Array; vocab: number } {
    const logits = out.logits as ort.Tensor;
    const data = logits.type === 'float16' ? halfToFloat32(logits.data as Uint16Array) : logits.type === 'float32' ? (logits.data as Float32Array) : null;
    if (data === null) throw new Error(`model returned logits of type ${logits.type}`);
    return { logits: data, vocab: logits.dims[2]! };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
