import { createHash, randomBytes } from 'node:crypto';
import { dropper } from './adversaries.ts';
import { chunkCount, merkleRoot, verifyChunk } from './merkle.ts';
import { challengeIndices } from './prf.ts';
import type { StorageResponse } from './protocol.ts';

/**
 * Measured probability of catching a miner that dropped a fraction f of a shard's chunks in one
 * challenge round of c PRF-drawn indices, vs the PDP formula 1 − (1 − f)^c. Uses the real dropper
 * handler, the real PRF (fresh block hash per round) and the real verifier against the held root.
 */
export interface CatchCell {
  f: number;
  c: number;
  rounds: number;
  caught: number;
  measured: number;
  expected: number;
  /** |measured − expected| in binomial standard deviations. */
  sigmas: number;
}

export async function measureCatchRate(f: number, c: number, rounds: number, chunkSize = 1024, chunks = 200): Promise<CatchCell> {
  const shard = randomBytes(chunkSize * chunks);
  const shardId = createHash('sha256').update(shard).digest('hex');
  const root = merkleRoot(shard, chunkSize);
  const miner = dropper(f, chunkSize);
  const ctx = {} as Parameters<typeof miner.handle>[1];
  await miner.handle({ op: 'store', shardId, data: shard.toString('base64') }, ctx);
  const secret = randomBytes(32);
  const n = chunkCount(shard.length, chunkSize);
  let caught = 0;
  for (let r = 0; r < rounds; r++) {
    const indices = challengeIndices(secret, `0x${r.toString(16)}`, shardId, n, c);
    const ans = (await miner.handle({ op: 'challenge', shardId, chunkSize, indices }, ctx)) as StorageResponse;
    const pass = indices.every((idx, j) => verifyChunk(root, shard.length, chunkSize, idx, Buffer.from(ans.chunks![j], 'base64'), ans.proofs![j].map((h) => Buffer.from(h, 'hex'))));
    if (!pass) caught++;
  }
  // the dropper drops round(f · n) chunks: the exact fraction is what the formula sees
  const fe = Math.round(f * n) / n;
  const expected = 1 - (1 - fe) ** c;
  const measured = caught / rounds;
  const sd = Math.sqrt((expected * (1 - expected)) / rounds);
  return { f, c, rounds, caught, measured, expected, sigmas: sd > 0 ? Math.abs(measured - expected) / sd : measured === expected ? 0 : Infinity };
}

export async function catchRateTable(fs: number[], cs: number[], rounds: number): Promise<CatchCell[]> {
  const out: CatchCell[] = [];
  for (const f of fs) for (const c of cs) out.push(await measureCatchRate(f, c, rounds));
  return out;
}

export function formatCatchTable(cells: CatchCell[]): string {
  return [
    `${'f'.padStart(5)} ${'c'.padStart(3)} ${'rounds'.padStart(7)} ${'measured'.padStart(9)} ${'1-(1-f)^c'.padStart(10)} ${'σ off'.padStart(6)}`,
    ...cells.map((x) => `${x.f.toFixed(2).padStart(5)} ${String(x.c).padStart(3)} ${String(x.rounds).padStart(7)} ${x.measured.toFixed(4).padStart(9)} ${x.expected.toFixed(4).padStart(10)} ${x.sigmas.toFixed(2).padStart(6)}`),
  ].join('\n');
}
