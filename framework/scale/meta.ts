import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PendingStore } from '../commodity/pending.ts';
import { FilePendingStore } from '../commodity/pending.ts';
import { loadValidatorState, validatorStateSchema, type StoredCommit } from '../validator/state.ts';
import type { ScaleKeys } from './keys.ts';

const metaSchema = z.object({
  secret: z.string().regex(/^0x[0-9a-f]{64}$/),
  alpha: z.coerce.number().gt(0).lte(1),
  lastWeightsBlock: z.coerce.number().int().nonnegative().default(0),
  commits: z.string().default('[]'),
  importedFrom: z.string().optional(),
});
export interface ScaleMeta {
  secret: string;
  alpha: number;
  lastWeightsBlock: number;
  commits: StoredCommit[];
  importedFrom?: string;
}

const commitsSchema = validatorStateSchema.shape.commits;

/** The validator's shared parameters, or null before a coordinator initialised them. */
export async function readMeta(redis: Redis, keys: ScaleKeys): Promise<ScaleMeta | null> {
  const raw = await redis.hgetall(keys.meta);
  if (!raw.secret) return null;
  const m = metaSchema.parse(raw);
  const commits = commitsSchema.safeParse(JSON.parse(m.commits));
  return { secret: m.secret, alpha: m.alpha, lastWeightsBlock: m.lastWeightsBlock, commits: commits.success ? commits.data : [], importedFrom: m.importedFrom };
}

export async function writeWeightsMeta(redis: Redis, keys: ScaleKeys, lastWeightsBlock: number, commits: StoredCommit[]): Promise<void> {
  await redis.hset(keys.meta, { lastWeightsBlock: String(lastWeightsBlock), commits: JSON.stringify(commits) });
}

export interface MigrationReport {
  scores: number;
  pending: number;
  step: number;
  from: string;
}

/**
 * First coordinator start for this hotkey in this Redis: take over an embedded validator's state file
 * (scores, per-miner state, step, task secret, weight bookkeeping, pending delayed tasks) so moving from
 * one process to the split layout loses nothing. Runs once: afterwards Redis is the source of truth.
 * Pending tasks are copied first (idempotent by task id), then everything else lands in one MULTI.
 */
export async function initMeta(args: {
  redis: Redis;
  keys: ScaleKeys;
  netuid: number;
  hotkey: string;
  alpha: number;
  freshSecret: string;
  statePath: string | undefined;
  pending: PendingStore;
  warn: (msg: string) => void;
}): Promise<{ meta: ScaleMeta; migrated: MigrationReport | null }> {
  const existing = await readMeta(args.redis, args.keys);
  const file = args.statePath ? join(args.statePath, 'validator.json') : null;
  if (existing) {
    if (existing.alpha !== args.alpha) {
      await args.redis.hset(args.keys.meta, 'alpha', String(args.alpha));
      existing.alpha = args.alpha;
    }
    return { meta: existing, migrated: null };
  }
  const loaded = file && existsSync(file) ? await loadValidatorState(file, args.netuid, args.hotkey) : { state: null };
  if ('warning' in loaded && loaded.warning) args.warn(loaded.warning);
  const s = loaded.state;
  let pendingCount = 0;
  if (s && args.statePath && existsSync(join(args.statePath, 'pending.json'))) {
    const fileStore = await FilePendingStore.open(join(args.statePath, 'pending.json'), args.warn);
    for (const t of await fileStore.due(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) {
      await args.pending.add(t);
      pendingCount++;
    }
    await fileStore.close();
  }
  const k = args.keys;
  const m = args.redis.multi();
  if (s) {
    if (Object.keys(s.scores).length) m.hset(k.scores, Object.fromEntries(Object.entries(s.scores).map(([hk, v]) => [hk, String(v)])));
    if (Object.keys(s.minerState).length) m.hset(k.minerState, Object.fromEntries(Object.entries(s.minerState).map(([hk, v]) => [hk, JSON.stringify(v)])));
    if (s.scoredTaskIds.length) m.zadd(k.scoredPending, ...s.scoredTaskIds.flatMap((id) => [Date.now(), id]));
    m.set(k.step, String(s.step));
  }
  const meta: Record<string, string> = {
    secret: s?.secret ?? args.freshSecret,
    alpha: String(args.alpha),
    lastWeightsBlock: String(s?.lastWeightsBlock ?? 0),
    commits: JSON.stringify(s?.commits ?? []),
  };
  if (s && file) meta.importedFrom = file;
  m.hset(k.meta, meta);
  await m.exec();
  const after = await readMeta(args.redis, k);
  if (!after) throw new Error('Redis did not keep the validator metadata');
  return { meta: after, migrated: s && file ? { scores: Object.keys(s.scores).length, pending: pendingCount, step: s.step, from: file } : null };
}
