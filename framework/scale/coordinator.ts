import { randomBytes, randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import { loggerFromEnv } from '../util/log.ts';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { Registry } from 'prom-client';
import type { BlockInfo, Metagraph, SubnetHyperparameters } from '../chain/types.ts';
import type { TaskSpec } from '../commodity/define.ts';
import { MinerStateStore } from '../commodity/miner-state.ts';
import { BullPendingStore } from '../commodity/pending-bullmq.ts';
import { SeededRng } from '../commodity/rng.ts';
import { isServing, sampleMiners } from '../commodity/sampler.ts';
import { UserError } from '../errors.ts';
import type { Req } from '../validator/answers.ts';
import { revealDueCommits, submitWeights, type WeightOutcome } from '../validator/commit-reveal.ts';
import { createValidatorMetrics } from '../validator/metrics.ts';
import { computeEmitWeights } from '../validator/weights.ts';
import { cryptoReady } from '../wallet/keypair.ts';
import { closeRedis, openRedis, waitReady, type ScaleProcessParams } from './connection.ts';
import { jobId, type DueJob, type QueryJob } from './jobs.ts';
import { scaleKeys } from './keys.ts';
import { Lease } from './lease.ts';
import { initMeta, writeWeightsMeta, type ScaleMeta } from './meta.ts';
import { createQueueMetrics } from './metrics.ts';
import { ScaleStore, type ScaleCounters } from './store.ts';
import { Sleepers } from '../util/sleepers.ts';

const DEFAULT_SCORED_RETENTION_MS = 24 * 3_600_000;
/** The scored-pending set is trimmed this often (a cheap range read when nothing is old). */
const TRIM_EVERY_MS = 60_000;

export interface CoordinatorOptions {
  alpha?: number;
  resyncEveryBlocks?: number;
  /** Minimum ms between two rounds (default 1000); backpressure may space them further. */
  roundIntervalMs?: number;
  /** Bounded queue: no new round while this many jobs wait or run (default 64). */
  maxQueued?: number;
  /** BullMQ attempts per job before it is given up (default 20: a kill storm must not exhaust them). */
  jobAttempts?: number;
  /** Coordinator lease TTL (default 10 000 ms): a dead coordinator is replaced after at most this. */
  leaseMs?: number;
  disableWeights?: boolean;
  weightsSemantics?: 'v10' | 'v11';
  weightsEveryBlocks?: number;
  versionKey?: bigint;
  /**
   * How long the id of an applied delayed task is remembered (default 24 h), so a copy re-parked by a retried
   * job is not applied twice; ids still in the pending store are kept regardless. Bounds that set in Redis.
   */
  scoredRetentionMs?: number;
  /** Where an embedded validator kept its state: imported once into Redis at the first start. */
  statePath?: string;
  logger?: Logger;
  metricsRegistry?: Registry;
}

export interface StartCoordinatorParams extends ScaleProcessParams {
  options?: CoordinatorOptions;
}

export interface CoordinatorHandle {
  stop(): Promise<void>;
  metrics: Registry;
  scores(): Promise<Record<string, number>>;
  counters(): Promise<ScaleCounters>;
  nextWeightsAttempt(): Promise<WeightOutcome>;
}

/**
 * The coordinator of a split validator: holds the per-hotkey lease, follows the chain, generates tasks
 * (seeded exactly as the embedded validator) into the BullMQ task queue, dispatches due delayed tasks,
 * accounts for every task (the head of the result log is either applied, or recorded as failed / never
 * dispatched), and sets weights from the shared scores. It keeps nothing that matters in memory:
 * killed and restarted, it resumes from Redis.
 */
export async function startCoordinator(p: StartCoordinatorParams): Promise<CoordinatorHandle> {
  const c = new Coordinator(p);
  await c.init();
  return c.handle();
}

class Coordinator {
  private readonly log: Logger;
  private readonly mechid: number;
  private readonly mech: { mechid: number } | undefined;
  private readonly o: Required<Pick<CoordinatorOptions, 'alpha' | 'resyncEveryBlocks' | 'roundIntervalMs' | 'maxQueued' | 'jobAttempts' | 'leaseMs' | 'weightsEveryBlocks'>> & CoordinatorOptions;
  private readonly registry: Registry;
  private readonly vm;
  private readonly qm;
  private readonly keys;
  private readonly redis;
  private readonly txn;
  private readonly bull;
  private readonly store: ScaleStore;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly pending: BullPendingStore;
  private readonly lease: Lease;
  private meta!: ScaleMeta;
  private secret!: Uint8Array;
  private block!: BlockInfo;
  private metagraph!: Metagraph;
  private hyper!: SubnetHyperparameters;
  private hotkeys = new Set<string>();
  private uid: number | null = null;
  private lastResync = -1;
  private running = false;
  private unsubscribe: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  private readonly sleepers = new Sleepers();
  /** Seqs allocated by this process whose job is being added: not "never dispatched". */
  private readonly adding = new Set<number>();
  private weightWaiters: Array<(o: WeightOutcome) => void> = [];
  private outage = false;
  private lastTrim = 0;

  constructor(private readonly p: StartCoordinatorParams) {
    const o = p.options ?? {};
    this.mechid = p.mechid ?? 0;
    this.mech = this.mechid === 0 ? undefined : { mechid: this.mechid };
    this.o = { ...o, alpha: o.alpha ?? 0.1, resyncEveryBlocks: o.resyncEveryBlocks ?? 10, roundIntervalMs: o.roundIntervalMs ?? 1000, maxQueued: o.maxQueued ?? 64, jobAttempts: o.jobAttempts ?? 20, leaseMs: o.leaseMs ?? 10_000, weightsEveryBlocks: o.weightsEveryBlocks ?? 0 };
    if (!(this.o.alpha > 0 && this.o.alpha <= 1)) throw new UserError(`alpha must be in (0, 1], got ${this.o.alpha}`);
    if (!(this.o.maxQueued >= 1)) throw new UserError('--max-queued must be ≥ 1');
    this.log = (o.logger ?? loggerFromEnv()).child({ role: 'scale-coordinator', netuid: p.netuid, pid: process.pid });
    this.registry = o.metricsRegistry ?? new Registry();
    this.vm = createValidatorMetrics(this.registry);
    this.qm = createQueueMetrics(this.registry);
    this.keys = scaleKeys(p.netuid, this.mechid, p.hotkey.ss58Address);
    const onError = (e: Error) => {
      if (!this.outage) this.log.warn({ err: e.message }, 'Redis connection problem; waiting for it to come back');
      this.outage = true;
    };
    this.redis = openRedis(p.redisUrl, onError);
    this.txn = openRedis(p.redisUrl, onError, { transactions: true });
    this.bull = openRedis(p.redisUrl, onError);
    this.redis.on('ready', () => {
      if (this.outage) this.log.info('Redis connection back');
      this.outage = false;
    });
    this.store = new ScaleStore(this.redis, this.txn, this.keys);
    this.queue = new Queue(this.keys.taskQueue, { connection: this.bull });
    this.events = new QueueEvents(this.keys.taskQueue, { connection: this.bull.duplicate() });
    this.events.on('stalled', () => this.qm.stalled.inc({ queue: 'tasks' }));
    this.events.on('failed', () => this.qm.failed.inc({ queue: 'tasks' }));
    this.events.on('error', () => {});
    this.pending = new BullPendingStore({ connection: this.bull, queueName: this.keys.pendingQueue });
    this.lease = new Lease(this.redis, this.keys.lease, `${process.pid}-${randomUUID().slice(0, 8)}`, this.o.leaseMs);
  }

  async init(): Promise<void> {
    await cryptoReady();
    try {
      await waitReady(this.redis, this.p.redisUrl);
    } catch (e) {
      await this.closeConnections();
      throw e;
    }
    this.running = true;
    await this.acquireLease();
    if (!this.running) return;
    const upgraded = await this.store.upgradeScoredPending();
    if (upgraded) this.log.info({ ids: upgraded }, 'scored delayed-task ids converted to a dated set (trimmed after scoredRetentionMs)');
    const { meta, migrated } = await initMeta({
      redis: this.redis, keys: this.keys, netuid: this.p.netuid, hotkey: this.p.hotkey.ss58Address, alpha: this.o.alpha,
      freshSecret: u8aToHex(new Uint8Array(randomBytes(32))), statePath: this.o.statePath, pending: this.pending, warn: (m) => this.log.warn(m),
    });
    if (migrated) this.log.info(migrated, 'imported the embedded validator state into Redis');
    else if (meta.importedFrom) this.log.info({ from: meta.importedFrom }, 'resuming from Redis (state file imported earlier; Redis is the source of truth)');
    this.meta = meta;
    this.secret = hexToU8a(meta.secret);
    this.block = await this.p.chain.getBlock();
    await this.resync();
    if (this.uid === null) {
      await this.stop();
      throw new UserError(`hotkey ${this.p.hotkey.ss58Address} is not registered on subnet ${this.p.netuid}`, { hint: 'register it first (burned register) and try again' });
    }
    this.vm.step.set(await this.store.step());
    this.log.info({ uid: this.uid, step: await this.store.step(), scored: (await this.store.scores()).size, lease: this.lease.id }, 'coordinator started');
    this.unsubscribe = this.p.chain.subscribeBlocks((b) => {
      if (b.number > this.block.number) this.block = b;
    });
    this.loops.push(this.roundLoop(), this.houseLoop(), this.blockLoop());
  }

  private async acquireLease(): Promise<void> {
    let said = false;
    while (this.running) {
      if (await this.lease.tryAcquire().catch(() => false)) break;
      if (!said) this.log.info({ holder: await this.lease.holder().catch(() => null) }, 'another coordinator holds the lease for this hotkey; waiting for it to expire');
      said = true;
      await this.sleep(Math.min(1000, this.o.leaseMs / 4));
    }
    this.qm.leaseHeld.set(1);
    if (said) this.log.info('lease acquired; taking over');
    this.lease.keepRenewing(() => {
      this.qm.leaseHeld.set(0);
      this.log.error('lost the coordinator lease (another coordinator took over, or Redis was unreachable too long); re-acquiring');
      void this.acquireLease();
    });
  }

  handle(): CoordinatorHandle {
    return {
      stop: () => this.stop(),
      metrics: this.registry,
      scores: async () => Object.fromEntries(await this.store.scores()),
      counters: () => this.store.counters(),
      nextWeightsAttempt: () => new Promise<WeightOutcome>((r) => this.weightWaiters.push(r)),
    };
  }

  private stopping: Promise<void> | null = null;
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      this.unsubscribe?.();
      this.sleepers.wakeAll();
      await Promise.allSettled(this.loops);
      await this.lease.release();
      await this.closeConnections();
      this.log.info('coordinator stopped');
    })();
    return this.stopping;
  }

  private async closeConnections(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close(), this.pending.close()]);
    await Promise.all([this.redis, this.txn, this.bull].map(closeRedis));
  }

  private sleep(ms: number): Promise<void> {
    return this.sleepers.sleep(ms);
  }

  /** Run `fn` forever every `everyMs`, logging a failure once per streak (a Redis restart is one streak). */
  private async loop(what: string, everyMs: number, fn: () => Promise<number | void>): Promise<void> {
    let failing = false;
    while (this.running) {
      let wait = everyMs;
      try {
        const w = await fn();
        if (typeof w === 'number') wait = w;
        if (failing) this.log.info(`${what} recovered`);
        failing = false;
      } catch (e) {
        if (!failing) this.log.warn({ err: e instanceof Error ? e.message : String(e) }, `${what} failed; retrying`);
        failing = true;
        wait = Math.max(everyMs, 200);
      }
      if (this.running) await this.sleep(wait);
    }
  }

  // ---------- chain ----------

  private async resync(): Promise<void> {
    const [mg, hyper] = await Promise.all([this.p.chain.getMetagraph(this.p.netuid, this.mech), this.p.chain.getHyperparameters(this.p.netuid)]);
    this.metagraph = mg;
    this.hyper = hyper;
    this.hotkeys = new Set(mg.hotkeys);
    const idx = mg.hotkeys.indexOf(this.p.hotkey.ss58Address);
    this.uid = idx >= 0 ? idx : null;
    this.lastResync = this.block.number;
    const gone = await this.store.forgetHotkeys(this.hotkeys);
    if (gone.length) this.log.info({ reset: gone.length }, 'hotkeys left the subnet; their scores were reset');
  }

  private lastBlockSeen = -1;
  private blockLoop(): Promise<void> {
    return this.loop('per-block work', 200, async () => {
      if (this.block.number === this.lastBlockSeen || !this.lease.held()) return;
      this.lastBlockSeen = this.block.number;
      if (this.block.number - this.lastResync >= this.o.resyncEveryBlocks) await this.resync();
      await this.dispatchDue();
      await this.maybeWeights();
    });
  }

  // ---------- rounds ----------

  private async depth(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }

  private roundLoop(): Promise<void> {
    return this.loop('round', this.o.roundIntervalMs, async () => {
      if (!this.lease.held()) return 100;
      // backpressure: a bounded queue; the round waits for the workers instead of piling up jobs
      if ((await this.depth()) >= this.o.maxQueued) return Math.min(50, this.o.roundIntervalMs || 50);
      const started = Date.now();
      const asked = await this.runRound();
      this.vm.rounds.inc({ result: asked > 0 ? 'ok' : 'empty' });
      return Math.max(this.o.roundIntervalMs - (Date.now() - started), 0);
    });
  }

  private async runRound(): Promise<number> {
    const round = await this.store.nextRound();
    this.vm.step.set(round);
    const block = this.block;
    const metagraph = this.metagraph;
    const rng = SeededRng.forRound(this.secret, block.hash, round);
    const exclude = [this.p.hotkey.ss58Address];
    // per-miner state as of now, read-only for the generator (writes happen where tasks are scored)
    const state = new MinerStateStore(this.p.commodity.minerState);
    state.load(await this.store.minerStates(metagraph.hotkeys));
    const generated = await this.p.commodity.generate({
      round, block, metagraph, rng, validatorHotkey: this.p.hotkey.ss58Address, now: Date.now(), state,
      sample: (k, filter) => sampleMiners(metagraph, { k: k ?? this.p.commodity.sampleSize, rng: rng.fork('sample'), exclude, filter }),
    });
    const specs = (generated === null ? [] : Array.isArray(generated) ? generated : [generated]) as TaskSpec<Req, unknown>[];
    let asked = 0;
    for (const [index, spec] of specs.entries()) {
      const taskRng = rng.fork(`task-${index}`);
      const uids = (spec.uids ?? sampleMiners(metagraph, { k: this.p.commodity.sampleSize, rng: taskRng, exclude })).filter((u) => u >= 0 && u < metagraph.n && isServing(metagraph.axons[u]));
      if (uids.length === 0) continue;
      const targets = uids.map((uid) => ({ uid, hotkey: metagraph.hotkeys[uid]!, ip: metagraph.axons[uid]!.ip, port: metagraph.axons[uid]!.port }));
      const queries = uids.map((uid) => {
        const q = typeof spec.query === 'function' ? (spec.query as (t: { uid: number; hotkey: string }) => Req)({ uid, hotkey: metagraph.hotkeys[uid]! }) : spec.query;
        return this.p.commodity.query.parse(q) as Req;
      });
      const seq = await this.store.allocSeq();
      this.adding.add(seq);
      try {
        const job: QueryJob = {
          kind: 'query', seq, round, index, createdBlock: block.number, createdAt: Date.now(), targets, queries,
          data: this.p.commodity.taskData.parse(spec.data), timeoutMs: spec.timeoutMs ?? this.p.commodity.timeoutMs, resolveAt: spec.resolveAt,
        };
        await this.addJob(seq, job);
      } finally {
        this.adding.delete(seq);
      }
      asked += uids.length;
    }
    return asked;
  }

  private async addJob(seq: number, data: QueryJob | DueJob): Promise<void> {
    await this.queue.add(data.kind, data, {
      jobId: jobId(seq),
      attempts: this.o.jobAttempts,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: true,
      // failed jobs stay a day so the head check can tell "failed" from "lost"
      removeOnFail: { age: 86_400 },
    });
    await this.store.markDispatched(seq);
  }

  private async dispatchDue(): Promise<void> {
    const due = await this.pending.due(this.block.number, Date.now(), 100);
    for (const t of due) {
      if (await this.store.wasScoredPending(t.id)) {
        await this.pending.complete(t.id); // applied before a crash; do not apply twice
        continue;
      }
      // one job per due task at a time; the marker expires in case we die between these two lines
      if ((await this.redis.set(this.keys.dispatching(t.id), '1', 'EX', 3600, 'NX')) !== 'OK') continue;
      const seq = await this.store.allocSeq();
      this.adding.add(seq);
      try {
        await this.addJob(seq, { kind: 'due', seq, task: t });
      } finally {
        this.adding.delete(seq);
      }
    }
    this.vm.pendingTasks.set(await this.pending.size());
  }

  // ---------- accounting ----------

  /** The head of the log has no result: its job failed for good, vanished, or was never added. */
  private async settleHead(): Promise<void> {
    const [cursor, allocated] = [await this.store.cursor(), Number((await this.redis.get(this.keys.seq)) ?? 0)];
    const seq = cursor + 1;
    if (seq > allocated || this.adding.has(seq) || (await this.store.isDone(seq))) return;
    const job = await this.queue.getJob(jobId(seq));
    if (job) {
      if ((await job.getState()) === 'failed') {
        if (await this.store.skipHead(seq, 'failed')) this.log.error({ seq, reason: job.failedReason }, 'task failed after every attempt; it counts for nobody');
      }
      return;
    }
    const dispatched = await this.store.wasDispatched(seq);
    if (await this.store.skipHead(seq, dispatched ? 'lost' : 'never dispatched')) {
      if (dispatched) this.log.error({ seq }, 'a dispatched task vanished from Redis (restarted without persistence?); it counts for nobody');
      else this.log.info({ seq }, 'task allocated by a coordinator that died before queueing it; skipped (no miner was asked)');
    }
  }

  private houseLoop(): Promise<void> {
    return this.loop('accounting', 250, async () => {
      if (!this.lease.held()) return;
      await this.settleHead();
      const o = await this.store.drain({ commodity: this.p.commodity, alpha: this.o.alpha, hotkeys: this.hotkeys, self: this.p.hotkey.ss58Address });
      for (const id of o.completedPending) await this.pending.complete(id);
      if (Date.now() - this.lastTrim >= TRIM_EVERY_MS) {
        this.lastTrim = Date.now();
        const t = await this.store.trimScoredPending(Date.now() - (this.o.scoredRetentionMs ?? DEFAULT_SCORED_RETENTION_MS), (id) => this.pending.has(id));
        if (t.removed) this.log.debug(t, 'forgot old scored delayed-task ids');
        const segments = await this.store.trimDispatched();
        if (segments) this.log.debug({ segments }, 'dropped dispatched-seq bitmaps below the cursor');
      }
      await this.updateMetrics();
    });
  }

  private async updateMetrics(): Promise<void> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    for (const [state, n] of Object.entries(counts)) this.qm.jobs.set({ queue: 'tasks', state }, n);
    const oldest = await this.queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
    this.qm.oldestWaitingSeconds.set({ queue: 'tasks' }, oldest[0] ? (Date.now() - oldest[0].timestamp) / 1000 : 0);
    const pc = await this.pending.size();
    this.qm.jobs.set({ queue: 'pending', state: 'waiting' }, pc);
    const c = await this.store.counters();
    this.qm.tasks.set({ outcome: 'allocated' }, c.allocated);
    this.qm.tasks.set({ outcome: 'applied' }, c.cursor);
    this.qm.tasks.set({ outcome: 'rewarded' }, c.rewarded);
    this.qm.tasks.set({ outcome: 'skipped' }, c.skipped);
    this.qm.tasks.set({ outcome: 'lost' }, c.lost);
    this.qm.tasks.set({ outcome: 'failed' }, c.failed);
    this.qm.tasks.set({ outcome: 'never_dispatched' }, c.neverDispatched);
    this.qm.backlog.set(c.allocated - c.cursor);
    const scores = await this.store.scores();
    this.vm.minerScore.reset();
    this.metagraph.hotkeys.forEach((hk, uid) => {
      const s = scores.get(hk);
      if (s !== undefined) this.vm.minerScore.set({ uid: String(uid), hotkey: hk }, s);
    });
  }

  // ---------- weights ----------

  private notifyWeights(o: WeightOutcome): void {
    this.vm.weightSets.inc({ result: o });
    const w = this.weightWaiters;
    this.weightWaiters = [];
    for (const f of w) f(o);
  }

  private timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const end = this.vm.chainLatency.startTimer({ op });
    return fn().finally(() => end());
  }

  private async saveWeightsMeta(): Promise<void> {
    await writeWeightsMeta(this.redis, this.keys, this.meta.lastWeightsBlock, this.meta.commits);
  }

  /** As the embedded validator, from the shared scores; only while the lease is ours, checked right before each extrinsic. */
  private async maybeWeights(): Promise<void> {
    if (this.o.disableWeights || this.uid === null) return;
    const block = this.block.number;
    const chain = this.p.chain;
    if (this.hyper.commitRevealWeightsEnabled && this.meta.commits.length > 0 && this.lease.held()) {
      const revealed = await revealDueCommits({
        chain, hotkey: this.p.hotkey, netuid: this.p.netuid, mechid: this.mechid, hyper: this.hyper, block, commits: this.meta.commits,
        loadHotkeys: async () => (await chain.getMetagraph(this.p.netuid, this.mech)).hotkeys,
        timed: (op, fn) => this.timed(op, fn), log: this.log,
      });
      if (revealed.changed) {
        this.meta.commits = revealed.commits;
        await this.saveWeightsMeta();
      }
      for (const o of revealed.outcomes) this.notifyWeights(o);
    }
    const lastUpdate = Math.max(this.metagraph.lastUpdate[this.uid] ?? 0, this.meta.lastWeightsBlock);
    if (lastUpdate !== 0 && block - lastUpdate < this.hyper.weightsSetRateLimit) return;
    if (block - this.meta.lastWeightsBlock < this.o.weightsEveryBlocks) return;
    let emit: ReturnType<typeof computeEmitWeights>;
    try {
      emit = computeEmitWeights(await this.store.scores(), this.metagraph, this.hyper, this.p.commodity.toWeights, this.uid, this.o.weightsSemantics);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      this.log.warn({ reason: e.message }, 'weights not set');
      this.notifyWeights('skipped');
      return;
    }
    if (!emit) return;
    if (!this.lease.held()) return; // fencing: never submit without a fresh lease
    const versionKey = this.o.versionKey ?? BigInt(this.p.commodity.version);
    await submitWeights({
      chain, hotkey: this.p.hotkey, netuid: this.p.netuid, mechid: this.mechid, block, emit, versionKey, hyper: this.hyper,
      hotkeys: emit.uids.map((u) => this.metagraph.hotkeys[u]!), record: this.meta, persist: () => this.saveWeightsMeta(),
      timed: (op, fn) => this.timed(op, fn), log: this.log, notify: (o) => this.notifyWeights(o),
    });
  }
}
