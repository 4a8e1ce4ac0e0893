import { hash } from 'node:crypto';

/**
 * Merkle tree over fixed-size chunks of a shard, SHA-256, arity 4 (a lone node in its group of four is
 * promoted). The validator computes the root of exactly the bytes a miner stores and keeps it; a
 * challenge answer carries the chunk BYTES plus the sibling path, and is checked against that held root
 * — never against anything the miner supplies.
 *
 * Leaves are SHA-256(chunk), nodes SHA-256(0x01 ‖ child₀ ‖ … ‖ child₃ present). Leaves carry no prefix
 * because the verifier fixes the tree's shape: it knows the shard size, so the chunk's exact length, the
 * width of every level and so the exact siblings on the path; a node's preimage cannot stand in for a
 * chunk at another depth. Arity 4 and no prefix both cut native hash() calls, which at 4–16 KiB chunks
 * cost as much as the hashing (bench: `npm run bench -- storage`); a path has ≤ 3 siblings per level.
 */
export const DEFAULT_CHUNK_SIZE = 16 * 1024;
const H = 32;

// node:crypto's one-shot hash() (Node ≥ 20.12) avoids a Hash object per call.
const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer') as unknown as Buffer;

export function leafHash(chunk: Uint8Array): Buffer {
  return sha256(chunk);
}

const ARITY = 4;
const scratch = Buffer.alloc(1 + ARITY * H, 1); // 0x01 ‖ children, reused: no allocation per node

/** The node over `children` (2…4 hashes, in order). */
export function nodeHash(...children: Uint8Array[]): Buffer {
  let o = 1;
  for (const c of children) {
    scratch.set(c, o);
    o += H;
  }
  return sha256(scratch.subarray(0, o));
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

export function chunkAt(data: Uint8Array, index: number, chunkSize: number): Uint8Array {
  return data.subarray(index * chunkSize, Math.min(data.length, (index + 1) * chunkSize));
}

/** A built tree: each level is one contiguous buffer of 32-byte hashes, leaves first. */
export class MerkleTree {
  constructor(readonly levels: readonly Buffer[]) {}
  get root(): Buffer {
    return this.levels[this.levels.length - 1].subarray(0, H);
  }
  leaf(index: number): Buffer {
    return this.levels[0].subarray(index * H, (index + 1) * H);
  }
  /** Sibling hashes from the leaf up, in order within each group; a promoted node has none at that level. */
  proof(index: number): Buffer[] {
    const path: Buffer[] = [];
    let i = index;
    for (let l = 0; l < this.levels.length - 1; l++) {
      const width = this.levels[l].length / H;
      const first = i - (i % ARITY);
      const last = Math.min(width, first + ARITY) - 1;
      if (last > first) for (let j = first; j <= last; j++) if (j !== i) path.push(this.levels[l].subarray(j * H, (j + 1) * H));
      i = Math.floor(i / ARITY);
    }
    return path;
  }
}

export function buildTree(data: Uint8Array, chunkSize = DEFAULT_CHUNK_SIZE): MerkleTree {
  const n = chunkCount(data.length, chunkSize);
  let width = n;
  let level = Buffer.allocUnsafe(n * H);
  for (let i = 0; i < n; i++) level.set(sha256(chunkAt(data, i, chunkSize)), i * H);
  const levels = [level];
  while (width > 1) {
    const nextWidth = Math.ceil(width / ARITY);
    const next = Buffer.allocUnsafe(nextWidth * H);
    for (let g = 0; g < nextWidth; g++) {
      const first = g * ARITY;
      const count = Math.min(ARITY, width - first);
      if (count === 1) {
        level.copy(next, g * H, first * H, (first + 1) * H);
        continue;
      }
      level.copy(scratch, 1, first * H, (first + count) * H);
      next.set(sha256(scratch.subarray(0, 1 + count * H)), g * H);
    }
    levels.push(next);
    level = next;
    width = nextWidth;
  }
  return new MerkleTree(levels);
}

export function merkleRoot(data: Uint8Array, chunkSize = DEFAULT_CHUNK_SIZE): Buffer {
  return Buffer.from(buildTree(data, chunkSize).root);
}

/**
 * Does `chunk` sit at `index` of a shard of `size` bytes whose root is `root`? The chunk must have
 * exactly the expected length, and the path exactly the expected number of siblings.
 */
export function verifyChunk(root: Uint8Array, size: number, chunkSize: number, index: number, chunk: Uint8Array, path: readonly Uint8Array[]): boolean {
  const n = chunkCount(size, chunkSize);
  if (!Number.isInteger(index) || index < 0 || index >= n) return false;
  const expectedLen = index === n - 1 ? size - index * chunkSize : chunkSize;
  if (chunk.length !== Math.max(0, expectedLen)) return false;
  let h: Buffer = leafHash(chunk);
  let i = index;
  let width = n;
  let p = 0;
  while (width > 1) {
    const first = i - (i % ARITY);
    const last = Math.min(width, first + ARITY) - 1;
    if (last > first) {
      const group: Uint8Array[] = [];
      for (let j = first; j <= last; j++) {
        if (j === i) group.push(h);
        else {
          const s = path[p++];
          if (!s || s.length !== H) return false;
          group.push(s);
        }
      }
      h = nodeHash(...group);
    }
    i = Math.floor(i / ARITY);
    width = Math.ceil(width / ARITY);
  }
  return p === path.length && h.equals(root);
}

/** Plain SHA-256 of the data in one call: the baseline of the Merkle benchmark. */
export function rawSha256(data: Uint8Array): Buffer {
  return sha256(data);
}
