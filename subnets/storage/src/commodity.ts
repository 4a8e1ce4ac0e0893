/**
 * Decentralized storage with sound proofs — the one file to read. Users put objects through the
 * validator (the gateway); the validator erasure-codes them (k + m Reed–Solomon shards), seals every
 * shard for its holder (per-replica binding), keeps the hash and Merkle root of exactly those bytes in
 * SQLite, and places shards on distinct miners. Each round it then:
 *   1. forgets holders that left the metagraph (their shards are lost; a recycled uid inherits nothing),
 *   2. stores a small random probe object now and then, so miners without user data are measured too,
 *   3. repairs objects with lost shards (any k rebuild, the missing ones are re-sealed for new holders),
 *   4. challenges every miner that has a shard due: chunk indices from a PRF over the block hash and the
 *      validator secret; the miner must return the chunk BYTES and their Merkle paths within a timeout
 *      derived from the expected bandwidth; they are checked against the validator-held root,
 *   5. now and then retrieves one whole shard and checks its hash,
 * and scores miners by a Beta reputation of those outcomes × integrity (share of acknowledged shards
 * not lost) × latency × verified volume (scoring.ts).
 * Challenge schedules live in the database, so pending challenges survive validator restarts.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defineCommodity, eligibleMiners, isServing, normalize, type Rewards, type TaskSpec } from '../../../framework/commodity/index.ts';
import type { Gateway } from './gateway.ts';
import { chunkCount, verifyChunk } from './merkle.ts';
import { honestMiner } from './miner.ts';
import { challengeIndices } from './prf.ts';
import { longestStallMs, watchStalls } from './stall.ts';
import { HASH_FIELDS, SYNAPSE_NAME, storageQuery, storageResponse, type StorageQuery } from './protocol.ts';
import { minerRecordSchema, minerScore, newRecord, recordLoss, recordOutcome, reputation } from './scoring.ts';
import type { ShardStore } from './shard-store.ts';

export interface StorageCommodityOptions {
  /** Validator side: the gateway (metadata DB, dendrites). Without it the commodity only serves miners. */
  gateway?: Gateway;
  /** Miner side: where the honest handler keeps shards. */
  store?: ShardStore;
  /** Chunks per challenge (c). */
  chunksPerChallenge?: number;
  /** Store a probe object every N rounds (0 = never). */
  probeEveryRounds?: number;
  probeBytes?: number;
  /** Probes kept at once; the oldest is removed beyond this. */
  maxProbes?: number;
  /** A whole-shard retrieval check every N rounds (0 = never). */
  retrievalEveryRounds?: number;
  /** Degraded objects repaired per round. */
  repairPerRound?: number;
  /** Failed proofs in a row before a shard is declared lost. */
  maxFails?: number;
  /** Due shards challenged per miner per round (each its own task). */
  challengesPerRound?: number;
  /** A timeout is not held against a miner if this process stalled longer than this meanwhile (ms). */
  stallToleranceMs?: number;
  log?: Logger;
}

const challengeData = z.object({
  kind: z.literal('challenge'),
  timeoutMs: z.number().positive(),
  sentAt: z.number(),
  items: z.array(z.object({ hotkey: z.string(), shard: z.number().int(), indices: z.array(z.number().int().nonnegative()) })),
});
const retrievalData = z.object({
  kind: z.literal('retrieval'),
  timeoutMs: z.number().positive(),
  sentAt: z.number(),
  items: z.array(z.object({ hotkey: z.string(), shard: z.number().int() })),
});
export const storageTaskData = z.discriminatedUnion('kind', [challengeData, retrievalData]);
type TaskData = z.infer<typeof storageTaskData>;

