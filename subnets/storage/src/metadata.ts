import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The validator/gateway's metadata in SQLite (better-sqlite3 12.x, WAL). It holds what nobody else may
 * be trusted with: each object's sealing key, and for every shard the holder, the SHA-256 and Merkle
 * root of exactly the bytes that holder stores, and its challenge schedule. Shards get INTEGER keys and
 * partial indexes on what the loops scan (due challenges, a miner's holdings, an object's shards), so
 * millions of rows cost index lookups, never scans.
 */
export type ShardState = 'live' | 'lost';
export type ObjectKind = 'user' | 'probe';

export interface ObjectRow {
  id: string;
  name: string;
  size: number;
  k: number;
  m: number;
  chunkSize: number;
  key: Buffer;
  sha256: Buffer;
  kind: ObjectKind;
  createdAt: number;
}

export interface ShardRow {
  id: number;
  objectId: string;
  idx: number;
  hotkey: string;
  shardHash: Buffer;
  root: Buffer;
  size: number;
  state: ShardState;
  storedBlock: number;
  nextChallengeBlock: number;
  fails: number;
  lastOkBlock: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  k INTEGER NOT NULL,
  m INTEGER NOT NULL,
  chunk_size INTEGER NOT NULL,
  key BLOB NOT NULL,
  sha256 BLOB NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'probe')),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_kind ON objects(kind, created_at);
