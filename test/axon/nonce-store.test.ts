import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NonceStore } from '../../framework/axon/nonce-store.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const MS = 1_000_000n;

describe('NonceStore', () => {
  it('applies the SDK freshness window (4 s + timeout) and strict monotonicity per endpoint', () => {
    let now = 1_700_000_000_000n * MS;
    const store = new NonceStore({ maxTimeoutMs: 60_000, nowNs: () => now });
    expect(store.checkAndCommit('a:u', now - 100n * MS, 12_000).ok).toBe(true);
    const replay = store.checkAndCommit('a:u', now - 100n * MS, 12_000);
    expect(replay).toMatchObject({ ok: false, reason: 'replay' });
    expect(store.checkAndCommit('a:u', now - 200n * MS, 12_000)).toMatchObject({ ok: false, reason: 'replay' });
    expect(store.checkAndCommit('a:u', now - 99n * MS, 12_000).ok).toBe(true);
    // first nonce for a new endpoint: 16.01 s old with a 12 s timeout is stale, 15.9 s is fine
    const stale = store.check('b:u', now - 16_010n * MS, 12_000);
    expect(stale).toMatchObject({ ok: false, reason: 'stale' });
    if (!stale.ok) expect(stale.message).toMatch(/acceptable delta is 16\.00 seconds but request was 16\.01 seconds old/);
    expect(store.check('b:u', now - 15_900n * MS, 12_000).ok).toBe(true);
    // check() alone records nothing
    expect(store.check('b:u', now - 15_900n * MS, 12_000).ok).toBe(true);
    expect(store.size).toBe(1);
    // future bound
    expect(store.check('c:u', now + 6_000n * MS, 12_000)).toMatchObject({ ok: false, reason: 'future' });
    expect(store.check('c:u', now + 4_000n * MS, 12_000).ok).toBe(true);
    now += 1n;
  });

  it('forgets entries once they are outside the widest window, and replays of them stay rejected', () => {
    let now = 1_700_000_000_000n * MS;
    const store = new NonceStore({ maxTimeoutMs: 1_000, nowNs: () => now });
    for (let i = 0; i < 100; i++) store.commit(`k${i}:u`, now);
    expect(store.size).toBe(100);
    now += 5_001n * MS;
    store.sweep();
    expect(store.size).toBe(0);
    expect(store.check('k1:u', now - 5_001n * MS, 1_000)).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('evicting a live entry raises the floor so the evicted endpoint cannot be replayed', () => {
    const now = 1_700_000_000_000n * MS;
    const store = new NonceStore({ capacity: 2, maxTimeoutMs: 12_000, nowNs: () => now });
    store.commit('a:u', now - 3n);
    store.commit('b:u', now - 2n);
    store.commit('c:u', now - 1n); // evicts a:u
    expect(store.size).toBe(2);
    expect(store.check('a:u', now - 3n, 12_000)).toMatchObject({ ok: false, reason: 'evicted' });
    expect(store.check('a:u', now, 12_000).ok).toBe(true);
  });

  it('1,000,000 checks from 10,000 callers keep the store bounded and the heap flat', () => {
    let now = 1_700_000_000_000n * MS;
    const capacity = 20_000;
    const store = new NonceStore({ capacity, maxTimeoutMs: 12_000, nowNs: () => now });
    const callers = Array.from({ length: 10_000 }, (_, i) => `5Hotkey${i.toString().padStart(41, '0')}:${i}-uuid`);
    const last = new Array<bigint>(callers.length).fill(0n);
    let afterWarmup = 0;
    let accepted = 0;
    let maxSize = 0;
    for (let i = 0; i < 1_000_000; i++) {
      now += 1_000n; // 1 µs per request
      const c = i % callers.length;
      // every 10th request is a replay of that caller's last nonce
      const nonce = i % 10 === 9 && last[c] !== 0n ? (last[c] as bigint) : now;
      const v = store.checkAndCommit(callers[c] as string, nonce, 12_000);
      if (v.ok) {
        accepted++;
        last[c] = nonce;
      }
      if ((i & 1023) === 0) maxSize = Math.max(maxSize, store.size);
      if (i === 100_000) afterWarmup = heapMb(); // every caller has an entry by now
    }
    const growthMb = heapMb() - afterWarmup;
    expect(maxSize).toBeLessThanOrEqual(capacity);
    expect(store.size).toBeLessThanOrEqual(10_000);
    // all replays rejected, everything else accepted
    expect(accepted).toBe(900_000 + 1_000); // the first round's i%10==9 are fresh (no previous nonce)
    // 900k more checks after warm-up: the heap must not grow with the number of checks
    expect(growthMb).toBeLessThan(2);
  });

  it('a fresh uuid on every request (500,000 endpoint keys) cannot grow the store past its capacity', () => {
    let now = 1_700_000_000_000n * MS;
    const capacity = 10_000;
    const store = new NonceStore({ capacity, maxTimeoutMs: 12_000, nowNs: () => now });
    let afterWarmup = 0;
    let accepted = 0;
    for (let i = 0; i < 500_000; i++) {
      now += 1_000n;
      if (store.checkAndCommit(`5Caller${i % 100}:uuid-${i}`, now, 12_000).ok) accepted++;
      if (i === 50_000) afterWarmup = heapMb();
    }
    expect(accepted).toBe(500_000);
    expect(store.size).toBe(capacity);
    expect(heapMb() - afterWarmup).toBeLessThan(2);
  });

  it('reorderWindowMs accepts out-of-order nonces once each, strict mode does not', () => {
    const now = 1_700_000_000_000n * MS;
    const strict = new NonceStore({ maxTimeoutMs: 12_000, nowNs: () => now });
    const tolerant = new NonceStore({ maxTimeoutMs: 12_000, reorderWindowMs: 1_000, nowNs: () => now });
    for (const s of [strict, tolerant]) {
      expect(s.checkAndCommit('k:u', now - 10n * MS, 12_000).ok).toBe(true);
    }
    // arrives after a newer one
    expect(strict.checkAndCommit('k:u', now - 20n * MS, 12_000)).toMatchObject({ ok: false, reason: 'replay' });
    expect(tolerant.checkAndCommit('k:u', now - 20n * MS, 12_000).ok).toBe(true);
    // exact replays are still rejected: of the reordered one, of the max, of an older accepted one
    expect(tolerant.checkAndCommit('k:u', now - 20n * MS, 12_000).ok).toBe(false);
    expect(tolerant.checkAndCommit('k:u', now - 10n * MS, 12_000).ok).toBe(false);
    expect(tolerant.checkAndCommit('k:u', now - 5n * MS, 12_000).ok).toBe(true);
    expect(tolerant.checkAndCommit('k:u', now - 10n * MS, 12_000).ok).toBe(false);
    // outside the window
    expect(tolerant.checkAndCommit('k:u', now - 1_100n * MS, 12_000).ok).toBe(false);
    // many reordered nonces: memory per endpoint stays bounded and replays stay rejected
    let accepted = 0;
    for (let i = 1; i <= 200; i++) if (tolerant.checkAndCommit('k:u', now - 5n * MS - BigInt(i) * 1000n, 12_000).ok) accepted++;
    // 64 are remembered below the max; on overflow the smallest are forgotten and become the low-water mark
    // (the two older ones first, then the newest arrival), after which lower nonces are refused
    expect(accepted).toBe(65);
    for (let i = 1; i <= 200; i++) expect(tolerant.checkAndCommit('k:u', now - 5n * MS - BigInt(i) * 1000n, 12_000).ok).toBe(false);
  });
});
