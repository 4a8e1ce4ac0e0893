import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Chain, Metagraph } from '../../../framework/chain/types.ts';
import { eligibleMiners, isServing } from '../../../framework/commodity/index.ts';
import { Dendrite } from '../../../framework/dendrite/index.ts';
import type { Keypair } from '../../../framework/wallet/index.ts';
import { decode, encode, type ErasureParams } from './erasure.ts';
import { merkleRoot } from './merkle.ts';
import type { MetadataDb, NewShard, ObjectKind, ObjectRow, ShardRow } from './metadata.ts';
import { placeShards } from './placement.ts';
import { storageSynapse, type StorageQuery } from './protocol.ts';
import { seal, sealKey, unseal } from './seal.ts';

/**
 * The validator as gateway: put (erasure-code, seal per holder, commit, place), get (any k verified
 * shards rebuild the object), rm, and the repair loop. Every commitment (shard hash, Merkle root, size)
 * is computed here from the bytes sent; nothing a miner says about its data is ever stored.
 */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(readonly code: 'too_large' | 'not_found' | 'no_miners' | 'unavailable' | 'corrupt', message: string) {
    super(message);
  }
}

export interface GatewayParams extends ErasureParams {
  chunkSize: number;
  maxObjectBytes: number;
  /** Bandwidth a miner is expected to serve at (bytes/s): transfer timeouts = latency + bytes / this. */
  expectedBandwidth: number;
  /** Round-trip allowance on top of the transfer time (ms). */
  baseLatencyMs: number;
  /** Mean blocks between two challenges of one shard. */
  challengeEveryBlocks: number;
}

const STORE_TIMEOUT_MS = 10_000;

export const DEFAULT_PARAMS: GatewayParams = {
  k: 4,
  m: 2,
  chunkSize: 16 * 1024,
  maxObjectBytes: 64 * 1024 * 1024,
  expectedBandwidth: 20 * 1024 * 1024,
  baseLatencyMs: 400,
  challengeEveryBlocks: 6,
};

export interface GatewayOptions {
  db: MetadataDb;
  chain: Chain;
  netuid: number;
  hotkey: Keypair;
  params?: Partial<GatewayParams>;
  log?: Logger;
}

export interface PutResult {
  id: string;
  size: number;
  placed: number;
}

export class Gateway {
  readonly params: GatewayParams;
  readonly db: MetadataDb;
  private readonly idle: Dendrite[] = [];
  private readonly all: Dendrite[] = [];
  private mg: Metagraph | null = null;
  private mgAt = 0;
  /** Reputation by hotkey (Beta mean), fed by the commodity; placement of user data prefers the best. */
  reputation = new Map<string, number>();
  private repairing = false;

  constructor(private readonly o: GatewayOptions) {
    this.params = { ...DEFAULT_PARAMS, ...o.params };
    this.db = o.db;
  }

  transferTimeoutMs(bytes: number): number {
    return Math.ceil(this.params.baseLatencyMs + (bytes * 1000) / this.params.expectedBandwidth);
  }

  /** The commodity hands over each round's metagraph, so placement and the round agree. */
  observe(mg: Metagraph): void {
    this.mg = mg;
    this.mgAt = Date.now();
  }

  async metagraph(): Promise<Metagraph> {
    if (!this.mg || Date.now() - this.mgAt > 2000) this.observe(await this.o.chain.getMetagraph(this.o.netuid));
    return this.mg!;
  }

  private async withDendrite<T>(fn: (d: Dendrite) => Promise<T>): Promise<T> {
    // one dendrite session per operation: axons want increasing nonces per session
    let d = this.idle.pop();
    if (!d) {
      d = new Dendrite({ keypair: this.o.hotkey });
      this.all.push(d);
    }
    try {
      return await fn(d);
    } finally {
      this.idle.push(d);
    }
  }

  private async call(mg: Metagraph, hotkey: string, q: StorageQuery, bytes: number) {
    const uid = mg.hotkeys.indexOf(hotkey);
    const axon = uid >= 0 ? mg.axons[uid] : null;
    if (!isServing(axon)) return null;
    // stores and deletes fsync on the miner and prove nothing: generous; reads are held to the bandwidth
    const timeoutMs = q.op === 'retrieve' ? this.transferTimeoutMs(bytes) : Math.max(STORE_TIMEOUT_MS, 4 * this.transferTimeoutMs(bytes));
    return this.withDendrite((d) => d.call({ ip: axon.ip, port: axon.port, hotkey }, storageSynapse, q, { timeoutMs }));
  }

  private async storeOn(mg: Metagraph, hotkey: string, sealed: Buffer, shardId: string): Promise<boolean> {
    const r = await this.call(mg, hotkey, { op: 'store', shardId, data: sealed.toString('base64') }, sealed.length);
    return r?.ok === true && r.response?.stored === true;
  }

