import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqlitePendingStore } from '../../framework/commodity/index.ts';
import type { PendingTask } from '../../framework/commodity/pending.ts';

function task(id: string, resolveAt: PendingTask['resolveAt'], createdAt: number): PendingTask {
  return {
    id, commodity: 'C', round: 1, createdBlock: 5, createdAt, resolveAt, attempts: 0, data: { eventId: id },
    answers: [{ uid: 1, hotkey: 'hk1', ok: true, statusCode: 200, statusMessage: 'OK', latencyMs: 12, query: { q: 1 }, response: { p: 0.7 } }],
  };
}

describe('SQLite pending store', () => {
  it('persists across a reopen, returns due tasks oldest first, reschedules and completes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pending-sqlite-'));
    const path = join(dir, 'pending.sqlite');
    try {
      const a = await openSqlitePendingStore(path);
      await a.add(task('late', { time: 5_000 }, 3));
      await a.add(task('byBlock', { block: 10 }, 2));
      await a.add(task('both', { block: 10, time: 1_000 }, 1));
      await a.add(task('both', { block: 10, time: 1_000 }, 1)); // the same id twice: one task
      await a.close();

      const b = await openSqlitePendingStore(path);
      expect(await b.size()).toBe(3);
      expect((await b.due(9, 10_000)).map((t) => t.id)).toEqual(['late']);
      expect((await b.due(10, 2_000)).map((t) => t.id)).toEqual(['both', 'byBlock']);
      expect((await b.due(10, 10_000, 2)).map((t) => t.id)).toEqual(['both', 'byBlock']);
      await b.reschedule('both', { time: 20_000 }, 3);
      const moved = await b.due(100, 10_000);
      expect(moved.map((t) => t.id)).toEqual(['byBlock', 'late']);
      await b.complete('byBlock');
      await b.complete('nope');
      await b.close();

      const c = await openSqlitePendingStore(path);
      expect(await c.size()).toBe(2);
      const both = (await c.due(100, 30_000)).find((t) => t.id === 'both')!;
      expect(both.attempts).toBe(3);
      expect(both.resolveAt).toEqual({ time: 20_000 });
      expect(both.answers[0]!.response).toEqual({ p: 0.7 });
      await c.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops a stored row that fails the task schema instead of crashing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pending-sqlite-'));
    const path = join(dir, 'pending.sqlite');
    try {
      const a = await openSqlitePendingStore(path);
      await a.add(task('good', { time: 0 }, 1));
      await a.close();
      const db = new Database(path);
      db.prepare('INSERT INTO pending (id, created_at, due_block, due_time, body) VALUES (?, ?, ?, ?, ?)').run('bad', 0, null, 0, '{"id":');
      db.close();
      const b = await openSqlitePendingStore(path);
      expect((await b.due(0, 1)).map((t) => t.id)).toEqual(['good']);
      expect(await b.size()).toBe(1);
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
