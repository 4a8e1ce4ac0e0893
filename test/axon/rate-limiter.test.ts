import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../framework/axon/rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows a burst, then refills at perSecond', () => {
    let now = 0;
    const rl = new RateLimiter({ perSecond: 10, burst: 3, nowMs: () => now });
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 0]);
    const wait = rl.take('a');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(100);
    expect(rl.take('b')).toBe(0); // other keys unaffected
    now += 100;
    expect(rl.take('a')).toBe(0);
    expect(rl.take('a')).toBeGreaterThan(0);
  });

  it('stays bounded with many distinct keys', () => {
    let now = 0;
    const rl = new RateLimiter({ perSecond: 1, burst: 2, capacity: 1_000, nowMs: () => now });
    for (let i = 0; i < 50_000; i++) {
      now += 1;
      rl.take(`k${i}`);
      if (i % 1000 === 0) expect(rl.size).toBeLessThanOrEqual(1_000);
    }
    expect(rl.size).toBeLessThanOrEqual(1_000);
  });
});
