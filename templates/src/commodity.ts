import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineCommodity, power, relativeSpeed, type MinerSide, type Rewards } from 'subnetkit/commodity';

/**
 * The template's commodity: seeded proof-of-work puzzles. Find a nonce such that
 * sha256(seed ‖ nonce) has at least `difficulty` leading zero bits. Solving takes ~2^difficulty hashes,
 * checking takes one, and difficulty varies per task, so both correctness and speed are measurable.
 */

export const puzzleQuery = z.object({
  /** 32 random bytes, hex without 0x. */
  seed: z.string().regex(/^[0-9a-f]{64}$/),
  difficulty: z.number().int().min(1).max(40),
});
export const puzzleResponse = z.object({
  /** Decimal nonce; null when the miner gives up. */
  nonce: z.string().regex(/^[0-9]{1,20}$/).nullable().optional(),
});
export type PuzzleQuery = z.infer<typeof puzzleQuery>;
export type PuzzleResponse = z.infer<typeof puzzleResponse>;

export const puzzleTaskData = z.object({ seed: z.string(), difficulty: z.number().int() });

export const minerRecord = z.object({ asked: z.number().int().nonnegative(), solved: z.number().int().nonnegative() });
export type MinerRecord = z.infer<typeof minerRecord>;

export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export function puzzleDigest(seedHex: string, nonce: string): Uint8Array {
  return createHash('sha256').update(Buffer.from(seedHex, 'hex')).update(nonce).digest();
}

export function verifyNonce(q: PuzzleQuery, nonce: string | null | undefined): boolean {
  return typeof nonce === 'string' && /^[0-9]{1,20}$/.test(nonce) && leadingZeroBits(puzzleDigest(q.seed, nonce)) >= q.difficulty;
}

/** Brute force, yielding to the event loop every few thousand hashes so the axon keeps serving. */
export async function solvePuzzle(q: PuzzleQuery, signal?: AbortSignal): Promise<string | null> {
  const seed = Buffer.from(q.seed, 'hex');
  for (let nonce = 0; ; nonce++) {
    if (nonce % 4096 === 4095) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) return null;
    }
    const s = String(nonce);
    if (leadingZeroBits(createHash('sha256').update(seed).update(s).digest()) >= q.difficulty) return s;
  }
}

export type MinerBehavior = 'honest' | 'wrong' | 'slow' | 'offline';

/** Miner strategies, including the misbehaving ones the demo uses. */
export function puzzleMiner(behavior: MinerBehavior, opts: { slowMs?: number } = {}): MinerSide<PuzzleQuery, PuzzleResponse> {
  const slowMs = opts.slowMs ?? 1500;
  return {
    async handle(query, ctx) {
      switch (behavior) {
        case 'honest':
          return { nonce: await solvePuzzle(query, ctx.signal) };
        case 'wrong': {
          // a nonce that fails verification (cheap "answer" without doing the work)
          let n = 0;
          while (verifyNonce(query, String(n))) n++;
          return { nonce: String(n) };
        }
        case 'slow': {
          const nonce = await solvePuzzle(query, ctx.signal);
          await new Promise((r) => setTimeout(r, slowMs));
          return { nonce };
        }
        case 'offline':
          // never answers: the validator's timeout fires
          await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
          return { nonce: null };
      }
    },
  };
}

export interface PuzzleCommodityOptions {
  minDifficulty?: number;
  maxDifficulty?: number;
  timeoutMs?: number;
  sampleSize?: number;
  /** Exponent of the power transform applied to scores before setting weights. */
  weightPower?: number;
}

export function createPuzzleCommodity(opts: PuzzleCommodityOptions = {}) {
  const minD = opts.minDifficulty ?? 8;
  const maxD = opts.maxDifficulty ?? 14;
  return defineCommodity({
    name: 'PuzzleSynapse',
    // btauth/1 (Bittensor SDK v11) is the wire; set 'synapse' to serve validators pinned to SDK v10
    protocol: 'btauth',
    route: '/puzzle',
    query: puzzleQuery,
    response: puzzleResponse,
    requiredHashFields: ['seed', 'difficulty'],
    timeoutMs: opts.timeoutMs ?? 5000,
    version: 1,
    sampleSize: opts.sampleSize ?? 16,
    taskData: puzzleTaskData,
    minerState: { schema: minerRecord, initial: () => ({ asked: 0, solved: 0 }) },
    toWeights: power(opts.weightPower ?? 2),
    generate(ctx) {
      const difficulty = ctx.rng.int(minD, maxD);
      const seed = ctx.rng.hex(32).slice(2);
      return { query: { seed, difficulty }, data: { seed, difficulty } };
    },
    score({ answers, state }) {
      // score = correctness × speed relative to the fastest correct miner of this round
      const correct = answers.map((a) => a.ok && verifyNonce(a.query, a.response?.nonce));
      const speed = relativeSpeed(answers.map((a, i) => (correct[i] ? a.latencyMs : null)));
      const rewards: Rewards = {};
      answers.forEach((a, i) => {
        rewards[a.hotkey] = correct[i] ? speed[i] : 0;
        state.update(a.hotkey, (r) => ({ asked: r.asked + 1, solved: r.solved + (correct[i] ? 1 : 0) }));
      });
      return rewards;
    },
    miner: puzzleMiner('honest'),
  });
}

export const puzzleCommodity = createPuzzleCommodity();
export type PuzzleCommodity = ReturnType<typeof createPuzzleCommodity>;
