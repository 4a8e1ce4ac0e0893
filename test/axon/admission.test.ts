import { describe, expect, it } from 'vitest';
import { AdmissionError, AdmissionQueue, type Release } from '../../framework/axon/admission.ts';

const far = () => Date.now() + 10_000;

describe('AdmissionQueue', () => {
  it('runs at most maxConcurrent and serves waiters by priority, FIFO among equals', async () => {
    const q = new AdmissionQueue({ maxConcurrent: 1, maxQueue: 10 });
    const first = await q.acquire(0, far());
    const order: string[] = [];
    const wait = (name: string, p: number) => q.acquire(p, far()).then((r) => { order.push(name); return r; });
    const ps = [wait('low', 1), wait('high', 100), wait('mid-a', 50), wait('mid-b', 50)];
    expect(q.running).toBe(1);
    expect(q.waiting).toBe(4);
    // release one slot at a time and see who gets it
    let release: Release = first;
    for (let i = 0; i < 4; i++) {
      release();
      await new Promise((r) => setImmediate(r));
      expect(order.length).toBe(i + 1);
      const idx = ['low', 'high', 'mid-a', 'mid-b'].indexOf(order[i] as string);
      release = await (ps[idx] as Promise<Release>);
      expect(q.running).toBe(1);
    }
    release();
    expect(order).toEqual(['high', 'mid-a', 'mid-b', 'low']);
    expect(q.running).toBe(0);
  });

  it('refuses overflow at once, but a higher priority displaces the lowest waiter', async () => {
    const q = new AdmissionQueue({ maxConcurrent: 1, maxQueue: 1 });
    const r = await q.acquire(0, far());
    const low = q.acquire(1, far());
    await expect(q.acquire(1, far())).rejects.toMatchObject({ kind: 'overflow' });
    const high = q.acquire(5, far());
    await expect(low).rejects.toBeInstanceOf(AdmissionError);
    r();
    (await high)();
    expect(q.running).toBe(0);
  });

  it('times out a waiter still queued at its deadline', async () => {
    const q = new AdmissionQueue({ maxConcurrent: 1, maxQueue: 5 });
    const r = await q.acquire(0, far());
    const t0 = Date.now();
    await expect(q.acquire(0, Date.now() + 50)).rejects.toMatchObject({ kind: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(q.waiting).toBe(0);
    r();
    r(); // idempotent
    expect(q.running).toBe(0);
  });
});