  /** A shard's sealed bytes from its holder, accepted only if they hash to the held commitment. */
  async fetchShard(s: ShardRow): Promise<Buffer | null> {
    const mg = await this.metagraph();
    const r = await this.call(mg, s.hotkey, { op: 'retrieve', shardId: s.shardHash.toString('hex') }, s.size);
    if (!r?.ok || typeof r.response?.shard !== 'string') return null;
    const data = Buffer.from(r.response.shard, 'base64');
    return data.length === s.size && createHash('sha256').update(data).digest().equals(s.shardHash) ? data : null;
  }

  private candidates(mg: Metagraph, kind: ObjectKind): number[] {
    const uids = eligibleMiners(mg, { exclude: [this.o.hotkey.ss58Address] }).filter((u) => isServing(mg.axons[u]));
    // shuffle, then (user data) the most reputable first; probes go anywhere so newcomers get measured
    for (let i = uids.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [uids[i], uids[j]] = [uids[j], uids[i]];
    }
    if (kind === 'user') uids.sort((a, b) => (this.reputation.get(mg.hotkeys[b]) ?? 0.5) - (this.reputation.get(mg.hotkeys[a]) ?? 0.5));
    else uids.sort((a, b) => this.db.liveCount(mg.hotkeys[a]) - this.db.liveCount(mg.hotkeys[b]));
    return uids;
  }

  private nextChallenge(block: number): number {
    const e = this.params.challengeEveryBlocks;
    return block + 1 + randomInt(Math.max(1, e));
  }

  /**
   * Seal shard `idx` for holders taken from `queue` until one acknowledges it; returns the shard row
   * (commitments computed here) or null when every candidate refused.
   */
  private async placeOne(mg: Metagraph, obj: ObjectRow, idx: number, plain: Uint8Array, queue: number[], block: number): Promise<NewShard | null> {
    while (queue.length > 0) {
      const uid = queue.shift()!;
      const hotkey = mg.hotkeys[uid];
      const sealed = seal(plain, sealKey(obj.key, hotkey, idx));
      const shardHash = createHash('sha256').update(sealed).digest();
      if (await this.storeOn(mg, hotkey, sealed, shardHash.toString('hex'))) {
        return { objectId: obj.id, idx, hotkey, shardHash, root: merkleRoot(sealed, obj.chunkSize), size: sealed.length, state: 'live', storedBlock: block, nextChallengeBlock: this.nextChallenge(block) };
      }
    }
    return null;
  }

  async put(data: Uint8Array, name: string, kind: ObjectKind = 'user'): Promise<PutResult> {
    const p = this.params;
    if (data.length > p.maxObjectBytes) throw new GatewayError('too_large', `object of ${data.length} bytes exceeds the ${p.maxObjectBytes}-byte limit`);
    const mg = await this.metagraph();
    const block = (await this.o.chain.getBlock()).number;
    const n = p.k + p.m;
    const all = this.candidates(mg, kind);
    const chosen = placeShards(mg, all, n, { hotkeys: new Set(), coldkeys: new Set(), ips: new Set() });
    if (chosen.length < p.k) throw new GatewayError('no_miners', `only ${chosen.length} serving miners; ${p.k} are needed`);
    const spares = all.filter((u) => !chosen.includes(u));
    const obj: ObjectRow = {
      id: randomBytes(16).toString('hex'), name, size: data.length, k: p.k, m: p.m, chunkSize: p.chunkSize,
      key: randomBytes(32), sha256: createHash('sha256').update(data).digest(), kind, createdAt: Date.now(),
    };
    const shards = encode(data, p);
    const rows = await Promise.all(shards.map((s, idx) => this.placeOne(mg, obj, idx, s, idx < chosen.length ? [chosen[idx]] : [], block)));
    // refused shards get a second chance on spare miners, one after another (spares are shared)
    for (let idx = 0; idx < n; idx++) if (!rows[idx]) rows[idx] = await this.placeOne(mg, obj, idx, shards[idx], spares, block);
    const placed = rows.filter((r): r is NewShard => r !== null);
    if (placed.length < p.k) {
      await Promise.all(placed.map((r) => this.call(mg, r.hotkey, { op: 'delete', shardId: r.shardHash.toString('hex') }, 0).catch(() => null)));
      throw new GatewayError('unavailable', `only ${placed.length} of ${n} shards were accepted by miners; ${p.k} are needed`);
    }
    // a shard nobody took is recorded as lost: the repair loop places it later
    const lost = rows.flatMap((r, idx): NewShard[] => (r ? [] : [{ objectId: obj.id, idx, hotkey: '', shardHash: Buffer.alloc(32), root: Buffer.alloc(32), size: 0, state: 'lost', storedBlock: block, nextChallengeBlock: block }]));
    this.db.addObject(obj, [...placed, ...lost]);
    return { id: obj.id, size: data.length, placed: placed.length };
  }

