import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../framework/axon/workers.ts';

const TASKS = new URL('./fixtures/cpu-tasks.ts', import.meta.url);
const pool = new WorkerPool({ size: 1 });
afterAll(() => pool.close());

describe('WorkerPool', () => {
  it('runs a TypeScript export in a worker thread while the main loop stays free', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const out = await pool.run<{ spunMs: number }>(TASKS, 'spin', { ms: 300 });
    clearInterval(timer);
    expect(out.spunMs).toBeGreaterThanOrEqual(300);
    // a blocked main loop would have fired the timer at most once or twice
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(await pool.run<number>(TASKS, 'fib', 20)).toBe(6765);
  });

  it('propagates errors and aborts a CPU-bound task by replacing its worker', async () => {
    await expect(pool.run(TASKS, 'fail', { message: 'boom' })).rejects.toThrow('boom');
    await expect(pool.run(TASKS, 'nope', {})).rejects.toThrow(/no exported function 'nope'/);
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(new Error('deadline')), 100);
    await expect(pool.run(TASKS, 'spin', { ms: 10_000 }, ac.signal)).rejects.toThrow('deadline');
    expect(Date.now() - t0).toBeLessThan(2_000);
    // the pool still works after the abort
    expect(await pool.run<number>(TASKS, 'fib', 10)).toBe(55);
  });
});
