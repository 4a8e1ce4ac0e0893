import { z } from 'zod';

/** Numeric (and enum) runtime options, checked once at start (one-line UserError on a bad value). */
export const numericOptions = z.object({
  alpha: z.number().gt(0).lte(1),
  resyncEveryBlocks: z.number().int().min(1),
  concurrency: z.number().int().min(1).max(1024),
  roundIntervalMs: z.number().min(0),
  weightsEveryBlocks: z.number().int().min(0),
  queryConcurrency: z.number().int().min(1),
  maxScoreAttempts: z.number().int().min(1),
  retryDelayBlocks: z.number().int().min(1),
  weightsSemantics: z.enum(['v10', 'v11']).optional(),
});

/** Transport-level failures (unreachable, reset, unparsable) as the dendrite reports them. */
const TRANSPORT_FAILURES = new Set([0, 503, 422]);

/** True when a task reached ≥ 2 miners and every single one failed at the transport level. */
export function looksLikeOwnOutage(answers: ReadonlyArray<{ ok: boolean; statusCode: number }>): boolean {
  return answers.length >= 2 && answers.every((a) => !a.ok && TRANSPORT_FAILURES.has(a.statusCode));
}
