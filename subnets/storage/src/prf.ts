import { createHmac } from 'node:crypto';

/**
 * Challenge chunk indices: HMAC-SHA256 keyed by a validator secret over the block hash and the shard's
 * id, in counter mode, reduced to [0, nChunks) by rejection sampling (no modulo bias). Indices are
 * drawn independently (with replacement), so a miner missing a fraction f of the chunks survives one
 * challenge of c indices with probability exactly (1 − f)^c. Miners cannot predict them (no secret),
 * and they change with every block, so an old proof does not answer a new challenge.
 */
export function challengeIndices(secret: Uint8Array, blockHash: string, shardId: string, nChunks: number, c: number): number[] {
  if (!Number.isInteger(nChunks) || nChunks < 1) throw new Error(`nChunks must be ≥ 1, got ${nChunks}`);
  const out: number[] = [];
  const limit = Math.floor(0x1_0000_0000 / nChunks) * nChunks;
  for (let counter = 0; out.length < c; counter++) {
    const block = createHmac('sha256', secret).update(`storage-challenge/1\0${blockHash}\0${shardId}\0${counter}`).digest();
    for (let o = 0; o + 4 <= block.length && out.length < c; o += 4) {
      const x = block.readUInt32BE(o);
      if (x < limit) out.push(x % nChunks);
    }
  }
  return out;
}
