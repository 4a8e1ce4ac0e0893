import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MetadataDb } from '../src/metadata.ts';

// A validator holding millions of shards must stay responsive: the loops touch a holder's due shards,
// an object's shards and the degraded list, all by index. The rows are generated inside SQLite in one
// transaction (a recursive CTE). Default 250 000 rows (seconds); STORAGE_METADATA_ROWS=1000000 (or more) for the
// million-row run (≈ 25 s on the loaded 2-core VM).
const ROWS = Number(process.env.STORAGE_METADATA_ROWS ?? 250_000);
const HOLDERS = 256;
const PER_OBJECT = 10;
const dir = mkdtempSync(join(tmpdir(), 'storage-metadata-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fill(path: string): number {
  const t0 = performance.now();
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('cache_size = -262144'); // the generator only: 256 MiB of page cache keeps the index inserts in memory
  raw.transaction(() => {
    raw.prepare(
      `WITH RECURSIVE o(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM o WHERE i + 1 < ?)
       INSERT INTO objects (id, name, size, k, m, chunk_size, key, sha256, kind, created_at)
       SELECT printf('o%08d', i), printf('obj-%d', i), 4096, 8, 2, 4096, zeroblob(32), zeroblob(32), 'user', i FROM o`,
    ).run(ROWS / PER_OBJECT);
    raw.prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
       INSERT INTO shards (object_id, idx, hotkey, shard_hash, root, size, state, stored_block, next_challenge_block, last_ok_block)
       SELECT printf('o%08d', i / ${PER_OBJECT}), i % ${PER_OBJECT}, printf('hk%03d', i % ${HOLDERS}), randomblob(32), randomblob(32), 512,
              CASE WHEN i % 997 = 0 THEN 'lost' ELSE 'live' END, 0, i % 5000, CASE WHEN i % 3 = 0 THEN NULL ELSE 1 END FROM s`,
    ).run(ROWS);
  })();
  raw.close();
  return performance.now() - t0;
}

describe(`metadata at ${ROWS.toLocaleString('en')} shard rows`, () => {
  it('the schema holds them and the validator loops stay index lookups', () => {
    const path = join(dir, 'meta.db');
    new MetadataDb(path).close(); // creates the schema and indexes, as a validator would
    const fillMs = fill(path);
    const db = new MetadataDb(path);
    try {
      expect(db.stats()).toEqual({ objects: ROWS / PER_OBJECT, shards: ROWS, live: ROWS - Math.ceil(ROWS / 997) });

      // what the per-round loops run, timed over many calls
      const time = (n: number, fn: (i: number) => void) => {
        const t = performance.now();
        for (let i = 0; i < n; i++) fn(i);
        return (performance.now() - t) / n;
      };
      const due = time(2000, (i) => expect(db.dueShards(`hk${String(i % HOLDERS).padStart(3, '0')}`, 2500, 2).length).toBe(2));
      const ofObject = time(2000, (i) => expect(db.shards(`o${String((i * 7919) % (ROWS / PER_OBJECT)).padStart(8, '0')}`).length).toBe(PER_OBJECT));
      const count = time(200, (i) => db.liveCount(`hk${String(i % HOLDERS).padStart(3, '0')}`));
      const degraded = time(200, () => expect(db.degradedObjects(5).length).toBe(5));
      // a new object among a million: insert stays a B-tree insert
      const insert = time(200, (i) =>
        db.addObject(
          { id: `new${i}`, name: 'n', size: 1, k: 8, m: 2, chunkSize: 4096, key: Buffer.alloc(32), sha256: Buffer.alloc(32), kind: 'user', createdAt: ROWS + i },
          Array.from({ length: PER_OBJECT }, (_, idx) => ({ objectId: `new${i}`, idx, hotkey: 'hk000', shardHash: Buffer.alloc(32, idx), root: Buffer.alloc(32), size: 1, state: 'live' as const, storedBlock: 0, nextChallengeBlock: 0 })),
        ),
      );
      console.log(
        `metadata, ${ROWS} shards: generated in ${(fillMs / 1000).toFixed(1)} s · due lookup ${(due * 1000).toFixed(0)} µs · object's shards ${(ofObject * 1000).toFixed(0)} µs · ` +
          `live count per holder ${(count * 1000).toFixed(0)} µs · degraded list ${(degraded * 1000).toFixed(0)} µs · object insert (10 shards, fsync'd) ${(insert * 1000).toFixed(0)} µs`,
      );
      // Plans, not timings, are the assertion that matters (no full scans); the time bounds are only
      // there to catch a regression to a scan, with wide margin for a loaded CI machine.
      expect(db.explain("SELECT * FROM shards WHERE hotkey = 'x' AND state = 'live' AND next_challenge_block <= 5 ORDER BY next_challenge_block LIMIT 2")).toMatch(/USING INDEX shards_holder/);
      expect(db.explain("SELECT count(*) FROM shards WHERE hotkey = 'x' AND state = 'live'")).toMatch(/USING COVERING INDEX shards_holder/);
      expect(due).toBeLessThan(20);
      expect(ofObject).toBeLessThan(20);
      expect(degraded).toBeLessThan(50);
      expect(insert).toBeLessThan(100);
    } finally {
      db.close();
    }
  }, 180_000);
});
