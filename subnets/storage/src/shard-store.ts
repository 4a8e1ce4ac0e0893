import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../framework/util/atomic-write.ts';

/**
 * A miner's shard bytes, content-addressed: `<dir>/<first 2 hex>/<sha256 hex>`. Writes are atomic
 * (temp file, fsync, rename), the hash is checked on the way in and on the way out (a file corrupted on
 * disk is moved to `corrupt/` and reported missing rather than served), and a capacity limit bounds
 * what validators can make us store. Errors are values (`StoreResult`), never crashes.
 */
export const SHARD_ID = /^[0-9a-f]{64}$/;

export type StoreResult = { ok: true; existed: boolean } | { ok: false; reason: 'bad_id' | 'hash_mismatch' | 'too_large' | 'capacity' | 'disk_full' | 'io_error'; message: string };

export interface ShardStoreOptions {
  dir: string;
  capacityBytes: number;
  maxShardBytes: number;
}

export class ShardStore {
  private used = 0;
  private readonly sizes = new Map<string, number>();
  /** Ids being written, so two concurrent stores of one id count its bytes once. */
  private readonly writing = new Set<string>();

  constructor(readonly opts: ShardStoreOptions) {
    mkdirSync(opts.dir, { recursive: true });
    for (const sub of readdirSync(opts.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const f of readdirSync(join(opts.dir, sub))) {
        const p = join(opts.dir, sub, f);
        if (f.endsWith('.tmp')) rmSync(p, { force: true }); // a write interrupted by a crash or a full disk
        else if (SHARD_ID.test(f)) {
          const size = statSync(p).size;
          this.sizes.set(f, size);
          this.used += size;
        }
      }
    }
  }

  get usedBytes(): number {
    return this.used;
  }
  get count(): number {
    return this.sizes.size;
  }
  has(id: string): boolean {
    return this.sizes.has(id);
  }
  ids(): string[] {
    return [...this.sizes.keys()];
  }

  private path(id: string): string {
    return join(this.opts.dir, id.slice(0, 2), id);
  }

  async put(id: string, data: Uint8Array): Promise<StoreResult> {
    if (!SHARD_ID.test(id)) return { ok: false, reason: 'bad_id', message: 'shard id must be 64 hex characters' };
    if (data.length > this.opts.maxShardBytes) return { ok: false, reason: 'too_large', message: `shard of ${data.length} bytes exceeds the ${this.opts.maxShardBytes}-byte limit` };
    if (createHash('sha256').update(data).digest('hex') !== id) return { ok: false, reason: 'hash_mismatch', message: 'shard bytes do not hash to the shard id' };
    if (this.sizes.has(id) || this.writing.has(id)) return { ok: true, existed: true };
    if (this.used + data.length > this.opts.capacityBytes) return { ok: false, reason: 'capacity', message: `store full: ${this.used} of ${this.opts.capacityBytes} bytes used` };
    this.writing.add(id);
    this.used += data.length;
    try {
      await writeFileAtomic(this.path(id), data, 0o644);
      this.sizes.set(id, data.length);
      return { ok: true, existed: false };
    } catch (e) {
      this.used -= data.length;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') return { ok: false, reason: 'disk_full', message: 'no space left on the device' };
      return { ok: false, reason: 'io_error', message: `write failed: ${code ?? (e as Error).message}` };
    } finally {
      this.writing.delete(id);
    }
  }

  /** The shard's bytes, or null when absent or corrupt on disk (then quarantined, never served). */
  async get(id: string): Promise<Buffer | null> {
    if (!this.sizes.has(id)) return null;
    let data: Buffer;
    try {
      data = await readFile(this.path(id));
    } catch {
      this.forget(id);
      return null;
    }
    if (createHash('sha256').update(data).digest('hex') !== id) {
      await this.quarantine(id);
      return null;
    }
    return data;
  }

  async delete(id: string): Promise<boolean> {
    if (!this.sizes.has(id)) return false;
    await rm(this.path(id), { force: true });
    this.forget(id);
    return true;
  }

  private forget(id: string): void {
    const size = this.sizes.get(id);
    if (size === undefined) return;
    this.sizes.delete(id);
    this.used -= size;
  }

  private async quarantine(id: string): Promise<void> {
    const dir = join(this.opts.dir, 'corrupt');
    mkdirSync(dir, { recursive: true });
    await rename(this.path(id), join(dir, `${id}.${Date.now()}`)).catch(() => {});
    this.forget(id);
  }

  /** Size on disk (tests). */
  async sizeOnDisk(id: string): Promise<number | null> {
    return stat(this.path(id)).then((s) => s.size, () => null);
  }
}
