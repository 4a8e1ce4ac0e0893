import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeededRng, deriveRoundSeed } from '../../framework/commodity/rng.ts';
import { eligibleMiners, sampleMiners } from '../../framework/commodity/sampler.ts';
import { makeMetagraph } from './helpers.ts';

const secret = new Uint8Array(32).fill(7);
const hashA = '0x' + 'ab'.repeat(32);
const hashB = '0x' + 'ac'.repeat(32);

describe('seeded randomness', () => {
  it('is reproducible from (secret, block hash, round) and differs when any input changes', () => {
    const a = SeededRng.forRound(secret, hashA, 3);
    const b = SeededRng.forRound(secret, hashA, 3);
    const seqA = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(seqA);
    const others = [
      SeededRng.forRound(secret, hashB, 3),
      SeededRng.forRound(secret, hashA, 4),
      SeededRng.forRound(new Uint8Array(32).fill(8), hashA, 3),
    ];
    for (const o of others) expect(Array.from({ length: 20 }, () => o.nextU32())).not.toEqual(seqA);
  });

  it('derives the seed as HMAC-SHA256(secret, hash ‖ u64be(round))', async () => {
    const { createHmac } = await import('node:crypto');
    const msg = Buffer.concat([Buffer.from('ab'.repeat(32), 'hex'), Buffer.from('0000000000000005', 'hex')]);
    const expected = createHmac('sha256', Buffer.from(secret)).update(msg).digest('hex');
    expect(Buffer.from(deriveRoundSeed(secret, hashA, 5)).toString('hex')).toBe(expected);
  });

  it('int stays in range and covers it; floats are in [0,1)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 20 }), (seed, lo, span) => {
        const r = new SeededRng(seed);
        for (let i = 0; i < 30; i++) {
          const v = r.int(lo, lo + span);
          if (v < lo || v > lo + span || !Number.isInteger(v)) return false;
          const f = r.next();
          if (f < 0 || f >= 1) return false;
        }
        return true;
      }),
    );
    const r = new SeededRng('coverage');
    const seen = new Set(Array.from({ length: 400 }, () => r.int(0, 9)));
    expect(seen.size).toBe(10);
  });

  it('fork gives independent but reproducible streams', () => {
    const r = new SeededRng('x');
    const f1 = r.fork('miner-1').hex(16);
    expect(new SeededRng('x').fork('miner-1').hex(16)).toBe(f1);
    expect(r.fork('miner-2').hex(16)).not.toBe(f1);
  });
});

describe('default sampler', () => {
  it('picks k distinct serving non-validator miners and excludes the validator itself', () => {
    const mg = makeMetagraph(12, { serving: (u) => u !== 3 && u !== 7, validators: [0] });
    const picked = sampleMiners(mg, { k: 5, rng: new SeededRng('s'), exclude: ['hk1'] });
    expect(picked).toHaveLength(5);
    expect(new Set(picked).size).toBe(5);
    for (const u of picked) expect([0, 1, 3, 7]).not.toContain(u);
  });

  it('returns every eligible miner when k exceeds what is available, and [] for an empty metagraph', () => {
    const mg = makeMetagraph(6, { serving: (u) => u % 2 === 0 });
    const picked = sampleMiners(mg, { k: 50, rng: new SeededRng('s') });
    expect([...picked].sort()).toEqual([0, 2, 4]);
    expect(sampleMiners(makeMetagraph(0), { k: 3, rng: new SeededRng('s') })).toEqual([]);
  });

  it('keeps low-stake permit holders (they may be miners) and honours a custom filter', () => {
    const mg = makeMetagraph(4, { validators: [1], stake: 5n });
    expect(eligibleMiners(mg)).toEqual([0, 1, 2, 3]);
    expect(eligibleMiners(mg, { filter: (u) => u > 1 })).toEqual([2, 3]);
  });

  it('is deterministic per seed and varies across seeds', () => {
    const mg = makeMetagraph(30);
    const a = sampleMiners(mg, { k: 8, rng: new SeededRng('r1') });
    expect(sampleMiners(mg, { k: 8, rng: new SeededRng('r1') })).toEqual(a);
    const b = sampleMiners(mg, { k: 8, rng: new SeededRng('r2') });
    expect(b).not.toEqual(a);
  });
});
