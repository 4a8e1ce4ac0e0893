import type { Redis } from 'ioredis';
import type { Commodity } from '../commodity/define.ts';
import { ema } from '../commodity/scorers.ts';
import { taskResultSchema, type TaskResult } from './jobs.ts';
import type { ScaleKeys } from './keys.ts';

/**
 * Store a result for a seq not applied yet: a seq at or below the cursor was applied (and its entry
 * deleted), so a late duplicate must not leave a stale entry behind. ARGV[3] names a counter to bump.
 */
const PUT_RESULT = `
local cursor = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= cursor then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[3], 1) end
return 1`;

/** Pre-ZSET deployments kept scored pending ids in a SET: convert it in place (members dated now). */
const UPGRADE_SCORED = `
if redis.call('TYPE', KEYS[1]).ok ~= 'set' then return 0 end
local m = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
for i = 1, #m do redis.call('ZADD', KEYS[1], ARGV[1], m[i]) end
return #m`;

/** Seqs per dispatched-bitmap segment (2^20 bits = 128 KiB). */
export const DISPATCHED_SEGMENT_SEQS = 1 << 20;

/** Results applied per drain transaction. */
const DRAIN_BATCH = 64;

export interface DrainContext {
  commodity: Commodity;
  alpha: number;
  /** Hotkeys of the current metagraph: a reward for anyone else is dropped (left since the query). */
  hotkeys: ReadonlySet<string>;
  /** The validator's own hotkey: never scored. */
  self: string;
}

export interface DrainOutcome {
  applied: number;
  skipped: number;
  /** Pending tasks whose rewards were applied in this drain (the caller removes them from the pending store). */
  completedPending: string[];
}

export interface ScaleCounters {
  /** Seqs handed out (tasks generated). */
  allocated: number;
  /** Seqs applied so far (the cursor). */
  cursor: number;
  rewarded: number;
  skipped: number;
  lost: number;
  /** Jobs that used up every attempt. */
  failed: number;
  neverDispatched: number;
}

/**
 * Scores, per-miner state and the result log of a split validator in Redis. Workers store a task's
 * result once (HSETNX on its seq); whoever drains applies results strictly in seq order inside a
 * WATCH/MULTI transaction on the cursor, so concurrent drains (any worker, the coordinator) never apply a
 * result twice and the aggregate matches the embedded validator applying the same tasks in order.
 * The drain runs the commodity's own aggregate in JS, so any aggregate works, not only an EMA in Lua.
 */
export class ScaleStore {
  private draining: Promise<DrainOutcome> | null = null;
  private drainAgain = false;

  /** `redis` for plain commands; `txn` is a dedicated connection (WATCH is per connection). */
  constructor(readonly redis: Redis, private readonly txn: Redis, readonly keys: ScaleKeys) {}

  async allocSeq(): Promise<number> {
    return this.redis.incr(this.keys.seq);
  }

  async nextRound(): Promise<number> {
    return this.redis.incr(this.keys.step);
  }

  async step(): Promise<number> {
    return Number((await this.redis.get(this.keys.step)) ?? 0);
  }

  /**
   * Marks that seq's job is in BullMQ: a seq with neither a job nor this bit was never sent to a miner.
   * One bitmap per 2^20 seqs (128 KiB), so the ones below the cursor can be dropped (trimDispatched):
   * a single bitmap would grow by a bit per task forever and refuse seqs past 2^32.
   */
  async markDispatched(seq: number): Promise<void> {
    await this.redis.setbit(...this.dispatchedBit(seq), 1);
  }

  async wasDispatched(seq: number): Promise<boolean> {
    return (await this.redis.getbit(...this.dispatchedBit(seq))) === 1;
  }

  /** The bitmap segment key and bit offset of a seq. */
  private dispatchedBit(seq: number): [string, number] {
    return [this.keys.dispatchedSegment(Math.floor(seq / DISPATCHED_SEGMENT_SEQS)), seq % DISPATCHED_SEGMENT_SEQS];
  }

  /**
   * Drop the bitmap segments wholly below the head of the log (cursor + 1, the only seq ever asked
   * about); the lowest live segment is kept in the counters hash. Returns the segments dropped.
   */
  async trimDispatched(): Promise<number> {
    const head = (await this.cursor()) + 1;
    const below = Math.floor(head / DISPATCHED_SEGMENT_SEQS);
    const floor = Number((await this.redis.hget(this.keys.counters, 'dispatchedFloor')) ?? 0);
    if (below <= floor) return 0;
    for (let s = floor; s < below; s += 256) {
      const batch = Array.from({ length: Math.min(256, below - s) }, (_, i) => this.keys.dispatchedSegment(s + i));
      await this.redis.del(...batch);
    }
    await this.redis.hset(this.keys.counters, 'dispatchedFloor', String(below));
    return below - floor;
  }

  /** Store a task's result; false when one is already stored (the job ran before: this run changes nothing). */
  async putResult(seq: number, result: TaskResult, counter = ''): Promise<boolean> {
    const k = this.keys;
    return (await this.redis.eval(PUT_RESULT, 3, k.cursor, k.results, k.counters, String(seq), JSON.stringify(result), counter)) === 1;
  }

