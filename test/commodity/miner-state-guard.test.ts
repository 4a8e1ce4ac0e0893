import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { MinerStateStore } from '../../framework/commodity/miner-state.ts';

describe('MinerStateStore.guarded', () => {
  it('drops a late scorer write for a hotkey that left (resync) instead of bringing its state back', () => {
    const store = new MinerStateStore({ schema: z.object({ n: z.number() }), initial: () => ({ n: 0 }) });
    let current = new Set(['a', 'b']);
    const view = store.guarded((hk) => current.has(hk));
    view.set('a', { n: 1 });
    view.update('b', (p) => ({ n: p.n + 2 }));
    expect(store.toJSON()).toEqual({ a: { n: 1 }, b: { n: 2 } });
    // a resync: b's uid was recycled to c; a scorer that started before it still writes for b
    current = new Set(['a', 'c']);
    store.syncHotkeys([...current]);
    expect(view.update('b', (p) => ({ n: p.n + 5 }))).toEqual({ n: 5 }); // computed from initial, not stored
    view.set('b', { n: 9 });
    view.set('c', { n: 3 });
    expect(store.toJSON()).toEqual({ a: { n: 1 }, c: { n: 3 } });
    expect(() => view.set('a', { n: 'x' } as unknown as { n: number })).toThrow(); // still validated
  });
});
