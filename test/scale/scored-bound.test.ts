import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BullPendingStore } from '../../framework/commodity/pending-bullmq.ts';
import type { Commodity } from '../../framework/commodity/index.ts';
import { scaleKeys, ScaleStore, DISPATCHED_SEGMENT_SEQS } from '../../framework/scale/index.ts';
import { requireRedisServer, TestRedis } from './redis.ts';

const available = requireRedisServer('split validator: bounded scored-pending set');

describe.skipIf(!available)('the scored delayed-task set in Redis stays bounded', () => {
  let redis: TestRedis;
  let r: Redis;
  let pending: BullPendingStore;
  const keys = scaleKeys(7, 0, '5Validator');
  let commodity: Commodity;

  beforeAll(async () => {
    redis = await TestRedis.start();
    r = new Redis(redis.url);
    pending = new BullPendingStore({ connection: r, queueName: keys.pendingQueue });
    commodity = (await import('./fixtures/hash-commodity.ts')).default as unknown as Commodity;
  });
  afterAll(async () => {
    await pending?.close();
    r?.disconnect();
    await redis?.down();
  });

  const task = (id: string) => ({ id, commodity: 'ScaleHashSynapse', round: 1, createdBlock: 1, createdAt: Date.now(), data: { round: 1 }, resolveAt: { block: 1 }, attempts: 0, answers: [] });

  it('applied ids are dated; old ones gone from the pending store are forgotten, a still-pending one is kept; a duplicate is still refused', async () => {
    const store = new ScaleStore(r, r, keys);
    // 2000 delayed tasks applied through the real drain (seq order, one result each)
    const N = 2000;
    const ids = Array.from({ length: N }, (_, i) => `t${i}`);
    await r.set(keys.seq, String(N));
    for (let i = 0; i < N; i++) await store.putResult(i + 1, { kind: 'rewards', taskId: ids[i]!, rewards: {}, state: {}, pendingId: ids[i]! });
    const ctx = { commodity, alpha: 0.1, hotkeys: new Set<string>(), self: '5Validator' };
    expect((await store.drain(ctx)).applied).toBe(N);
    expect(await r.zcard(keys.scoredPending)).toBe(N);
    const t = Number(await r.zscore(keys.scoredPending, 't0'));
    expect(Math.abs(t - Date.now())).toBeLessThan(60_000);

    // age them: all but the last 10 were applied two days ago; t5 is still in the pending store (the
    // coordinator died between applying it and removing it)
    await r.zadd(keys.scoredPending, ...ids.slice(0, N - 10).flatMap((id) => [Date.now() - 2 * 86_400_000, id]));
    await pending.add(task('t5'));
    let removed = 0;
    for (;;) {
      const o = await store.trimScoredPending(Date.now() - 86_400_000, (id) => pending.has(id), 500);
      removed += o.removed;
      if (o.removed === 0) break;
    }
    const left = await r.zrange(keys.scoredPending, 0, -1);
    console.log('scored-pending ids: applied', N, 'forgotten', removed, 'kept', left.length);
    expect(removed).toBe(N - 11);
    expect(left.sort()).toEqual(['t5', ...ids.slice(N - 10)].sort());
    expect(await store.wasScoredPending('t5')).toBe(true);

    // t5 comes due again: the drain refuses to apply it twice
    await r.set(keys.seq, String(N + 1));
    await store.putResult(N + 1, { kind: 'rewards', taskId: 't5', rewards: {}, state: {}, pendingId: 't5' });
    expect(await store.drain(ctx)).toMatchObject({ applied: 0, skipped: 1 });
  });

  it('a SET left by an earlier version is converted in place', async () => {
    const k = scaleKeys(8, 0, '5Validator');
    await r.sadd(k.scoredPending, 'a', 'b');
    const store = new ScaleStore(r, r, k);
    expect(await store.upgradeScoredPending()).toBe(2);
    expect(await r.type(k.scoredPending)).toBe('zset');
    expect(await store.wasScoredPending('a')).toBe(true);
    expect(await store.upgradeScoredPending()).toBe(0);
  });

  it('dispatched-seq bitmaps: one segment per 2^20 seqs, those wholly below the cursor dropped, the head still answered', async () => {
    const k = scaleKeys(9, 0, '5Validator');
    const store = new ScaleStore(r, r, k);
    const seqs = [1, DISPATCHED_SEGMENT_SEQS - 1, DISPATCHED_SEGMENT_SEQS, 2 * DISPATCHED_SEGMENT_SEQS + 5, 3 * DISPATCHED_SEGMENT_SEQS + 7];
    for (const q of seqs) await store.markDispatched(q);
    for (const q of seqs) expect(await store.wasDispatched(q)).toBe(true);
    expect(await store.wasDispatched(2)).toBe(false);
    // each segment is at most 128 KiB, whatever the seq (one bitmap would be 48 MiB at seq 3·2^20·8)
    for (let s = 0; s < 4; s++) expect(await r.strlen(k.dispatchedSegment(s))).toBeLessThanOrEqual(DISPATCHED_SEGMENT_SEQS / 8);
    expect(await store.trimDispatched()).toBe(0); // cursor 0: nothing is below the head
    await r.set(k.cursor, String(2 * DISPATCHED_SEGMENT_SEQS + 4)); // head = 2·2^20 + 5, in segment 2
    expect(await store.trimDispatched()).toBe(2);
    const live = [];
    for (let s = 0; s < 4; s++) live.push(await r.exists(k.dispatchedSegment(s)));
    console.log('dispatched bitmap segments live after trimming at the head', 2 * DISPATCHED_SEGMENT_SEQS + 5, ':', live);
    expect(live).toEqual([0, 0, 1, 1]);
    expect(await store.wasDispatched(2 * DISPATCHED_SEGMENT_SEQS + 5)).toBe(true);
    expect(await store.trimDispatched()).toBe(0); // idempotent
    await r.set(k.cursor, String(4 * DISPATCHED_SEGMENT_SEQS));
    expect(await store.trimDispatched()).toBe(2);
    expect(await r.exists(k.dispatchedSegment(2), k.dispatchedSegment(3))).toBe(0);
  });
});
