import { z } from 'zod';

/**
 * The event model shared by every source (simulator, JSON feed) and by the wire. Times are unix ms.
 * A binary event asks "P(yes)"; a paths event asks for sample paths of a price at fixed future times
 * (SN50 style), scored by CRPS on log-returns from `refPrice`, in basis points.
 */

export const eventId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'event ids are 1–128 chars of [A-Za-z0-9._:-]');

const times = {
  id: eventId,
  question: z.string().max(500),
  asset: z.string().max(64).optional(),
  openAt: z.number().int().nonnegative(),
  cutoffAt: z.number().int().nonnegative(),
  resolveAt: z.number().int().nonnegative(),
};

export const binaryEvent = z
  .object({
    ...times,
    kind: z.literal('binary'),
    /** Market-implied probability of "yes" at open: the baseline a forecaster must beat. */
    market: z.number().gt(0).lt(1),
    /** Optional details for forecasters (e.g. the strike of "above K at T"). */
    strike: z.number().positive().optional(),
  })
  .strict();

export const pathsEvent = z
  .object({
    ...times,
    kind: z.literal('paths'),
    /** Price the log-returns are measured from (known at open). */
    refPrice: z.number().positive(),
    /** Times (ms, all ≥ cutoffAt, increasing) at which each path gives a price. */
    at: z.array(z.number().int().nonnegative()).min(1).max(288),
    /** Paths a forecast must contain. */
    numPaths: z.number().int().min(2).max(1000),
    /** The market's view: normal log-return (bps) at each `at`, the baseline of the CRPS skill. */
    baseline: z.object({ mean: z.array(z.number()).min(1).max(288), sd: z.array(z.number().positive()).min(1).max(288) }).strict(),
  })
  .strict();

export const predictionEvent = z.discriminatedUnion('kind', [binaryEvent, pathsEvent]).superRefine((e, ctx) => {
  if (!(e.openAt <= e.cutoffAt && e.cutoffAt <= e.resolveAt)) ctx.addIssue({ code: 'custom', message: 'needs openAt ≤ cutoffAt ≤ resolveAt' });
  if (e.kind === 'paths') {
    if (e.baseline.mean.length !== e.at.length || e.baseline.sd.length !== e.at.length) ctx.addIssue({ code: 'custom', message: 'baseline.mean/sd need one entry per `at`' });
    if (e.at.some((t, i) => t < e.cutoffAt || (i > 0 && t <= e.at[i - 1]!)) || e.at[e.at.length - 1]! > e.resolveAt) {
      ctx.addIssue({ code: 'custom', message: '`at` must increase, from cutoffAt to resolveAt' });
    }
  }
});
export type BinaryEvent = z.infer<typeof binaryEvent>;
export type PathsEvent = z.infer<typeof pathsEvent>;
export type PredictionEvent = z.infer<typeof predictionEvent>;

/** How an event ended. `void`: the source cannot resolve it (cancelled, data gap) — nobody is scored. */
export const resolution = z.union([
  z.object({ status: z.literal('resolved'), outcome: z.union([z.literal(0), z.literal(1)]) }).strict(),
  z.object({ status: z.literal('resolved'), prices: z.array(z.number().positive()).min(1).max(288) }).strict(),
  z.object({ status: z.literal('void'), reason: z.string().max(200) }).strict(),
]);
export type Resolution = z.infer<typeof resolution>;

/** Where events and outcomes come from. Implementations: the simulator, the JSON feed adapter. */
export interface EventSource {
  /** Events known at `now` (open, closed or resolved); the validator picks what it needs. */
  events(now: number): Promise<PredictionEvent[]>;
  /** The outcome, or null while the source has none yet (not resolved, or lagging): retry later. */
  resolution(id: string, now: number): Promise<Resolution | null>;
}
