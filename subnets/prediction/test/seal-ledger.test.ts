import { describe, expect, it } from 'vitest';
import { cryptoReady, keypairFromUri } from '../../../framework/wallet/index.ts';
import { LEDGER_DEFAULTS, margin, payoutTransform, recordEntry, standing, type LedgerEntry } from '../src/ledger.ts';
import { FastRng } from '../src/random.ts';
import { commitmentOf, newSalt, signReceipt, verifyReceipt } from '../src/seal.ts';

describe('commit–reveal and receipts', () => {
  it('a commitment opens only with its own hotkey, salt and forecast', () => {
    const salt = newSalt();
    const c = commitmentOf('5Alice', 'e1', salt, { p: 0.7 });
    expect(commitmentOf('5Alice', 'e1', salt, { p: 0.7 })).toBe(c);
    expect(commitmentOf('5Mallory', 'e1', salt, { p: 0.7 })).not.toBe(c); // replayed by a copier
    expect(commitmentOf('5Alice', 'e1', salt, { p: 0.71 })).not.toBe(c);
    expect(commitmentOf('5Alice', 'e2', salt, { p: 0.7 })).not.toBe(c);
    expect(commitmentOf('5Alice', 'e1', newSalt(), { p: 0.7 })).not.toBe(c);
  });

  it('receipts verify for the validator, commitment and cutoff they were signed for only', async () => {
    await cryptoReady();
    const v = keypairFromUri('//receipt-validator');
    const r = signReceipt(v, '5Miner', 'e1', 'ab'.repeat(32), 1000);
    expect(verifyReceipt(r, '5Miner', 'e1', 'ab'.repeat(32), 1000)).toBe(true);
    expect(verifyReceipt(r, '5Miner', 'e1', 'ab'.repeat(32), 999)).toBe(false); // accepted after the cutoff
    expect(verifyReceipt(r, '5Other', 'e1', 'ab'.repeat(32), 1000)).toBe(false);
    expect(verifyReceipt({ ...r, acceptedAt: 900 }, '5Miner', 'e1', 'ab'.repeat(32), 1000)).toBe(false); // back-dated
    expect(verifyReceipt(r, '5Miner', 'e1', 'cd'.repeat(32), 1000)).toBe(false);
  });
});

const entries = (xs: Array<number | null>): LedgerEntry[] => xs.map((skill, i) => ({ id: `e${i}`, at: i, skill }));

describe('ledger: window, coverage, pessimistic bound, payout', () => {
  it('an event is recorded once, and the window keeps the newest', () => {
    let w: LedgerEntry[] = [];
    w = recordEntry(w, { id: 'a', at: 1, skill: 0.1 }, 3);
    w = recordEntry(w, { id: 'a', at: 1, skill: 0.9 }, 3);
    expect(w).toEqual([{ id: 'a', at: 1, skill: 0.1 }]);
    for (const id of ['b', 'c', 'd']) w = recordEntry(w, { id, at: id.charCodeAt(0), skill: 0 }, 3);
    expect(w.map((e) => e.id)).toEqual(['b', 'c', 'd']);
  });

  it('coverage gate: missing more than 15 % disqualifies, and misses count as a loss', () => {
    const good = standing(entries(Array.from({ length: 40 }, () => 0.1)));
    expect(good.qualified).toBe(true);
    const skipper = standing(entries(Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? null : 0.1))));
    expect(skipper.coverage).toBeCloseTo(0.8);
    expect(skipper.qualified).toBe(false);
    expect(skipper.mean).toBeCloseTo(0.8 * 0.1 + 0.2 * LEDGER_DEFAULTS.missedSkill);
  });

  it('pessimistic bound: a newcomer is ranked below its mean until evidence accumulates', () => {
    const run = (n: number) => entries(Array.from({ length: n }, (_, i) => (i % 2 ? 0.25 : -0.05))); // mean 0.1
    const few = standing(run(10));
    const some = standing(run(40));
    const many = standing(run(300));
    expect(few.qualified).toBe(false); // fewer than minEvents
    expect(margin(few)).toBe(0);
    expect(some.bound).toBeLessThan(many.bound);
    expect(many.bound).toBeLessThan(many.mean);
    expect(margin(many)).toBeGreaterThan(0);
  });

  it('an extreme-probability swarm member never qualifies on average (many seeds)', () => {
    let qualified = 0;
    for (let s = 0; s < 200; s++) {
      const rng = new FastRng(`swarm-${s}`);
      // all-in: right → (m − o)², wrong → (m − o)² − 1, with m − o ~ typical market error
      const w = entries(Array.from({ length: 60 }, () => { const e = 0.3 * rng.next(); return rng.bool(0.5) ? e * e : e * e - 1; }));
      if (margin(standing(w)) > 0) qualified++;
    }
    expect(qualified).toBe(0);
  });

  it('margin² payout, and burn to the owner uid when nobody beats the market', () => {
    const t = payoutTransform({ kind: 'margin2' }, 0);
    expect(t([Number.NaN, 0.2, 0.1, 0, -1])).toEqual([0, 0.8, 0.2, 0, 0]);
    expect(t([Number.NaN, 0, 0, Number.NaN])).toEqual([1, 0, 0, 0]);
    expect(payoutTransform({ kind: 'margin2' }, null)([Number.NaN, 0, 0])).toEqual([0, 0, 0]);
    const soft = payoutTransform({ kind: 'softmax', temperature: 0.05 }, 0)([Number.NaN, 0.2, 0.1, 0]);
    expect(soft[3]).toBe(0);
    expect(soft[1]! / soft[2]!).toBeCloseTo(Math.exp(0.1 / 0.05));
  });
});
