import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MinerStateStore, SeededRng, type MinerAnswer } from 'subnetkit/commodity';
import { createPuzzleCommodity, leadingZeroBits, puzzleMiner, solvePuzzle, verifyNonce, type PuzzleQuery, type PuzzleResponse } from '../src/commodity.ts';

const ctx = () => ({
  caller: { hotkey: 'v', uid: 0, stake: 0n, validatorPermit: true },
  synapse: 'PuzzleSynapse',
  deadline: Date.now() + 5000,
  signal: new AbortController().signal,
});

describe('puzzle commodity', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(Uint8Array.from([0, 0, 0x10, 0xff]))).toBe(19);
    expect(leadingZeroBits(Uint8Array.from([0x80]))).toBe(0);
    expect(leadingZeroBits(Uint8Array.from([0, 0]))).toBe(16);
  });

  it('a solved nonce verifies and a mangled one (almost surely) does not', async () => {
    const q: PuzzleQuery = { seed: 'ab'.repeat(32), difficulty: 12 };
    const nonce = await solvePuzzle(q);
    expect(verifyNonce(q, nonce)).toBe(true);
    expect(verifyNonce({ ...q, difficulty: 40 }, nonce)).toBe(false);
    expect(verifyNonce(q, null)).toBe(false);
    expect(verifyNonce(q, 'not-a-number')).toBe(false);
  });

  it('generates reproducible tasks from the seeded context with difficulty in range', async () => {
    const c = createPuzzleCommodity({ minDifficulty: 6, maxDifficulty: 9 });
    const gen = (round: number) =>
      c.generate({ round, rng: SeededRng.forRound(new Uint8Array(32), '0x' + '11'.repeat(32), round) } as Parameters<typeof c.generate>[0]);
    const a = await gen(1);
    const b = await gen(1);
    expect(a).toEqual(b);
    const spec = Array.isArray(a) ? a[0] : a!;
    const q = spec.query as PuzzleQuery;
    expect(q.difficulty).toBeGreaterThanOrEqual(6);
    expect(q.difficulty).toBeLessThanOrEqual(9);
    expect(await gen(2)).not.toEqual(a);
  });

  it('scores correctness × relative speed and updates per-miner records', async () => {
    const c = createPuzzleCommodity();
    const q: PuzzleQuery = { seed: 'cd'.repeat(32), difficulty: 8 };
    const good = (await solvePuzzle(q))!;
    const bad = (await puzzleMiner('wrong').handle(q, ctx()) as PuzzleResponse).nonce!;
    const ans = (hotkey: string, nonce: string | null, latencyMs: number, ok = true): MinerAnswer<PuzzleQuery, PuzzleResponse> => ({
      uid: 0, hotkey, ok, statusCode: ok ? 200 : 408, statusMessage: null, latencyMs, query: q, response: ok ? { nonce } : null,
    });
    const state = new MinerStateStore(c.minerState);
    const rewards = await c.score({
      task: { id: 't', round: 1, createdBlock: 1, createdAt: 0, data: q, attempts: 0 },
      answers: [ans('fast', good, 50), ans('slow', good, 200), ans('wrong', bad, 10), ans('offline', null, 5000, false)],
      block: { number: 1, hash: '0x', timestamp: 0 },
      now: 0,
      metagraph: {} as never,
      state,
    });
    expect(rewards).toEqual({ fast: 1, slow: 0.25, wrong: 0, offline: 0 });
    expect(state.get('fast')).toEqual({ asked: 1, solved: 1 });
    expect(state.get('wrong')).toEqual({ asked: 1, solved: 0 });
    expect(z.object({ asked: z.number() }).parse(state.get('offline')).asked).toBe(1);
  });

  it('offline miners answer only when the call is aborted', async () => {
    const ac = new AbortController();
    const p = puzzleMiner('offline').handle({ seed: '00'.repeat(32), difficulty: 4 }, { ...ctx(), signal: ac.signal });
    let settled = false;
    void Promise.resolve(p).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    ac.abort();
    await p;
    expect(settled).toBe(true);
  });
});