  /** True once the seq has a result (stored or already applied). */
  async isDone(seq: number): Promise<boolean> {
    const [cursor, exists] = await Promise.all([this.redis.get(this.keys.cursor), this.redis.hexists(this.keys.results, String(seq))]);
    return seq <= Number(cursor ?? 0) || exists === 1;
  }

  async cursor(): Promise<number> {
    return Number((await this.redis.get(this.keys.cursor)) ?? 0);
  }

  async scores(): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.keys.scores);
    return new Map(Object.entries(raw).map(([hk, v]) => [hk, Number(v)] as const));
  }

  /** Per-miner state of `hotkeys` as stored (unparsed JSON values; missing = never written). */
  async minerStates(hotkeys: string[]): Promise<Record<string, unknown>> {
    if (hotkeys.length === 0) return {};
    const raw = await this.redis.hmget(this.keys.minerState, ...hotkeys);
    const out: Record<string, unknown> = {};
    hotkeys.forEach((hk, i) => {
      const v = raw[i];
      if (v !== null && v !== undefined) out[hk] = JSON.parse(v) as unknown;
    });
    return out;
  }

  async counters(): Promise<ScaleCounters> {
    const [allocated, cursor, c] = await Promise.all([this.redis.get(this.keys.seq), this.redis.get(this.keys.cursor), this.redis.hgetall(this.keys.counters)]);
    return {
      allocated: Number(allocated ?? 0),
      cursor: Number(cursor ?? 0),
      rewarded: Number(c.rewarded ?? 0),
      skipped: Number(c.skipped ?? 0),
      lost: Number(c.lost ?? 0),
      failed: Number(c.failed ?? 0),
      neverDispatched: Number(c.neverDispatched ?? 0),
    };
  }

  /** Apply every stored result that follows the cursor without a gap. Serialized per process; safe across processes. */
  drain(ctx: DrainContext): Promise<DrainOutcome> {
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    const run = async (): Promise<DrainOutcome> => {
      const total: DrainOutcome = { applied: 0, skipped: 0, completedPending: [] };
      for (;;) {
        this.drainAgain = false;
        const o = await this.drainOnce(ctx);
        total.applied += o.applied;
        total.skipped += o.skipped;
        total.completedPending.push(...o.completedPending);
        if (o.applied + o.skipped === 0 && !this.drainAgain) return total;
      }
    };
    this.draining = run().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainOnce(ctx: DrainContext): Promise<DrainOutcome> {
    const k = this.keys;
    for (let attempt = 0; ; attempt++) {
      await this.txn.watch(k.cursor);
      try {
        const cursor = Number((await this.txn.get(k.cursor)) ?? 0);
        const fields = Array.from({ length: DRAIN_BATCH }, (_, i) => String(cursor + 1 + i));
        const raw = await this.txn.hmget(k.results, ...fields);
        const results: TaskResult[] = [];
        for (const r of raw) {
          if (r === null) break;
          const parsed = taskResultSchema.safeParse(JSON.parse(r));
          // a mangled entry must not block the log forever: it counts as skipped
          results.push(parsed.success ? parsed.data : { kind: 'skip', taskId: '?', reason: 'invalid stored result' });
        }
        if (results.length === 0) {
          await this.txn.unwatch();
          return { applied: 0, skipped: 0, completedPending: [] };
        }
        const touched = [...new Set(results.flatMap((r) => (r.kind === 'rewards' ? [...Object.keys(r.rewards), ...Object.keys(r.state)] : [])))];
        const pendingIds = results.flatMap((r) => (r.kind === 'rewards' && r.pendingId ? [r.pendingId] : []));
        const [scoreRaw, stateRaw, alreadyScored] = await Promise.all([
          touched.length ? this.txn.hmget(k.scores, ...touched) : Promise.resolve([] as (string | null)[]),
          touched.length ? this.txn.hmget(k.minerState, ...touched) : Promise.resolve([] as (string | null)[]),
          pendingIds.length ? this.txn.zmscore(k.scoredPending, ...pendingIds) : Promise.resolve([] as (string | null)[]),
        ]);
        const scores = new Map<string, number>();
        const states = new Map<string, unknown>();
        touched.forEach((hk, i) => {
          if (scoreRaw[i] != null) scores.set(hk, Number(scoreRaw[i]));
          const st = stateRaw[i];
          if (st != null) states.set(hk, JSON.parse(st) as unknown);
        });
        const scoredBefore = new Set(pendingIds.filter((_, i) => alreadyScored[i] != null));
        const changedScores = new Map<string, number>();
        const changedStates = new Map<string, unknown>();
        const counts = new Map<string, number>();
        let applied = 0;
        let skipped = 0;
        const completedPending: string[] = [];
        for (const r of results) {
          if (r.kind === 'skip' || (r.pendingId && scoredBefore.has(r.pendingId))) {
            skipped++;
            continue;
          }
          applied++;
          if (r.pendingId) {
            scoredBefore.add(r.pendingId);
            completedPending.push(r.pendingId);
          }
          for (const [hk, value] of Object.entries(r.state)) {
            if (!ctx.hotkeys.has(hk)) continue;
            const v = ctx.commodity.minerState.schema.safeParse(value);
            if (v.success) {
              states.set(hk, v.data);
              changedStates.set(hk, v.data);
            }
          }
          for (const [hk, reward] of Object.entries(r.rewards)) {
            // as the embedded validator: a miner that left, our own hotkey, or a NaN reward changes nothing
            if (!ctx.hotkeys.has(hk) || hk === ctx.self || reward === null || !Number.isFinite(reward)) continue;
            const previous = scores.get(hk);
            const state = states.has(hk) ? states.get(hk) : ctx.commodity.minerState.initial();
            const next = ctx.commodity.aggregate ? ctx.commodity.aggregate({ previous, reward, hotkey: hk, state, alpha: ctx.alpha }) : ema(previous, reward, ctx.alpha);
            if (!Number.isFinite(next)) continue;
            scores.set(hk, next);
            changedScores.set(hk, next);
            counts.set(hk, (counts.get(hk) ?? 0) + 1);
          }
        }
        const m = this.txn.multi();
        if (changedScores.size) m.hset(k.scores, Object.fromEntries([...changedScores].map(([hk, v]) => [hk, String(v)])));
        if (changedStates.size) m.hset(k.minerState, Object.fromEntries([...changedStates].map(([hk, v]) => [hk, JSON.stringify(v)])));
        for (const [hk, n] of counts) m.hincrby(k.counts, hk, n);
        m.hdel(k.results, ...fields.slice(0, results.length));
        m.set(k.cursor, String(cursor + results.length));
        if (applied) m.hincrby(k.counters, 'rewarded', applied);
        if (skipped) m.hincrby(k.counters, 'skipped', skipped);
        // dated, so trimScoredPending can bound the set
        if (completedPending.length) m.zadd(k.scoredPending, ...completedPending.flatMap((id) => [Date.now(), id]));
        for (const r of results) if (r.pendingId) m.del(k.dispatching(r.pendingId));
        const done = await m.exec();
        if (done !== null) return { applied, skipped, completedPending };
        // another process drained first: read again
      } catch (e) {
        await this.txn.unwatch().catch(() => {});
        throw e;
      }
      if (attempt > 1000) throw new Error('drain kept conflicting');
    }
  }

  /** True when this pending task's rewards were applied (a due copy of it must not be applied again). */
  async wasScoredPending(id: string): Promise<boolean> {
    return (await this.redis.zscore(this.keys.scoredPending, id)) !== null;
  }

  /** Convert a SET written by an earlier version to the dated ZSET; returns the ids converted. */
  async upgradeScoredPending(): Promise<number> {
    return Number(await this.redis.eval(UPGRADE_SCORED, 1, this.keys.scoredPending, String(Date.now())));
  }

  /**
   * Bound the scored-pending set: forget ids applied before `before` (unix ms) that `stillPending` says are
   * gone from the pending store. An id still pending (the coordinator died between applying it and removing
   * it) is kept whatever its age, so it is still recognised when it comes due again. At most `limit` per call.
   */
  async trimScoredPending(before: number, stillPending: (id: string) => Promise<boolean>, limit = 1000): Promise<{ removed: number; kept: number }> {
    const old = await this.redis.zrangebyscore(this.keys.scoredPending, '-inf', `(${before}`, 'LIMIT', 0, limit);
    const gone: string[] = [];
    for (const id of old) if (!(await stillPending(id))) gone.push(id);
    if (gone.length) await this.redis.zrem(this.keys.scoredPending, ...gone);
    return { removed: gone.length, kept: old.length - gone.length };
  }

  /** Record why a seq has no job result (coordinator only, for the head of the log). */
  async skipHead(seq: number, reason: 'failed' | 'lost' | 'never dispatched'): Promise<boolean> {
    return this.putResult(seq, { kind: 'skip', taskId: `seq ${seq}`, reason }, reason === 'failed' ? 'failed' : reason === 'lost' ? 'lost' : 'neverDispatched');
  }

  /** Drop scores and state of hotkeys no longer in the metagraph (a recycled uid starts from zero). */
  async forgetHotkeys(current: ReadonlySet<string>): Promise<string[]> {
    const k = this.keys;
    for (;;) {
      await this.txn.watch(k.cursor);
      const [s, st] = await Promise.all([this.txn.hkeys(k.scores), this.txn.hkeys(k.minerState)]);
      const gone = [...new Set([...s, ...st])].filter((hk) => !current.has(hk));
      if (gone.length === 0) {
        await this.txn.unwatch();
        return [];
      }
      const m = this.txn.multi().hdel(k.scores, ...gone).hdel(k.minerState, ...gone).hdel(k.counts, ...gone);
      // touching the cursor makes any concurrent drain (which read the old scores) retry
      m.incrby(k.cursor, 0);
      if ((await m.exec()) !== null) return gone;
    }
  }
}