  /** Collect any k verified shards (data shards first); a shard that fails verification is marked lost. */
  private async collect(obj: ObjectRow): Promise<Array<Buffer | null>> {
    const n = obj.k + obj.m;
    const live = this.db.shards(obj.id).filter((s) => s.state === 'live');
    const slots: Array<Buffer | null> = new Array(n).fill(null);
    let have = 0;
    let next = 0;
    while (have < obj.k && next < live.length) {
      const wave = live.slice(next, next + (obj.k - have));
      next += wave.length;
      const got = await Promise.all(wave.map((s) => this.fetchShard(s)));
      wave.forEach((s, i) => {
        const b = got[i];
        if (b && slots[s.idx] === null) {
          slots[s.idx] = unseal(b, sealKey(obj.key, s.hotkey, s.idx));
          have++;
        } else if (!b) this.db.markLost(s.id);
      });
    }
    if (have < obj.k) throw new GatewayError('unavailable', `object ${obj.id}: only ${have} of the ${obj.k} shards needed could be retrieved`);
    return slots;
  }

  async get(id: string): Promise<Buffer> {
    const obj = this.db.object(id);
    if (!obj || obj.kind !== 'user') throw new GatewayError('not_found', `no object ${id}`);
    const data = Buffer.from(decode(await this.collect(obj), obj, obj.size));
    if (!createHash('sha256').update(data).digest().equals(obj.sha256)) throw new GatewayError('corrupt', `object ${id} failed its checksum after decoding`);
    return data;
  }

  list(kind: ObjectKind = 'user'): ObjectRow[] {
    return this.db.objects(kind);
  }

  async remove(id: string, kind: ObjectKind = 'user'): Promise<void> {
    const obj = this.db.object(id);
    if (!obj || obj.kind !== kind) throw new GatewayError('not_found', `no object ${id}`);
    const shards = this.db.shards(id);
    this.db.deleteObject(id); // first: a crash after this leaves garbage on miners, never a dangling object
    const mg = await this.metagraph();
    await Promise.all(shards.filter((s) => s.state === 'live').map((s) => this.call(mg, s.hotkey, { op: 'delete', shardId: s.shardHash.toString('hex') }, 0).catch(() => null)));
  }

  /**
   * Re-create lost shards of up to `limit` objects: rebuild from any k verified shards, re-seal each
   * missing shard for a new holder (not an existing holder, other coldkeys first) and commit it.
   */
  async repair(limit: number): Promise<{ repaired: number; failed: number }> {
    // concurrent rounds must not rebuild the same object twice (two live shards for one index)
    if (this.repairing) return { repaired: 0, failed: 0 };
    this.repairing = true;
    try {
      return await this.repairSome(limit);
    } finally {
      this.repairing = false;
    }
  }

  private async repairSome(limit: number): Promise<{ repaired: number; failed: number }> {
    let repaired = 0;
    let failed = 0;
    for (const id of this.db.degradedObjects(limit)) {
      const obj = this.db.object(id);
      if (!obj) continue;
      if (obj.kind === 'probe') {
        // probes only measure miners: a lost probe shard is forgotten, not rebuilt
        this.db.dropLostShards(id);
        continue;
      }
      try {
        const slots = await this.collect(obj);
        const shards = encode(decode(slots, obj, obj.size), obj);
        const mg = await this.metagraph();
        const block = (await this.o.chain.getBlock()).number;
        const rows = this.db.shards(id);
        const liveRows = rows.filter((s) => s.state === 'live');
        const missing = [...new Set(rows.filter((s) => s.state === 'lost').map((s) => s.idx))].filter((idx) => !liveRows.some((s) => s.idx === idx));
        const taken = {
          hotkeys: new Set(rows.map((s) => s.hotkey)), // never back to a holder that lost it
          coldkeys: new Set(liveRows.map((s) => mg.coldkeys[mg.hotkeys.indexOf(s.hotkey)] ?? '')),
          ips: new Set(liveRows.map((s) => mg.axons[mg.hotkeys.indexOf(s.hotkey)]?.ip ?? '')),
        };
        const queue = placeShards(mg, this.candidates(mg, obj.kind), missing.length + 4, taken);
        for (const idx of missing) {
          const row = await this.placeOne(mg, obj, idx, shards[idx], queue, block);
          if (!row) {
            failed++;
            continue;
          }
          this.db.transaction(() => {
            this.db.addShard(row);
            this.db.dropLostShards(id, idx);
          });
          repaired++;
        }
        if (missing.length === 0) this.db.dropLostShards(id);
      } catch (e) {
        failed++;
        this.o.log?.warn({ object: id, err: (e as Error).message }, 'repair failed; retrying later');
      }
    }
    return { repaired, failed };
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((d) => d.close().catch(() => {})));
  }
}
