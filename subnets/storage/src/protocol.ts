import { z } from 'zod';
import { defineSynapse } from '../../../framework/protocol/synapse.ts';

/**
 * The storage wire: one synapse, four operations. Sizes are bounded here, so the axon rejects an
 * oversized or malformed request before any hashing or disk work.
 */
export const MAX_SHARD_BYTES = 4 * 1024 * 1024;
export const MAX_CHALLENGE_INDICES = 64;
const b64Max = (bytes: number) => Math.ceil(bytes / 3) * 4;
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

export const storageQuery = z.object({
  op: z.enum(['store', 'challenge', 'retrieve', 'delete']),
  shardId: hex32,
  /** store: the sealed shard, base64. */
  data: z.string().max(b64Max(MAX_SHARD_BYTES)).optional(),
  /** challenge: Merkle chunk size and the PRF-drawn chunk indices. */
  chunkSize: z.number().int().min(64).max(MAX_SHARD_BYTES).optional(),
  indices: z.array(z.number().int().nonnegative()).max(MAX_CHALLENGE_INDICES).optional(),
});
export type StorageQuery = z.infer<typeof storageQuery>;

export const storageResponse = z.object({
  stored: z.boolean().optional(),
  error: z.string().max(300).optional(),
  /** challenge: the chunk bytes (base64), one per index, and each chunk's sibling path (hex). */
  chunks: z.array(z.string().max(b64Max(MAX_SHARD_BYTES))).max(MAX_CHALLENGE_INDICES).optional(),
  proofs: z.array(z.array(hex32).max(40)).max(MAX_CHALLENGE_INDICES).optional(),
  /** retrieve: the whole sealed shard, base64. */
  shard: z.string().max(b64Max(MAX_SHARD_BYTES)).optional(),
});
export type StorageResponse = z.infer<typeof storageResponse>;

/** The synapse the gateway's own dendrite uses; the commodity defines the same name and schemas. */
export const SYNAPSE_NAME = 'StorageSynapse';
/** Signed body hash over op and shardId; the shard bytes are bound by shardId = sha256(bytes). */
export const HASH_FIELDS = ['op', 'shardId'] as const;
export const storageSynapse = defineSynapse({ name: SYNAPSE_NAME, request: storageQuery, response: storageResponse, requiredHashFields: HASH_FIELDS });
