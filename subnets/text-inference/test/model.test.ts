import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_SPEC, buildDecoderOnnx, ensureModel, pruneStaleBuilds } from '../src/model-builder.ts';
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

describe('model cache', () => {
  it('a new build removes the same kind of stale build (old sources), keeps fresh ones and other kinds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ti-cache-'));
    try {
      const old = new Date(Date.now() - 2 * 3_600_000);
      const make = (name: string, age?: Date) => {
        writeFileSync(join(dir, name), 'x');
        if (age) utimesSync(join(dir, name), age, age);
      };
      make('decoder-bigram-1-000000000000.onnx', old); // an older build of this kind: removed
      make('decoder-bigram-1-111111111111.onnx'); // another checkout's build, in use now: kept
      make('decoder-bigram-2-222222222222.onnx', old); // another seed: another kind, kept
      make('decoder-bigram-1-333333333333.onnx.1234.tmp', old); // not ours (atomic-write temp): kept
      mkdirSync(join(dir, 'decoder-bigram-1-444444444444.onnx.99.tmp'));
      mkdirSync(join(dir, 'decoder-bigram-1-555555555555.77.tmp')); // a crashed directory build, long ago: removed
      utimesSync(join(dir, 'decoder-bigram-1-555555555555.77.tmp'), old, old);
      const path = ensureModel({ ...BUNDLED_SPEC, layers: 1 }, dir);
      expect(readdirSync(dir).sort()).toEqual(
        [basename(path), 'decoder-bigram-1-111111111111.onnx', 'decoder-bigram-1-333333333333.onnx.1234.tmp', 'decoder-bigram-1-444444444444.onnx.99.tmp', 'decoder-bigram-2-222222222222.onnx'].sort(),
      );
      expect(pruneStaleBuilds(dir, 'decoder-bigram-1-', path)).toEqual([]);
      expect(() => pruneStaleBuilds(dir, '.*', path)).toThrow(/prefix/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
