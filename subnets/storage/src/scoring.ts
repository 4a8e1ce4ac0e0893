import { z } from 'zod';
import { betaMean, betaUpdate } from '../../../framework/commodity/index.ts';

/**
 * Per-miner record (keyed by hotkey by the framework, dropped when the hotkey leaves the metagraph).
 *
 * Why a Beta reputation and not a Wilson bound: Wilson treats every trial since registration alike,
 * so a miner with a long clean history keeps a high bound for thousands of challenges after it starts
 * dropping data. Beta with forgetting (λ) tracks the recent success rate within ~1/(1−λ) challenges,
 * its prior (1, 1) keeps a newcomer at 0.5 instead of 1 after one lucky answer, and retrieval checks
 * enter with a larger weight than single challenges, and failures with a larger weight than passes. Raising the mean to a power makes a miner that
 * passes 70 % of challenges (e.g. missing 4 % of its chunks at c = 8) earn a quarter of a perfect one.
 */
export const minerRecordSchema = z.object({
  alpha: z.number().nonnegative(),
  beta: z.number().nonnegative(),
  challenges: z.number().int().nonnegative(),
  lost: z.number().int().nonnegative(),
  passes: z.number().int().nonnegative(),
  retrievals: z.number().int().nonnegative(),
  retrievalPasses: z.number().int().nonnegative(),
  /** EMA of passing answers' latency as a fraction of their timeout. */
  latency: z.number().min(0).max(1).nullable(),
});
export type MinerRecord = z.infer<typeof minerRecordSchema>;

export const newRecord = (): MinerRecord => ({ alpha: 1, beta: 1, challenges: 0, lost: 0, passes: 0, retrievals: 0, retrievalPasses: 0, latency: null });

/**
 * A failure weighs 3 passes (a lost shard is worse news than a kept one is good news), a whole-shard
 * retrieval twice a chunk challenge. λ = 0.99: the record spans the last ~100 outcomes, so a miner that
 * cheated on some shards (which are then declared lost and leave its holdings) does not look clean again
 * a few challenges later.
 */
export const REPUTATION = { lambda: 0.99, failWeight: 3, retrievalWeight: 2, lostWeight: 15, power: 4 } as const;

export function recordOutcome(r: MinerRecord, kind: 'challenge' | 'retrieval', pass: boolean, latencyFraction: number): MinerRecord {
  const weight = (kind === 'retrieval' ? REPUTATION.retrievalWeight : 1) * (pass ? 1 : REPUTATION.failWeight);
  const rep = betaUpdate(r, pass ? 1 : 0, { lambda: REPUTATION.lambda, weight });
  const lat = Math.min(1, Math.max(0, latencyFraction));
  return {
    ...r,
    ...rep,
    challenges: r.challenges + (kind === 'challenge' ? 1 : 0),
    passes: r.passes + (kind === 'challenge' && pass ? 1 : 0),
    retrievals: r.retrievals + (kind === 'retrieval' ? 1 : 0),
    retrievalPasses: r.retrievalPasses + (kind === 'retrieval' && pass ? 1 : 0),
    latency: pass ? (r.latency === null ? lat : 0.8 * r.latency + 0.2 * lat) : r.latency,
  };
}

/**
 * A shard declared lost (maxFails failed proofs in a row) costs as much as 15 failed challenges: the
 * shard leaves the miner's holdings, so without this a miner that kept a third of what it acknowledged
 * would look clean again once its missing shards were written off.
 */
export function recordLoss(r: MinerRecord): MinerRecord {
  return { ...r, ...betaUpdate(r, 0, { lambda: 1, weight: REPUTATION.lostWeight }), lost: r.lost + 1 };
}

export function reputation(r: MinerRecord): number {
  return betaMean(r);
}

/**
 * Integrity: the share of acknowledged shards not later declared lost, (acked − lost + 1) / (acked + 1).
 * Challenges sample what a miner holds *now*; once missing shards are written off, the rest pass, so
 * without this a miner that kept a third of what it acknowledged would soon look clean again.
 */
export function integrity(h: { acked: number; lost: number } | undefined): number {
  if (!h) return 1;
  return Math.max(0, h.acked - h.lost + 1) / (h.acked + 1);
}

/**
 * Score = reputation^4 × integrity^4 × latency factor (1 at zero latency, 0.5 at the timeout) × volume
 * factor (verified bytes as a share of the largest verified holding).
 */
export function minerScore(r: MinerRecord, verifiedBytes: number, maxVerifiedBytes: number, holder?: { acked: number; lost: number }): number {
  if (verifiedBytes <= 0 || maxVerifiedBytes <= 0) return 0;
  const latency = 1 - 0.5 * (r.latency ?? 1);
  // storage is paid by the byte held: a hotkey that verifiably keeps a tenth of the largest holding earns
  // a tenth (a floor here would pay an operator for every extra hotkey that keeps one small shard)
  const volume = Math.min(1, verifiedBytes / maxVerifiedBytes);
  return reputation(r) ** REPUTATION.power * integrity(holder) ** REPUTATION.power * latency * volume;
}