CREATE TABLE IF NOT EXISTS shards (
  id INTEGER PRIMARY KEY,
  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  hotkey TEXT NOT NULL,
  shard_hash BLOB NOT NULL,
  root BLOB NOT NULL,
  size INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('live', 'lost')),
  stored_block INTEGER NOT NULL,
  next_challenge_block INTEGER NOT NULL,
  fails INTEGER NOT NULL DEFAULT 0,
  last_ok_block INTEGER
);
CREATE INDEX IF NOT EXISTS shards_object ON shards(object_id, idx);
CREATE INDEX IF NOT EXISTS shards_holder ON shards(hotkey, state, next_challenge_block);
CREATE INDEX IF NOT EXISTS shards_due ON shards(next_challenge_block) WHERE state = 'live';
CREATE INDEX IF NOT EXISTS shards_lost ON shards(object_id) WHERE state = 'lost';
-- per holder: shards it acknowledged and shards later declared lost (its integrity record)
CREATE TABLE IF NOT EXISTS holders (hotkey TEXT PRIMARY KEY, acked INTEGER NOT NULL DEFAULT 0, lost INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
`;

interface RawShard {
  id: number;
  object_id: string;
  idx: number;
  hotkey: string;
  shard_hash: Buffer;
  root: Buffer;
  size: number;
  state: ShardState;
  stored_block: number;
  next_challenge_block: number;
  fails: number;
  last_ok_block: number | null;
}
interface RawObject {
  id: string;
  name: string;
  size: number;
  k: number;
  m: number;
  chunk_size: number;
  key: Buffer;
  sha256: Buffer;
  kind: ObjectKind;
  created_at: number;
}

const shardOf = (r: RawShard): ShardRow => ({
  id: r.id, objectId: r.object_id, idx: r.idx, hotkey: r.hotkey, shardHash: r.shard_hash, root: r.root, size: r.size, state: r.state,
  storedBlock: r.stored_block, nextChallengeBlock: r.next_challenge_block, fails: r.fails, lastOkBlock: r.last_ok_block,
});
const objectOf = (r: RawObject): ObjectRow => ({
  id: r.id, name: r.name, size: r.size, k: r.k, m: r.m, chunkSize: r.chunk_size, key: r.key, sha256: r.sha256, kind: r.kind, createdAt: r.created_at,
});

export type NewShard = Omit<ShardRow, 'id' | 'fails' | 'lastOkBlock'>;

export class MetadataDb {
  private readonly db: Database.Database;
  private readonly q;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    const d = this.db;
    this.q = {
      getMeta: d.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: d.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertObject: d.prepare('INSERT INTO objects (id, name, size, k, m, chunk_size, key, sha256, kind, created_at) VALUES (@id, @name, @size, @k, @m, @chunkSize, @key, @sha256, @kind, @createdAt)'),
      getObject: d.prepare<[string], RawObject>('SELECT * FROM objects WHERE id = ?'),
      listObjects: d.prepare<[ObjectKind, number], RawObject>('SELECT * FROM objects WHERE kind = ? ORDER BY created_at LIMIT ?'),
      deleteObject: d.prepare('DELETE FROM objects WHERE id = ?'),
      insertShard: d.prepare(
        'INSERT INTO shards (object_id, idx, hotkey, shard_hash, root, size, state, stored_block, next_challenge_block) VALUES (@objectId, @idx, @hotkey, @shardHash, @root, @size, @state, @storedBlock, @nextChallengeBlock)',
      ),
      acked: d.prepare('INSERT INTO holders (hotkey, acked) VALUES (?, 1) ON CONFLICT(hotkey) DO UPDATE SET acked = acked + 1'),
      lostOne: d.prepare('UPDATE holders SET lost = lost + 1 WHERE hotkey = ?'),
      holderRecords: d.prepare<[], { hotkey: string; acked: number; lost: number }>('SELECT hotkey, acked, lost FROM holders'),
      dropHolder: d.prepare('DELETE FROM holders WHERE hotkey = ?'),
      allHolders: d.prepare<[], { hotkey: string }>('SELECT hotkey FROM holders'),
      shardsOf: d.prepare<[string], RawShard>('SELECT * FROM shards WHERE object_id = ? ORDER BY idx'),
      getShard: d.prepare<[number], RawShard>('SELECT * FROM shards WHERE id = ?'),
      dueFor: d.prepare<[string, number, number], RawShard>("SELECT * FROM shards WHERE hotkey = ? AND state = 'live' AND next_challenge_block <= ? ORDER BY next_challenge_block LIMIT ?"),
      randomLiveOf: d.prepare<[string, number], RawShard>("SELECT * FROM shards WHERE hotkey = ? AND state = 'live' LIMIT 1 OFFSET ?"),
      countLiveOf: d.prepare<[string], { n: number }>("SELECT count(*) AS n FROM shards WHERE hotkey = ? AND state = 'live'"),
      passed: d.prepare('UPDATE shards SET fails = 0, last_ok_block = ?, next_challenge_block = ? WHERE id = ?'),
      failed: d.prepare("UPDATE shards SET fails = fails + 1, next_challenge_block = ?, state = CASE WHEN fails + 1 >= ? THEN 'lost' ELSE state END WHERE id = ?"),
      markLost: d.prepare("UPDATE shards SET state = 'lost' WHERE id = ?"),
      loseHolder: d.prepare("UPDATE shards SET state = 'lost' WHERE hotkey = ? AND state = 'live'"),
      holders: d.prepare<[], { hotkey: string }>("SELECT DISTINCT hotkey FROM shards WHERE state = 'live'"),
      dropLost: d.prepare("DELETE FROM shards WHERE object_id = @objectId AND state = 'lost' AND (@idx IS NULL OR idx = @idx)"),
      verifiedBytes: d.prepare<[], { hotkey: string; bytes: number }>(
        "SELECT hotkey, sum(size) AS bytes FROM shards WHERE state = 'live' AND last_ok_block IS NOT NULL GROUP BY hotkey",
      ),
      degraded: d.prepare<[number], { object_id: string }>(
        "SELECT s.object_id FROM shards s JOIN objects o ON o.id = s.object_id WHERE s.state = 'lost' GROUP BY s.object_id ORDER BY min(o.kind = 'probe'), min(o.created_at) LIMIT ?",
      ),
      stats: d.prepare<[], { objects: number; shards: number; live: number }>(
        "SELECT (SELECT count(*) FROM objects) AS objects, (SELECT count(*) FROM shards) AS shards, (SELECT count(*) FROM shards WHERE state = 'live') AS live",
      ),
    };
  }

  meta(key: string): Buffer | null {
    return this.q.getMeta.get(key)?.value ?? null;
  }
  setMeta(key: string, value: Uint8Array): void {
    this.q.setMeta.run(key, Buffer.from(value));
  }

  /** An object and its shard rows in one transaction: never an object without its commitments. */
  addObject(o: ObjectRow, shards: NewShard[]): void {
    this.db.transaction(() => {
      this.q.insertObject.run(o);
      for (const s of shards) this.insert(s);
    })();
  }
  addShard(s: NewShard): void {
    this.insert(s);
  }
  private insert(s: NewShard): void {
    this.q.insertShard.run(s);
    if (s.state === 'live') this.q.acked.run(s.hotkey);
  }
  /** Acknowledged and lost shard counts by holder. */
  holderRecords(): Map<string, { acked: number; lost: number }> {
    return new Map(this.q.holderRecords.all().map((r) => [r.hotkey, { acked: r.acked, lost: r.lost }]));
  }
  object(id: string): ObjectRow | null {
    const r = this.q.getObject.get(id);
    return r ? objectOf(r) : null;
  }
  objects(kind: ObjectKind, limit = 1_000_000): ObjectRow[] {
    return this.q.listObjects.all(kind, limit).map(objectOf);
  }
  deleteObject(id: string): void {
    this.q.deleteObject.run(id);
  }
  shards(objectId: string): ShardRow[] {
    return this.q.shardsOf.all(objectId).map(shardOf);
  }
  shard(id: number): ShardRow | null {
    const r = this.q.getShard.get(id);
    return r ? shardOf(r) : null;
  }
  /** The holder's most overdue live shard, if one is due at `block`. */
  dueShard(hotkey: string, block: number): ShardRow | null {
    return this.dueShards(hotkey, block, 1)[0] ?? null;
  }
  /** Up to `limit` of the holder's live shards due at `block`, most overdue first. */
  dueShards(hotkey: string, block: number, limit: number): ShardRow[] {
    return this.q.dueFor.all(hotkey, block, limit).map(shardOf);
  }
  /** A live shard of the holder picked by `pick(count)` (for retrieval checks). */
  someShard(hotkey: string, pick: (count: number) => number): ShardRow | null {
    const n = this.q.countLiveOf.get(hotkey)?.n ?? 0;
    if (n === 0) return null;
    const r = this.q.randomLiveOf.get(hotkey, pick(n));
    return r ? shardOf(r) : null;
  }
  liveCount(hotkey: string): number {
    return this.q.countLiveOf.get(hotkey)?.n ?? 0;
  }
  recordPass(shardId: number, block: number, nextBlock: number): void {
    this.q.passed.run(block, nextBlock, shardId);
  }
  /** A failed proof; after `maxFails` in a row the shard counts as lost and the repair loop replaces it. */
  recordFail(shardId: number, nextBlock: number, maxFails: number): ShardState | null {
    return this.db.transaction(() => {
      this.q.failed.run(nextBlock, maxFails, shardId);
      const s = this.shard(shardId);
      if (s?.state === 'lost') this.q.lostOne.run(s.hotkey);
      return s?.state ?? null;
    })();
  }
  markLost(shardId: number): void {
    this.q.markLost.run(shardId);
  }
  /** Every live shard of holders no longer registered is lost (their uid changed hands, or they left). */
  loseHoldersExcept(current: ReadonlySet<string>): number {
    let n = 0;
    this.db.transaction(() => {
      for (const { hotkey } of this.q.holders.all()) if (!current.has(hotkey)) n += this.q.loseHolder.run(hotkey).changes;
      // a departed hotkey's record goes too: whoever registers next starts clean
      for (const { hotkey } of this.q.allHolders.all()) if (!current.has(hotkey)) this.q.dropHolder.run(hotkey);
    })();
    return n;
  }
  /** Forget lost rows of an object (one shard index, or all) once replacements are committed. */
  dropLostShards(objectId: string, idx: number | null = null): void {
    this.q.dropLost.run({ objectId, idx });
  }
  /** Bytes of live shards that passed at least one challenge, by holder. */
  verifiedBytes(): Map<string, number> {
    return new Map(this.q.verifiedBytes.all().map((r) => [r.hotkey, r.bytes]));
  }
  /** Objects with at least one lost shard (failed holder, departed holder, or never placed), user objects first. */
  degradedObjects(limit: number): string[] {
    return this.q.degraded.all(limit).map((r) => r.object_id);
  }
  stats(): { objects: number; shards: number; live: number } {
    return this.q.stats.get()!;
  }
  /** For tests: how SQLite would run a statement. */
  explain(sql: string): string {
    return this.db.prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail).join('; ');
  }
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
  close(): void {
    this.db.close();
  }
}
