import { mkdtemp, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MinerStateStore } from '../../framework/commodity/miner-state.ts';
import { FilePendingStore, type PendingTask } from '../../framework/commodity/pending.ts';

const def = { schema: z.object({ history: z.array(z.number()), stored: z.array(z.string()) }), initial: () => ({ history: [], stored: [] }) };

describe('per-miner state', () => {
  it('is keyed by hotkey and reset when the uid changes hands', () => {
    const s = new MinerStateStore(def);
    s.update('alice', (p) => ({ ...p, history: [...p.history, 1] }));
    s.update('bob', (p) => ({ ...p, stored: ['obj1'] }));
    // uid of bob is recycled to carol
    expect(s.syncHotkeys(['alice', 'carol'])).toEqual(['bob']);
    expect(s.get('carol')).toEqual({ history: [], stored: [] });
    expect(s.get('alice').history).toEqual([1]);
    // bob re-registers later: starts fresh, not with the old record
    expect(s.get('bob').stored).toEqual([]);
  });

  it('round-trips through JSON and drops entries that fail the schema', () => {
    const s = new MinerStateStore(def);
    s.set('a', { history: [0.5], stored: ['x'] });
    const json = JSON.parse(JSON.stringify(s.toJSON())) as Record<string, unknown>;
    json.b = { history: 'oops' };
    const t = new MinerStateStore(def);
    expect(t.load(json)).toEqual({ loaded: 1, invalid: ['b'] });
    expect(t.get('a')).toEqual({ history: [0.5], stored: ['x'] });
    expect(() => t.set('c', { history: 1 } as never)).toThrow();
  });
});

function task(id: string, resolveAt: PendingTask['resolveAt'], createdAt: number): PendingTask {
  return {
    id, commodity: 'C', round: 1, createdBlock: 5, createdAt, resolveAt, attempts: 0, data: { eventId: id },
    answers: [{ uid: 1, hotkey: 'hk1', ok: true, statusCode: 200, statusMessage: 'OK', latencyMs: 12, query: { q: 1 }, response: { p: 0.7 } }],
  };
}

describe('file pending store', () => {
  it('persists tasks across a reopen and returns only due ones, oldest first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pending-'));
    const path = join(dir, 'pending.json');
    const a = await FilePendingStore.open(path);
    await a.add(task('late', { block: 100 }, 2));
    await a.add(task('soon', { block: 20, time: 1000 }, 3));
    await a.add(task('first', { time: 500 }, 1));
    await a.close();

    const b = await FilePendingStore.open(path);
    expect(await b.size()).toBe(3);
    expect((await b.due(20, 999)).map((t) => t.id)).toEqual(['first']);
    expect((await b.due(20, 1000)).map((t) => t.id)).toEqual(['first', 'soon']);
    await b.complete('first');
    await b.reschedule('soon', { block: 200 }, 1);
    await b.complete('first'); // idempotent
    const c = await FilePendingStore.open(path);
    expect((await c.due(150, 5000)).map((t) => t.id)).toEqual(['late']);
    expect((await c.due(200, 5000)).map((t) => [t.id, t.attempts])).toEqual([['late', 0], ['soon', 1]]);
    expect((await c.due(200, 5000))[0].answers[0].response).toEqual({ p: 0.7 });
  });

  it('moves a corrupt file aside instead of deleting it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pending-'));
    const path = join(dir, 'pending.json');
    await writeFile(path, '{"version":1,"tasks":[{"id":');
    const warnings: string[] = [];
    const s = await FilePendingStore.open(path, (m) => warnings.push(m));
    expect(await s.size()).toBe(0);
    expect(warnings).toHaveLength(1);
    const aside = (await readdir(dir)).find((f) => f.startsWith('pending.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), 'utf8')).toContain('"tasks"');
  });
});
