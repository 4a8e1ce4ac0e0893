import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineCommodity, type MinerSide, type Rewards } from '../../framework/commodity/define.ts';
import { startMiner } from '../../framework/miner/index.ts';
import { startValidator } from '../../framework/validator/index.ts';
import { makeNet, silent, waitFor } from './support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const CHUNK = 16;

// One synapse carries both operations: store a blob, or prove a chunk of a stored one.
const query = z.object({
  op: z.enum(['store', 'challenge']),
  objectId: z.string(),
  blob: z.string().optional(),
  chunk: z.number().int().nonnegative().optional(),
});
const response = z.object({ ack: z.string().nullish(), chunkData: z.string().nullish() });
type Q = z.infer<typeof query>;

const record = z.object({ objects: z.array(z.object({ id: z.string(), chunkHashes: z.array(z.string()) })) });
const taskData = z.object({ op: z.enum(['store', 'challenge']), objectId: z.string(), chunkHashes: z.array(z.string()).optional() });

const storage = defineCommodity({
  name: 'StorageSynapse',
  query,
  response,
  timeoutMs: 1000,
  taskData,
  minerState: { schema: record, initial: () => ({ objects: [] }) },
  generate(ctx) {
    // store a fresh blob on up to 2 miners; the validator keeps the chunk digests (never the miner's word)
    const blob = ctx.rng.hex(64).slice(2);
    const objectId = `o${ctx.round}`;
    const chunkHashes = Array.from({ length: blob.length / CHUNK }, (_, i) => sha(blob.slice(i * CHUNK, (i + 1) * CHUNK)));
    const store = { query: { op: 'store' as const, objectId, blob }, data: { op: 'store' as const, objectId, chunkHashes }, uids: ctx.sample(2) };
    // challenge every miner holding something: a per-target query for one of *its* objects, chunk chosen by the seeded rng
    const holders = ctx.metagraph.hotkeys.map((hk, uid) => ({ hk, uid })).filter(({ hk }) => ctx.state.get(hk).objects.length > 0);
    if (holders.length === 0) return store;
    const picks = new Map(holders.map(({ hk }) => {
      const objs = ctx.state.get(hk).objects;
      const o = objs[ctx.rng.int(0, objs.length - 1)];
      return [hk, { id: o.id, chunk: ctx.rng.int(0, o.chunkHashes.length - 1) }] as const;
    }));
    const challenge = {
      query: (t: { hotkey: string }) => ({ op: 'challenge' as const, objectId: picks.get(t.hotkey)!.id, chunk: picks.get(t.hotkey)!.chunk }),
      data: { op: 'challenge' as const, objectId: '*' },
      uids: holders.map((h) => h.uid),
    };
    return [store, challenge];
  },
  score({ task, answers, state }) {
    const out: Rewards = {};
    for (const a of answers) {
      if (task.data.op === 'store') {
        // an ack stores the record; storing itself earns nothing, proofs do
        if (a.ok && a.response?.ack === sha(a.query.blob ?? '')) {
          state.update(a.hotkey, (r) => ({ objects: [...r.objects, { id: a.query.objectId, chunkHashes: task.data.chunkHashes ?? [] }] }));
        }
        continue;
      }
      const obj = state.get(a.hotkey).objects.find((o) => o.id === a.query.objectId);
      const expected = obj?.chunkHashes[a.query.chunk ?? -1];
      out[a.hotkey] = a.ok && expected !== undefined && sha(a.response?.chunkData ?? '') === expected ? 1 : 0;
    }
    return out;
  },
});

function storer(keeps: boolean): MinerSide<Q, z.infer<typeof response>> {
  const disk = new Map<string, string>();
  return {
    handle(q) {
      if (q.op === 'store') {
        if (keeps) disk.set(q.objectId, q.blob ?? '');
        return { ack: sha(q.blob ?? '') }; // the dropper acks but throws the data away
      }
      const blob = disk.get(q.objectId);
      const c = q.chunk ?? 0;
      return { chunkData: blob ? blob.slice(c * CHUNK, (c + 1) * CHUNK) : 'lost' };
    },
  };
}

describe('storage-style commodity (store now, challenge later, validator-held digests)', () => {
  it('rewards miners that keep data over miners that only ack', async () => {
    const net = await makeNet({ miners: 2, tag: 'storage', hyper: { weightsSetRateLimit: 1000 } });
    cleanups.push(() => net.chain.close());
    for (const [i, keeps] of [true, false].entries()) {
      const m = await startMiner({
        chain: net.chain, netuid: net.netuid, hotkey: net.minerHotkeys[i], commodity: storage, miner: storer(keeps),
        axon: { host: '127.0.0.1', port: 0, externalIp: '127.0.0.1' }, logger: silent,
      });
      cleanups.push(() => m.stop());
    }
    const v = await startValidator({ chain: net.chain, netuid: net.netuid, hotkey: net.validator, commodity: storage, statePath: net.dir, options: { roundIntervalMs: 50, alpha: 0.3, logger: silent } });
    cleanups.push(() => v.stop());
    cleanups.push(net.drive(50));
    const [keeper, dropper] = net.minerHotkeys.map((k) => k.ss58Address);
    await waitFor('challenges scored', () => (v.state.scores()[keeper] ?? 0) > 0.5 && v.state.step > 5);
    expect(v.state.scores()[dropper]).toBe(0);
  });
});