export function createStorageCommodity(opts: StorageCommodityOptions = {}) {
  const gw = opts.gateway;
  const c = opts.chunksPerChallenge ?? 8;
  const probeEvery = opts.probeEveryRounds ?? 4;
  const probeBytes = opts.probeBytes ?? 256 * 1024;
  const maxProbes = opts.maxProbes ?? 64;
  const retrievalEvery = opts.retrievalEveryRounds ?? 5;
  const repairPerRound = opts.repairPerRound ?? 2;
  const maxFails = opts.maxFails ?? 2;
  const perRound = opts.challengesPerRound ?? 2;
  const stallToleranceMs = opts.stallToleranceMs ?? 250;

  // A miner with challenges or a retrieval in flight is not asked again until they are scored: a miner
  // that sits on every request until its timeout would otherwise be asked again and again, and the same
  // shard challenged twice at once. Entries expire in case a task is never scored.
  const inFlight = new Map<string, { n: number; until: number }>();
  const busy = (hotkey: string, now: number) => (inFlight.get(hotkey)?.until ?? 0) > now;
  const hold = (hotkey: string, until: number) => {
    const e = inFlight.get(hotkey);
    inFlight.set(hotkey, { n: (e?.n ?? 0) + 1, until: Math.max(until, e?.until ?? 0) });
  };
  const release = (hotkey: string) => {
    const e = inFlight.get(hotkey);
    if (e && e.n > 1) e.n--;
    else inFlight.delete(hotkey);
  };
  watchStalls();
  let holdings: { block: number; volume: Map<string, number>; holders: Map<string, { acked: number; lost: number }> } = { block: -1, volume: new Map(), holders: new Map() };

  return defineCommodity({
    name: SYNAPSE_NAME,
    query: storageQuery,
    response: storageResponse,
    requiredHashFields: HASH_FIELDS,
    timeoutMs: 10_000,
    version: 1,
    taskData: storageTaskData,
    minerState: { schema: minerRecordSchema, initial: newRecord },
    // scores are recomputed from each miner's record (scoring.ts), not smoothed a second time
    aggregate: ({ reward }) => reward,
    toWeights: normalize(),

    async generate(ctx) {
      if (!gw) return null;
      const { db } = gw;
      const mg = ctx.metagraph;
      gw.observe(mg);
      const lost = db.loseHoldersExcept(new Set(mg.hotkeys));
      if (lost > 0) opts.log?.info({ lost }, 'holders left the subnet; their shards go to repair');
      gw.reputation = new Map(mg.hotkeys.map((hk) => [hk, reputation(ctx.state.get(hk))]));

      if (probeEvery > 0 && ctx.round % probeEvery === 0) {
        await gw.put(ctx.rng.bytes(probeBytes), `probe-${ctx.round}`, 'probe').catch((e: Error) => opts.log?.warn({ err: e.message }, 'probe put failed'));
        const probes = gw.list('probe');
        for (const p of probes.slice(0, Math.max(0, probes.length - maxProbes))) await gw.remove(p.id, 'probe');
      }
      if (repairPerRound > 0) await gw.repair(repairPerRound);

      const miners = eligibleMiners(mg, { exclude: [ctx.validatorHotkey] }).filter((u) => isServing(mg.axons[u]));
      const prfKey = ctx.rng.fork('challenge-prf').bytes(32);
      const tasks: Array<TaskSpec<StorageQuery, TaskData>> = [];

      // One task per challenged shard, so each answer is scored (and its miner freed) when it arrives,
      // and a miner that holds its answers until the timeout delays only its own tasks.
      for (const uid of miners) {
        const hotkey = mg.hotkeys[uid];
        if (busy(hotkey, ctx.now)) continue;
        for (const s of db.dueShards(hotkey, ctx.block.number, perRound)) {
          const obj = db.object(s.objectId);
          if (!obj) continue;
          const shardId = s.shardHash.toString('hex');
          const indices = challengeIndices(prfKey, ctx.block.hash, shardId, chunkCount(s.size, obj.chunkSize), c);
          // the answer is c chunks (base64) plus paths: it has to arrive at the expected bandwidth
          const timeoutMs = gw.transferTimeoutMs(Math.ceil((c * obj.chunkSize * 4) / 3) + c * 40 * 66);
          hold(hotkey, ctx.now + timeoutMs + 10_000);
          tasks.push({
            uids: [uid],
            timeoutMs,
            query: { op: 'challenge', shardId, chunkSize: obj.chunkSize, indices },
            data: { kind: 'challenge', timeoutMs, sentAt: ctx.now, items: [{ hotkey, shard: s.id, indices }] },
          });
        }
      }

      if (retrievalEvery > 0 && ctx.round % retrievalEvery === 0) {
        const holders = miners.filter((u) => !busy(mg.hotkeys[u], ctx.now) && db.liveCount(mg.hotkeys[u]) > 0);
        if (holders.length > 0) {
          const uid = ctx.rng.pick(holders);
          const s = db.someShard(mg.hotkeys[uid], (n) => ctx.rng.int(0, n - 1));
          if (s) {
            const timeoutMs = gw.transferTimeoutMs(Math.ceil((s.size * 4) / 3));
            hold(mg.hotkeys[uid], ctx.now + timeoutMs + 10_000);
            tasks.push({
              uids: [uid],
              timeoutMs,
              query: { op: 'retrieve', shardId: s.shardHash.toString('hex') },
              data: { kind: 'retrieval', timeoutMs, sentAt: ctx.now, items: [{ hotkey: mg.hotkeys[uid], shard: s.id }] },
            });
          }
        }
      }
      return tasks;
    },

    score({ task, answers, block, metagraph, state }) {
      if (!gw) return {};
      const { db } = gw;
      const data = task.data;
      for (const i of data.items) release(i.hotkey);
      // A late answer while this process itself was stalled (event loop blocked, descheduled on a loaded
      // machine) may be our fault, not the miner's: such a task is not scored. Wrong bytes are always scored.
      const stalled = longestStallMs(data.sentAt, data.sentAt + data.timeoutMs) > stallToleranceMs;
      if (stalled && answers.some((a) => !a.ok || a.latencyMs > data.timeoutMs)) {
        opts.log?.warn({ task: task.id, stallMs: longestStallMs(data.sentAt, data.sentAt + data.timeoutMs) }, 'validator stalled while waiting; a late answer is not held against the miner');
        return {};
      }
      for (const a of answers) {
        const item = data.items.find((i) => i.hotkey === a.hotkey);
        const s = item && db.shard(item.shard);
        // deleted or already replaced meanwhile: not this miner's fault, not scored
        if (!item || !s || s.state !== 'live' || s.hotkey !== a.hotkey) continue;
        const r = a.response;
        let pass = false;
        if (a.ok && r && a.latencyMs <= data.timeoutMs) {
          if (data.kind === 'retrieval') {
            const bytes = typeof r.shard === 'string' ? Buffer.from(r.shard, 'base64') : null;
            pass = bytes !== null && bytes.length === s.size && createHash('sha256').update(bytes).digest().equals(s.shardHash);
          } else {
            const obj = db.object(s.objectId);
            const indices = data.items.find((i) => i.hotkey === a.hotkey)?.indices ?? [];
            pass =
              obj !== null &&
              r.chunks?.length === indices.length &&
              r.proofs?.length === indices.length &&
              indices.every((idx, j) => verifyChunk(s.root, s.size, obj.chunkSize, idx, Buffer.from(r.chunks![j], 'base64'), r.proofs![j].map((h) => Buffer.from(h, 'hex'))));
          }
        }
        state.update(a.hotkey, (rec) => recordOutcome(rec, data.kind, pass, a.latencyMs / data.timeoutMs));
        const every = gw.params.challengeEveryBlocks;
        if (pass) db.recordPass(s.id, block.number, block.number + Math.ceil(every / 2) + randomInt(every + 1));
        else if (db.recordFail(s.id, block.number + 1, maxFails) === 'lost') state.update(a.hotkey, recordLoss);
      }
      // the holdings scan is per block, not per task (one task per challenged shard)
      if (holdings.block !== block.number) holdings = { block: block.number, volume: db.verifiedBytes(), holders: db.holderRecords() };
      const { volume, holders } = holdings;
      const maxVolume = Math.max(0, ...volume.values());
      const rewards: Rewards = {};
      for (const hk of metagraph.hotkeys) if (state.has(hk) || volume.has(hk)) rewards[hk] = minerScore(state.get(hk), volume.get(hk) ?? 0, maxVolume, holders.get(hk));
      return rewards;
    },

    miner: opts.store ? honestMiner(opts.store) : undefined,
  });
}

export type StorageCommodity = ReturnType<typeof createStorageCommodity>;
