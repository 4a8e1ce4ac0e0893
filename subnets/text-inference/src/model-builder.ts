/**
 * Builds the bundled model: a real causal decoder (token + position embeddings, pre-LayerNorm attention
 * blocks with a KV cache, SiLU MLPs, final LayerNorm, LM head) written as ONNX in the standard exported
 * decoder layout (`input_ids`, `attention_mask`, `past_key_values.{i}.key|value` → `logits`,
 * `present.{i}.key|value`). Deterministic: same options → same bytes.
 *
 * Structure without training: the token embedding is one-hot, and the LM head maps each one-hot token to
 * the corpus' smoothed bigram log-probabilities, so the output follows the corpus; the attention and MLP
 * blocks have seeded random weights at a scale that lets the context shift those distributions (so the
 * next-token distribution depends on more than the last byte).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../../framework/util/atomic-write.ts';
import { CORPUS_LINES, QUESTION_TEMPLATES, TOPICS } from './corpus.ts';
import { DataType, encodeModel, type NodeDef, type TensorDef } from './onnx-proto.ts';
import { ByteTokenizer, chatPrompt, promptIds, type Tokenizer } from './tokenizer.ts';

export interface ModelSpec {
  /** Weight seed: a different seed is a different model. */
  seed: number;
  layers: number;
  heads: number;
  /** Residual width; ≥ vocab size (the embedding is one-hot). */
  dModel: number;
  ffn: number;
  maxPositions: number;
  /** 'bigram' (the real model) or 'unigram' (a cheaper model that ignores the previous token). */
  table: 'bigram' | 'unigram';
  /** Scale of the attention/MLP output projections (how much context moves the distribution). */
  mixScale: number;
  /**
   * 'bundled' (default): positions from the cache length, KV head count and size in the input shapes.
   * 'optimum': as Optimum/transformers exports — a `position_ids` input and symbolic KV dims (the loader
   * reads them from config.json).
   */
  layout?: 'bundled' | 'optimum';
  /**
   * Type of the KV cache and logits at the graph boundary (default float32); float16 as fp16 exports;
   * bfloat16 only to test that the loader refuses it clearly.
   */
  io?: 'float32' | 'float16' | 'bfloat16';
}

export const BUNDLED_SPEC: ModelSpec = { seed: 1, layers: 2, heads: 4, dModel: 288, ffn: 576, maxPositions: 512, table: 'bigram', mixScale: 0.003 };
export const BUNDLED_MODEL_ID = 'subnetkit/byte-decoder-2x288';

/** mulberry32: a fast seeded PRNG for weights (secrecy is not needed here, speed is). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Token sequences the statistics are counted on: plain corpus lines and chat-formatted exchanges. */
function trainingSequences(tok: Tokenizer): number[][] {
  const seqs: number[][] = [];
  CORPUS_LINES.forEach((line, i) => {
    seqs.push([...promptIds(tok, line), tok.eosId]);
    const q = QUESTION_TEMPLATES[i % QUESTION_TEMPLATES.length]!.replace('{topic}', TOPICS[i % TOPICS.length]!);
    seqs.push([...promptIds(tok, chatPrompt([{ role: 'user', content: q }])), ...tok.encode(line), tok.eosId]);
  });
  return seqs;
}

/** Smoothed log P(next | prev) (bigram) or log P(next) repeated per row (unigram), vocab × vocab. */
function logTable(tok: Tokenizer, kind: ModelSpec['table']): Float64Array {
  const vocab = tok.vocabSize;
  const counts = new Float64Array(vocab * vocab).fill(0.005);
  for (const s of trainingSequences(tok)) {
    for (let i = 1; i < s.length; i++) {
      if (kind === 'bigram') counts[s[i - 1]! * vocab + s[i]!]! += 1;
      else for (let r = 0; r < vocab; r++) counts[r * vocab + s[i]!]! += 1 / vocab;
    }
  }
  const out = new Float64Array(vocab * vocab);
  for (let r = 0; r < vocab; r++) {
    let sum = 0;
    for (let c = 0; c < vocab; c++) sum += counts[r * vocab + c]!;
    for (let c = 0; c < vocab; c++) out[r * vocab + c] = Math.log(counts[r * vocab + c]! / sum);
  }
  return out;
}

