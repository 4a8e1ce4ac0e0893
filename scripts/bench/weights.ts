/**
 * Weights bench: cost of SDK-exact float32 emulation and of the hand-rolled SCALE commit hash, each against
 * a baseline in the same run, plus how often a naive float64 port would emit different u16 values.
 */
import { TypeRegistry } from '@polkadot/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import {
  commitHashV2,
  convertWeightsAndUidsForEmit,
  normalizeMaxWeight,
  processWeightsForNetuid,
  validateSetWeights,
} from '../../framework/consensus/weights/index.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function timeOps(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 3; i++) fn();
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    ops++;
  }
  return (performance.now() - start) / ops; // ms per op
}

/** Baseline: the obvious float64 port (no float32 rounding, sequential sums). */
function naiveProcess(weights: number[], limit: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum).map((w) => Math.min(w, limit));
}

const row = (cells: string[]): string => `${cells.map((c, i) => (i === 0 ? c.padEnd(34) : c.padStart(12))).join(' ')}\n`;

export async function run(): Promise<void> {
  const rnd = lcg(7);
  process.stdout.write(row(['case', 'ours µs', 'baseline µs', 'ratio']));
  for (const n of [256, 4096]) {
    const uids = Array.from({ length: n }, (_, i) => i);
    const w = uids.map(() => rnd() ** 4);
    const params = { minAllowedWeights: 8, maxWeightsLimit: 6553, n };
    const ours = timeOps(() => {
      const p = processWeightsForNetuid(uids, w, params);
      convertWeightsAndUidsForEmit(p.uids, p.weights);
    });
    const base = timeOps(() => convertWeightsAndUidsForEmit(uids, naiveProcess(w, 0.1)));
    process.stdout.write(row([`process+emit n=${n}`, (ours * 1e3).toFixed(1), (base * 1e3).toFixed(1), (ours / base).toFixed(2)]));
  }

  const registry = new TypeRegistry();
  const pk = new Uint8Array(32).fill(7);
  const uids = Array.from({ length: 256 }, (_, i) => i);
  const values = uids.map((i) => (i * 257) % 65536);
  const salt = [1, 2, 3, 4, 5, 6, 7, 8];
  const ours = timeOps(() => commitHashV2({ hotkey: pk, netuidIndex: 1, uids, values, salt, versionKey: 5n }));
  const base = timeOps(() =>
    blake2AsHex(registry.createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [pk, 1, uids, values, salt, 5n]).toU8a(), 256),
  );
  process.stdout.write(row(['commitHashV2 256 weights', (ours * 1e3).toFixed(1), (base * 1e3).toFixed(1), (ours / base).toFixed(2)]));

  const state = {
    n: 256, minAllowedWeights: 8, maxWeightsLimit: 6553, weightsVersionKey: 0n, weightsSetRateLimit: 100,
    commitRevealEnabled: false, hasValidatorPermit: true,
  };
  const v = timeOps(() => validateSetWeights({ uids, values, versionKey: 0n, hotkeyUid: 0, currentBlock: 500, lastUpdate: 0 }, state));
  process.stdout.write(row(['validateSetWeights n=256', (v * 1e3).toFixed(1), '-', '-']));

  // Fidelity: emitted u16 vectors that differ between float32 (SDK) and float64 normalisation.
  let differ = 0;
  const trials = 500;
  for (let t = 0; t < trials; t++) {
    const x = Array.from({ length: 64 }, () => rnd() ** 6);
    const idx = x.map((_, i) => i);
    const a = convertWeightsAndUidsForEmit(idx, normalizeMaxWeight(x, 0.05, { dtype: 'float32' }));
    const b = convertWeightsAndUidsForEmit(idx, normalizeMaxWeight(x, 0.05, { dtype: 'float64' }));
    if (JSON.stringify(a) !== JSON.stringify(b)) differ++;
  }
  process.stdout.write(`float64 port emits different u16 values in ${differ}/${trials} random 64-weight vectors (limit 0.05)\n`);
}
