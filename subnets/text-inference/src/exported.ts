/**
 * Standard exported models: a directory as Optimum / transformers.js write it — `model.onnx` (or
 * `onnx/model.onnx`), `tokenizer.json`, `tokenizer_config.json`, `config.json`. `loadExportedModel` opens any
 * such directory; `ensureExportedModelDir` builds one deterministically from the bundled corpus (byte-level
 * BPE tokenizer, Optimum input layout) so that path is tested without a download.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../../../framework/util/atomic-write.ts';
import { trainByteBpe } from './bpe-trainer.ts';
import { HfTokenizer } from './hf-tokenizer.ts';
import { BUNDLED_SPEC, buildDecoderOnnx, defaultModelCacheDir, pruneStaleBuilds, type ModelSpec } from './model-builder.ts';

export interface ExportedModel {
  /** The id the subnet knows the model by (config.json `_name_or_path`, else the directory name). */
  modelId: string;
  modelPath: string;
  tokenizer: HfTokenizer;
}

const nameOnly = z.object({ _name_or_path: z.string().min(1).max(200).optional() }).passthrough();

export function loadExportedModel(dir: string, modelId?: string): ExportedModel {
  const modelPath = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')].find((p) => existsSync(p));
  if (modelPath === undefined) throw new Error(`${dir}: no model.onnx (nor onnx/model.onnx)`);
  const tokenizer = HfTokenizer.fromDir(dir);
  let id = modelId;
  const cfg = join(dir, 'config.json');
  if (id === undefined && existsSync(cfg)) id = nameOnly.safeParse(JSON.parse(readFileSync(cfg, 'utf8'))).data?._name_or_path;
  return { modelId: id ?? basename(dir), modelPath, tokenizer };
}

/** The exported test model: 2 layers, 360 wide (≥ the BPE vocabulary of 354, as the embedding is one-hot). */
export const EXPORTED_SPEC: ModelSpec = { ...BUNDLED_SPEC, seed: 3, dModel: 360, ffn: 360, layout: 'optimum' };
export const EXPORTED_MODEL_ID = 'subnetkit/bpe-decoder-2x360';

/**
 * A directory in the exported layout, built (≈ 2 s) into the model cache when not there yet; the name
 * carries a hash of the spec and the builder sources, so it is rebuilt when they change.
 */
export function ensureExportedModelDir(opts: { io?: ModelSpec['io']; merges?: number; dir?: string } = {}): string {
  const spec: ModelSpec = { ...EXPORTED_SPEC, ...(opts.io ? { io: opts.io } : {}) };
  const merges = opts.merges ?? 96;
  const h = createHash('sha256').update(JSON.stringify({ spec, merges }));
  for (const f of ['./model-builder.ts', './bpe-trainer.ts', './corpus.ts', './exported.ts']) h.update(readFileSync(new URL(f, import.meta.url)));
  const dir = opts.dir ?? defaultModelCacheDir();
  const prefix = `exported-${spec.io ?? 'float32'}-`;
  const out = join(dir, `${prefix}${h.digest('hex').slice(0, 12)}`);
  if (existsSync(join(out, 'model.onnx'))) return out;
  const files = trainByteBpe(merges);
  const tokenizer = new HfTokenizer({ tokenizer: files.tokenizer, config: files.tokenizerConfig });
  const Dh = spec.dModel / spec.heads;
  const config = {
    _name_or_path: EXPORTED_MODEL_ID, model_type: 'subnetkit-decoder', architectures: ['SubnetkitDecoderForCausalLM'],
    num_hidden_layers: spec.layers, num_attention_heads: spec.heads, num_key_value_heads: spec.heads, hidden_size: spec.dModel,
    head_dim: Dh, intermediate_size: spec.ffn, max_position_embeddings: spec.maxPositions, vocab_size: files.vocabSize,
    bos_token_id: files.bosId, eos_token_id: files.eosId, torch_dtype: spec.io ?? 'float32', use_cache: true,
  };
  // built in a temporary sibling and renamed into place, so a half-written directory is never picked up
  const tmp = `${out}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileAtomicSync(join(tmp, 'tokenizer.json'), JSON.stringify(files.tokenizer), 0o644);
  writeFileAtomicSync(join(tmp, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2), 0o644);
  writeFileAtomicSync(join(tmp, 'config.json'), JSON.stringify(config, null, 2), 0o644);
  writeFileAtomicSync(join(tmp, 'model.onnx'), buildDecoderOnnx(spec, tokenizer), 0o644);
  try {
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(out, 'model.onnx'))) throw e; // another process finished first: fine
  }
  pruneStaleBuilds(dir, prefix, out);
  return out;
}
