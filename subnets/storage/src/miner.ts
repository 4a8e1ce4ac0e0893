import type { MinerSide } from '../../../framework/commodity/index.ts';
import { buildTree, chunkAt, chunkCount } from './merkle.ts';
import type { StorageQuery, StorageResponse } from './protocol.ts';
import type { ShardStore } from './shard-store.ts';

/** Answer a challenge from shard bytes: the chunks at the asked indices and their Merkle paths. */
export function proveChunks(shard: Uint8Array, chunkSize: number, indices: readonly number[]): StorageResponse {
  const n = chunkCount(shard.length, chunkSize);
  if (indices.some((i) => i >= n)) return { error: `index out of range (shard has ${n} chunks)` };
  const tree = buildTree(shard, chunkSize);
  return {
    chunks: indices.map((i) => Buffer.from(chunkAt(shard, i, chunkSize)).toString('base64')),
    proofs: indices.map((i) => tree.proof(i).map((h) => h.toString('hex'))),
  };
}

/** The honest miner: keep every shard it acknowledges, prove and return it on request. */
export function honestMiner(store: ShardStore): MinerSide<StorageQuery, StorageResponse> {
  return {
    async handle(q) {
      switch (q.op) {
        case 'store': {
          if (q.data === undefined) return { stored: false, error: 'store needs data' };
          const r = await store.put(q.shardId, Buffer.from(q.data, 'base64'));
          return r.ok ? { stored: true } : { stored: false, error: `${r.reason}: ${r.message}` };
        }
        case 'challenge': {
          if (q.chunkSize === undefined || q.indices === undefined) return { error: 'challenge needs chunkSize and indices' };
          const shard = await store.get(q.shardId);
          if (!shard) return { error: 'shard not held' };
          return proveChunks(shard, q.chunkSize, q.indices);
        }
        case 'retrieve': {
          const shard = await store.get(q.shardId);
          return shard ? { shard: shard.toString('base64') } : { error: 'shard not held' };
        }
        case 'delete':
          return { stored: !(await store.delete(q.shardId)) };
      }
    },
  };
}
