import { z } from 'zod';
import { pendingTaskSchema, resolveAtSchema } from '../commodity/pending.ts';

/**
 * What travels through Redis between coordinator and workers. Redis is shared infrastructure, so every
 * payload is checked with zod on the way out; a malformed job fails instead of crashing a worker.
 */
const target = z.object({ uid: z.number().int().nonnegative(), hotkey: z.string().min(1), ip: z.string().min(1), port: z.number().int().min(1).max(65535) });

/** Ask miners and score (or park as a delayed task). One job per generated task. */
export const queryJobSchema = z.object({
  kind: z.literal('query'),
  seq: z.number().int().positive(),
  round: z.number().int().positive(),
  index: z.number().int().nonnegative(),
  createdBlock: z.number().int().nonnegative(),
  createdAt: z.number(),
  targets: z.array(target).max(4096),
  queries: z.array(z.unknown()),
  data: z.unknown(),
  timeoutMs: z.number().positive(),
  resolveAt: resolveAtSchema.optional(),
});
/** Score a delayed task that became due. */
export const dueJobSchema = z.object({ kind: z.literal('due'), seq: z.number().int().positive(), task: pendingTaskSchema });
export const scaleJobSchema = z.discriminatedUnion('kind', [queryJobSchema, dueJobSchema]);
export type QueryJob = z.infer<typeof queryJobSchema>;
export type DueJob = z.infer<typeof dueJobSchema>;
export type ScaleJob = z.infer<typeof scaleJobSchema>;

/**
 * The outcome of one job, stored once per seq (HSETNX: a retried or duplicated job cannot overwrite it)
 * and applied to the scores strictly in seq order, so the result equals the single-process validator's.
 */
export const taskResultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('rewards'),
    taskId: z.string(),
    rewards: z.record(z.number().nullable()),
    /** Per-miner state the scorer wrote, by hotkey. */
    state: z.record(z.unknown()),
    pendingId: z.string().optional(),
  }),
  /** Nothing to apply: outage, scorer failure, parked as delayed, never dispatched, failed job. */
  z.object({ kind: z.literal('skip'), taskId: z.string(), reason: z.string(), pendingId: z.string().optional() }),
]);
export type TaskResult = z.infer<typeof taskResultSchema>;

export const jobId = (seq: number): string => `t-${seq}`;
