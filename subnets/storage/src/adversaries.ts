import { createHash, randomInt } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MinerSide } from '../../../framework/commodity/index.ts';
import { buildTree, chunkAt, chunkCount, type MerkleTree } from './merkle.ts';
import { proveChunks } from './miner.ts';
import type { StorageQuery, StorageResponse } from './protocol.ts';

/**
 * The cheapest cheating strategies against a storage subnet, as real miner handlers (used by the
 * adversarial test and the demo). Each one acknowledges every store, so only the proofs can tell.
 */
type Side = MinerSide<StorageQuery, StorageResponse>;
const bytesOf = (q: StorageQuery) => Buffer.from(q.data ?? '', 'base64');
const NOT_HELD: StorageResponse = { error: 'shard not held' };

/**
 * Keeps the Merkle tree (so every path is right) but only a fraction 1 − f of the chunk bytes; dropped
 * chunks are answered with zeros. Passes a challenge of c indices with probability (1 − f)^c.
 */
export function dropper(f: number, chunkSize: number): Side {
  const kept = new Map<string, { tree: MerkleTree; chunks: Map<number, Buffer>; size: number }>();
  return {
    handle(q) {
      if (q.op === 'store') {
        const data = bytesOf(q);
        const n = chunkCount(data.length, chunkSize);
        const drop = new Set<number>();
        const target = Math.round(f * n);
        while (drop.size < target) drop.add(randomInt(n));
        const chunks = new Map<number, Buffer>();
        for (let i = 0; i < n; i++) if (!drop.has(i)) chunks.set(i, Buffer.from(chunkAt(data, i, chunkSize)));
        kept.set(q.shardId, { tree: buildTree(data, chunkSize), chunks, size: data.length });
        return { stored: true };
      }
      const s = kept.get(q.shardId);
      if (!s) return NOT_HELD;
      if (q.op === 'challenge') {
        const indices = q.indices ?? [];
        return {
          chunks: indices.map((i) => (s.chunks.get(i) ?? Buffer.alloc(Math.min(chunkSize, s.size - i * chunkSize))).toString('base64')),
          proofs: indices.map((i) => s.tree.proof(i).map((h) => h.toString('hex'))),
        };
      }
      return q.op === 'retrieve' ? NOT_HELD : { stored: false };
    },
  };
}

/** Keeps only the Merkle tree (≈ 0.2 % of the data): answers with leaf hashes instead of chunk bytes, as SN75's documented proof would accept. */
export function hashOnly(chunkSize: number): Side {
  const trees = new Map<string, MerkleTree>();
  return {
    handle(q) {
      if (q.op === 'store') {
        trees.set(q.shardId, buildTree(bytesOf(q), chunkSize));
        return { stored: true };
      }
      const tree = trees.get(q.shardId);
      if (!tree || q.op !== 'challenge') return NOT_HELD;
      const indices = q.indices ?? [];
      return { chunks: indices.map((i) => tree.leaf(i).toString('base64')), proofs: indices.map((i) => tree.proof(i).map((h) => h.toString('hex'))) };
    },
  };
}

/** Never stores anything, acknowledges every store. */
export function ackOnly(): Side {
  return { handle: (q) => (q.op === 'store' ? { stored: true } : NOT_HELD) };
}

/**
 * Answers the first challenge of each shard honestly, remembers that answer and throws the shard away;
 * every later challenge gets the remembered (old) proof.
 */
export function replayer(): Side {
  const shards = new Map<string, Buffer>();
  const answers = new Map<string, StorageResponse>();
  return {
    handle(q) {
      if (q.op === 'store') {
        shards.set(q.shardId, bytesOf(q));
        return { stored: true };
      }
      if (q.op !== 'challenge') return NOT_HELD;
      const old = answers.get(q.shardId);
      if (old) return old;
      const s = shards.get(q.shardId);
      if (!s) return NOT_HELD;
      const fresh = proveChunks(s, q.chunkSize ?? 1, q.indices ?? []);
      answers.set(q.shardId, fresh);
      shards.delete(q.shardId);
      return fresh;
    },
  };
}

/**
 * Several hotkeys of one operator with one disk: of the shards its hotkeys are sent it keeps one in
 * `hotkeys` (picked at random, so no hotkey is the "real" one) and answers challenges for the others
 * from the last copy it kept, as it could if replicas were identical bytes.
 */
export class SybilOperator {
  private readonly kept = new Map<string, Buffer>();
  private readonly alias = new Map<string, string>();
  private last: string | null = null;
  constructor(readonly hotkeys: number) {}

  side(): Side {
    return {
      handle: (q) => {
        if (q.op === 'store') {
          if (this.last === null || randomInt(this.hotkeys) === 0) {
            this.kept.set(q.shardId, bytesOf(q));
            this.last = q.shardId;
          } else this.alias.set(q.shardId, this.last);
          return { stored: true };
        }
        const s = this.kept.get(q.shardId) ?? this.kept.get(this.alias.get(q.shardId) ?? '');
        if (!s) return NOT_HELD;
        if (q.op === 'challenge') return proveChunks(s, q.chunkSize ?? 1, q.indices ?? []);
        return q.op === 'retrieve' ? { shard: s.toString('base64') } : { stored: true };
      },
    };
  }
}

/** An accomplice's cold storage behind a slow link: a real HTTP server on 127.0.0.1 throttled to `bytesPerSecond`. */
export class ColdStorage {
  private readonly blobs = new Map<string, Buffer>();
  private server: Server | null = null;
  private port = 0;
  constructor(readonly bytesPerSecond: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const id = (req.url ?? '/').slice(1);
      if (req.method === 'PUT') {
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => {
          this.blobs.set(id, Buffer.concat(parts));
          res.end('ok');
        });
        return;
      }
      const blob = this.blobs.get(id);
      if (!blob) {
        res.statusCode = 404;
        res.end();
        return;
      }
      // 10 slices, paced to the link speed
      const slice = Math.ceil(blob.length / 10);
      const pause = (slice / this.bytesPerSecond) * 1000;
      let off = 0;
      const send = () => {
        if (off >= blob.length) return void res.end();
        res.write(blob.subarray(off, off + slice));
        off += slice;
        setTimeout(send, pause);
      };
      send();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private http(method: 'GET' | 'PUT', id: string, body?: Buffer): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: `/${id}`, method }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(parts) : null));
        res.on('error', () => resolve(null));
      });
      req.on('error', () => resolve(null));
      req.end(body);
    });
  }
  put(id: string, data: Buffer): Promise<Buffer | null> {
    return this.http('PUT', id, data);
  }
  get(id: string): Promise<Buffer | null> {
    return this.http('GET', id);
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Keeps nothing locally: pushes each shard to cold storage and fetches it back when challenged. */
export function fetcher(cold: ColdStorage): Side {
  return {
    async handle(q) {
      if (q.op === 'store') {
        const data = bytesOf(q);
        if (createHash('sha256').update(data).digest('hex') !== q.shardId) return { stored: false };
        await cold.put(q.shardId, data);
        return { stored: true };
      }
      const s = await cold.get(q.shardId);
      if (!s) return NOT_HELD;
      if (q.op === 'challenge') return proveChunks(s, q.chunkSize ?? 1, q.indices ?? []);
      return q.op === 'retrieve' ? { shard: s.toString('base64') } : { stored: true };
    },
  };
}