/** The ONNX bytes of a decoder built from `spec`, over `tok`'s vocabulary (default: bytes + BOS + EOS). */
export function buildDecoderOnnx(spec: ModelSpec, tok: Tokenizer = new ByteTokenizer()): Uint8Array {
  const vocab = tok.vocabSize;
  const optimum = spec.layout === 'optimum';
  const ioType = spec.io === 'float16' ? DataType.FLOAT16 : spec.io === 'bfloat16' ? DataType.BFLOAT16 : DataType.FLOAT;
  // fp16 at the boundary: Cast in and out, compute in float32 (what CPU kernels do with fp16 exports anyway)
  const toFloat = (name: string) => (ioType === DataType.FLOAT ? name : op('Cast', [name], { to: DataType.FLOAT }));
  const { dModel: D, heads: H, ffn: F, layers: L } = spec;
  if (D < vocab || D % H !== 0) throw new Error(`dModel must be ≥ ${vocab} and divisible by heads`);
  const Dh = D / H;
  const normal = gaussian(prng(spec.seed));
  const inits: TensorDef[] = [];
  const nodes: NodeDef[] = [];
  const f32 = (name: string, dims: number[], fill: (i: number) => number): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = fill(i);
    inits.push({ name, type: DataType.FLOAT, dims, data });
    return name;
  };
  const i64 = (name: string, values: number[]): string => {
    inits.push({ name, type: DataType.INT64, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const scalarF = (name: string, v: number): string => {
    inits.push({ name, type: DataType.FLOAT, dims: [], data: Float32Array.of(v) });
    return name;
  };
  let tmp = 0;
  const op = (type: string, inputs: string[], attrs?: NodeDef['attrs'], outName?: string): string => {
    const out = outName ?? `t${tmp++}_${type}`;
    nodes.push({ op: type, inputs, outputs: [out], attrs });
    return out;
  };

  // ---- positions and the attention bias, shared by all layers ----
  const pastLen = op('Shape', ['past_key_values.0.key'], { start: 2, end: 3 });
  const seqLen = op('Shape', ['input_ids'], { start: 1, end: 2 });
  const total = op('Add', [pastLen, seqLen]);
  const pastS = op('Squeeze', [pastLen]);
  const totalS = op('Squeeze', [total]);
  const zero = i64('zero', [0]);
  const one = i64('one', [1]);
  const zeroS = op('Squeeze', [zero]);
  const oneS = op('Squeeze', [one]);
  const positions = optimum ? op('Squeeze', ['position_ids', zero]) : op('Range', [pastS, totalS, oneS]);
  const keyPos = op('Range', [zeroS, totalS, oneS]);
  const causal = op('LessOrEqual', [op('Unsqueeze', [keyPos, zero]), op('Unsqueeze', [positions, one])]); // [S,T]
  const padOk = op('Unsqueeze', [op('Cast', ['attention_mask'], { to: DataType.BOOL }), i64('axes12', [1, 2])]); // [B,1,1,T]
  const allowed = op('And', [causal, padOk]); // [B,1,S,T]
  const bias = op('Where', [allowed, scalarF('bias_ok', 0), scalarF('bias_masked', -1e9)]);

  // ---- embeddings ----
  const wte = f32('wte', [vocab, D], (i) => (Math.floor(i / D) === i % D ? 1 : 0));
  const wpe = f32('wpe', [spec.maxPositions, D], () => spec.mixScale * normal());
  let h = op('Add', [op('Gather', [wte, 'input_ids']), op('Gather', [wpe, positions])]);

  const ones = (name: string, n: number) => f32(name, [n], () => 1);
  const zeros = (name: string, n: number) => f32(name, [n], () => 0);
  const dense = (name: string, rows: number, cols: number, scale: number) => f32(name, [rows, cols], () => scale * normal());
  const headsShape = i64('heads_shape', [0, 0, H, Dh]);
  const mergeShape = i64('merge_shape', [0, 0, D]);
  const inScale = 1 / Math.sqrt(D);
  for (let l = 0; l < L; l++) {
    const p = `layer${l}`;
    const x = op('LayerNormalization', [h, ones(`${p}.ln1.g`, D), zeros(`${p}.ln1.b`, D)], { axis: -1, epsilon: { float: 1e-5 } });
    const proj = (name: string) => op('Transpose', [op('Reshape', [op('MatMul', [x, dense(`${p}.${name}`, D, D, inScale)]), headsShape])], { perm: [0, 2, 1, 3] });
    const present = (kv: 'key' | 'value', w: string) => {
      const out = `present.${l}.${kv}`;
      const cat = op('Concat', [toFloat(`past_key_values.${l}.${kv}`), proj(w)], { axis: 2 }, ioType === DataType.FLOAT ? out : undefined);
      if (ioType !== DataType.FLOAT) op('Cast', [cat], { to: ioType }, out);
      return cat;
    };
    const k = present('key', 'wk');
    const v = present('value', 'wv');
    const q = proj('wq');
    const scores = op('Add', [op('Mul', [op('MatMul', [q, op('Transpose', [k], { perm: [0, 1, 3, 2] })]), scalarF(`${p}.scale`, 1 / Math.sqrt(Dh))]), bias]);
    const att = op('MatMul', [op('Softmax', [scores], { axis: -1 }), v]);
    const merged = op('Reshape', [op('Transpose', [att], { perm: [0, 2, 1, 3] }), mergeShape]);
    h = op('Add', [h, op('MatMul', [merged, dense(`${p}.wo`, D, D, spec.mixScale)])]);
    const x2 = op('LayerNormalization', [h, ones(`${p}.ln2.g`, D), zeros(`${p}.ln2.b`, D)], { axis: -1, epsilon: { float: 1e-5 } });
    const u = op('Add', [op('MatMul', [x2, dense(`${p}.w1`, D, F, inScale)]), zeros(`${p}.b1`, F)]);
    const act = op('Mul', [u, op('Sigmoid', [u])]);
    h = op('Add', [h, op('MatMul', [act, dense(`${p}.w2`, F, D, spec.mixScale)])]);
  }

  // Final LayerNorm of a one-hot row e_t is k·(e_t − 1/D) with k = 1/sqrt((1/D)(1 − 1/D)); the head undoes
  // k and the −1/D shift so that logits(e_t) = log P(· | t).
  const table = logTable(tok, spec.table);
  const kNorm = 1 / Math.sqrt((1 / D) * (1 - 1 / D) + 1e-5);
  const head = new Float32Array(D * vocab);
  for (let r = 0; r < vocab; r++) for (let c = 0; c < vocab; c++) head[r * vocab + c] = table[r * vocab + c]! / kNorm;
  inits.push({ name: 'lm_head', type: DataType.FLOAT, dims: [D, vocab], data: head });
  const colBias = new Float32Array(vocab);
  for (let c = 0; c < vocab; c++) {
    let s = 0;
    for (let r = 0; r < D; r++) s += head[r * vocab + c]!;
    colBias[c] = (kNorm / D) * s;
  }
  inits.push({ name: 'lm_bias', type: DataType.FLOAT, dims: [vocab], data: colBias });
  const xf = op('LayerNormalization', [h, ones('lnf.g', D), zeros('lnf.b', D)], { axis: -1, epsilon: { float: 1e-5 } });
  const logits = op('Add', [op('MatMul', [xf, 'lm_head']), 'lm_bias'], undefined, ioType === DataType.FLOAT ? 'logits' : undefined);
  if (ioType !== DataType.FLOAT) op('Cast', [logits], { to: ioType }, 'logits');

  const pastDims = ['batch', optimum ? 'num_key_value_heads' : H, 'past_sequence_length', optimum ? 'head_dim' : Dh];
  const presentDims = ['batch', optimum ? 'num_key_value_heads' : H, 'total_sequence_length', optimum ? 'head_dim' : Dh];
  return encodeModel({
    nodes,
    initializers: inits,
    opset: 17,
    producer: 'subnetkit text-inference model-builder',
    inputs: [
      { name: 'input_ids', type: DataType.INT64, dims: ['batch', 'sequence_length'] },
      { name: 'attention_mask', type: DataType.INT64, dims: ['batch', 'total_sequence_length'] },
      ...(optimum ? [{ name: 'position_ids', type: DataType.INT64, dims: ['batch', 'sequence_length'] }] : []),
      ...Array.from({ length: L }, (_, l) => [
        { name: `past_key_values.${l}.key`, type: ioType, dims: pastDims },
        { name: `past_key_values.${l}.value`, type: ioType, dims: pastDims },
      ]).flat(),
    ],
    outputs: [
      { name: 'logits', type: ioType, dims: ['batch', 'sequence_length', vocab] },
      ...Array.from({ length: L }, (_, l) => [
        { name: `present.${l}.key`, type: ioType, dims: presentDims },
        { name: `present.${l}.value`, type: ioType, dims: presentDims },
      ]).flat(),
    ],
    metadata: { max_position_embeddings: String(spec.maxPositions), num_heads: String(H), head_dim: String(Dh), num_layers: String(L), vocab_size: String(vocab), bos_token_id: String(tok.bosId ?? -1), eos_token_id: String(tok.eosId) },
  });
}

export function defaultModelCacheDir(): string {
  return process.env.TEXT_INFERENCE_MODEL_DIR ?? join(process.cwd(), '.cache', 'text-inference');
}

/**
 * Path of the model built from `spec`, building it (≈ 1 s) into `dir` when it is not there yet. The file
 * name carries a hash of the spec, so a changed builder or spec never reuses a stale file.
 */
export function ensureModel(spec: ModelSpec = BUNDLED_SPEC, dir = defaultModelCacheDir()): string {
  const tag = createHash('sha256').update(JSON.stringify(spec)).update(readFileSync(new URL(import.meta.url))).update(readFileSync(new URL('./corpus.ts', import.meta.url))).digest('hex').slice(0, 12);
  const prefix = `decoder-${spec.table}-${spec.seed}-`;
  const path = join(dir, `${prefix}${tag}.onnx`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(path, buildDecoderOnnx(spec), 0o644);
  pruneStaleBuilds(dir, prefix, path);
  return path;
}

/** Builds untouched this long are not in use by a process of another checkout (which would rebuild anyway). */
const STALE_BUILD_MS = 3_600_000;

/**
 * After a build, remove the cache's older builds of the same kind (`prefix` + a 12-hex tag), left behind
 * when the builder's sources changed, so the cache holds one build per kind instead of one per edit.
 */
export function pruneStaleBuilds(dir: string, prefix: string, keep: string): string[] {
  if (!/^[\w-]+$/.test(prefix)) throw new Error(`pruneStaleBuilds: prefix '${prefix}' must be letters, digits, _ and -`);
  // a build, or the temporary directory a crashed build left (`<name>.<pid>.tmp`)
  const tagged = new RegExp(`^${prefix}[0-9a-f]{12}(\\.onnx|\\.\\d+\\.tmp)?$`);
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (p === keep || !tagged.test(name)) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs < STALE_BUILD_MS) continue;
      rmSync(p, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // gone already (another process pruned it): nothing to do
    }
  }
  return removed;
}
