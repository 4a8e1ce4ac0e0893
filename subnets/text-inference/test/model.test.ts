import { createHash } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_SPEC, buildDecoderOnnx } from '../src/model-builder.ts';
import { logSoftmax } from '../src/sampler.ts';
import { OnnxLm } from '../src/session.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('bundled model', () => {
  it('is deterministic, in the exported-decoder layout, and its KV cache matches a full pass', async () => {
    const a = buildDecoderOnnx(BUNDLED_SPEC);
    expect(sha(buildDecoderOnnx(BUNDLED_SPEC))).toBe(sha(a));
    expect(sha(buildDecoderOnnx({ ...BUNDLED_SPEC, seed: 9 }))).not.toBe(sha(a));
    expect(a.length).toBeGreaterThan(2e6);
    expect(a.length).toBeLessThan(10e6);
    const dir = mkdtempSync(join(tmpdir(), 'ti-model-'));
    try {
      writeFileSync(join(dir, 'model.onnx'), a);
      const lm = await OnnxLm.load(join(dir, 'model.onnx'), { threads: 1 });
      expect([lm.layers, lm.kvHeads, lm.headDim]).toEqual([2, 4, 72]);
      const ids = [256, ...new TextEncoder().encode('user: Tell me about rivers.\nassistant: The river')];
      const full = await lm.forward(ids, lm.emptyCache());
      expect(full.vocab).toBe(258);
      // prefill all but the last 3, then 3 cached single steps: same logits (within float noise)
      let step = await lm.forward(ids.slice(0, -3), lm.emptyCache());
      for (let k = ids.length - 3; k < ids.length; k++) {
        step = await lm.forward([ids[k]!], step.cache);
        const want = full.logits.subarray(k * 258, (k + 1) * 258);
        for (let v = 0; v < 258; v++) expect(Math.abs(step.logits[v]! - want[v]!)).toBeLessThan(1e-3);
      }
      expect(step.cache.length).toBe(ids.length);
      // structure: peaked, not uniform (log 258 ≈ 5.55 nats), and dependent on more than the last byte
      const last = logSoftmax(full.logits.subarray((ids.length - 1) * 258));
      const entropy = -last.reduce((s, lp) => s + Math.exp(lp) * lp, 0);
      expect(entropy).toBeLessThan(4);
      const other = await lm.forward([256, ...new TextEncoder().encode('The bridge over the river')], lm.emptyCache());
      const a1 = full.logits.subarray((ids.length - 1) * 258);
      const b1 = other.logits.subarray(other.logits.length - 258);
      expect(Math.max(...Array.from(a1, (x, i) => Math.abs(x - b1[i]!)))).toBeGreaterThan(0.05);
      await lm.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
