import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loggerFromEnv } from '../util/log.ts';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { watchForStalls, type StallWatch } from '../chain/stall-watch.ts';
import { type BlockInfo, type Chain, type Metagraph, type SubnetHyperparameters } from '../chain/types.ts';
import { RetryLater, type Commodity, type MinerAnswer, type Rewards, type ScoredTask, type TaskSpec } from '../commodity/define.ts';
import { MinerStateStore, type MinerStateAccess } from '../commodity/miner-state.ts';
import { FilePendingStore, type PendingStore, type PendingTask, type ResolveAt } from '../commodity/pending.ts';
import { SeededRng } from '../commodity/rng.ts';
import { isServing, sampleMiners } from '../commodity/sampler.ts';
import { ema } from '../commodity/scorers.ts';
import { Dendrite } from '../dendrite/index.ts';
import { describeZodError, UserError } from '../errors.ts';
import { cryptoReady } from '../wallet/keypair.ts';
import { createValidatorMetrics, type ValidatorMetrics } from './metrics.ts';
import { fileProblem } from '../util/fs-errors.ts';
import { loadValidatorState, StateWriter, type ValidatorStateFile } from './state.ts';
import type { AxonTargetLike, DendriteLike, StartValidatorParams, ValidatorHandle, ValidatorOptions } from './types.ts';
import { computeEmitWeights } from './weights.ts';
import { looksLikeOwnOutage, numericOptions } from './options.ts';
import { reviveAnswers, streamAnswers, toAnswer, type Req, type Res } from './answers.ts';
import { revealDueCommits, submitWeights, type WeightOutcome } from './commit-reveal.ts';
import { Sleepers } from '../util/sleepers.ts';

const MAX_SCORED_IDS = 2000;


/**
 * The validator loop, built to avoid the subnet template's known defects: bounded concurrent rounds with
 * no blocking sleeps, timeouts from the commodity, metagraph growth/shrink/hotkey changes handled by
 * keying everything by hotkey, atomic state persisted every round, weights gated by the chain's rate
 * limit, and no crash on a miner's fault or a transient chain error (logged, retried next block).
 */
export async function startValidator<C extends Commodity>(params: StartValidatorParams<C>): Promise<ValidatorHandle> {
  const v = new ValidatorRuntime(params as unknown as StartValidatorParams<Commodity>);
  await v.init();
  return v.handle();
}

class ValidatorRuntime {
  private readonly chain: Chain;
  private readonly netuid: number;
  /** Incentive mechanism this runtime prices (0 = the subnet's main one). */
  private readonly mechid: number;
  /** Passed to mechanism-aware chain calls; undefined for mechanism 0 so the v1 call shapes are used. */
  private readonly mech: { mechid: number } | undefined;
  private readonly commodity: Commodity;
  private readonly opts: Required<Pick<ValidatorOptions, 'alpha' | 'resyncEveryBlocks' | 'concurrency' | 'roundIntervalMs' | 'weightsEveryBlocks' | 'queryConcurrency' | 'maxScoreAttempts' | 'retryDelayBlocks'>> &
    ValidatorOptions;
  private readonly log: Logger;
  private readonly metrics: ValidatorMetrics;
  private readonly writer: StateWriter;
  private readonly minerState: MinerStateStore<unknown>;
  /** What scorers see: writes for hotkeys that left since the last resync are dropped. */
  private readonly scorerState: MinerStateAccess<unknown>;
  /** The metagraph's hotkeys as a set, replaced with the metagraph at each resync. */
  private currentHotkeys: ReadonlySet<string> = new Set();
  private readonly scores = new Map<string, number>();
  private readonly hotkey: StartValidatorParams<Commodity>['hotkey'];
  private readonly statePath: string;

  /**
   * Dendrites not in use by a task (v10 wire only). The axon demands strictly increasing nonces per hotkey:uuid
   * session, so concurrent tasks must not share a session: each task leases its own dendrite (its own
   * uuid), and a session's requests to any axon are therefore sent one after another, in order.
   */
  private readonly idleDendrites: DendriteLike[] = [];
  /** The one dendrite of a btauth/1 commodity (no per-session nonce order to keep). */
  private sharedDendrite: DendriteLike | undefined;
  private readonly ownedDendrites: DendriteLike[] = [];
  private pending!: PendingStore;
  private state!: ValidatorStateFile;
  private secret!: Uint8Array;
  private metagraph!: Metagraph;
  private hyper!: SubnetHyperparameters;
  private block!: BlockInfo;
  private lastResyncBlock = -1;
  private uid: number | null = null;
  private scoredIds: string[] = [];

  private running = false;
  private unsubscribe: (() => void) | null = null;
  private tickRunning: Promise<void> | null = null;
  private tickAgain = false;
  private readonly slots: Promise<void>[] = [];
  private readonly sleepers = new Sleepers();
  private weightWaiters: Array<(o: WeightOutcome) => void> = [];

  constructor(private readonly params: StartValidatorParams<Commodity>) {
    this.chain = params.chain;
    this.netuid = params.netuid;
    this.mechid = params.mechid ?? 0;
    this.mech = this.mechid === 0 ? undefined : { mechid: this.mechid };
    this.commodity = params.commodity;
    this.hotkey = params.hotkey;
    this.statePath = params.statePath;
    const o = params.options ?? {};
    this.opts = {
      ...o,
      alpha: o.alpha ?? 0.1,
      resyncEveryBlocks: o.resyncEveryBlocks ?? 10,
      concurrency: o.concurrency ?? 1,
      roundIntervalMs: o.roundIntervalMs ?? 1000,
      weightsEveryBlocks: o.weightsEveryBlocks ?? 0,
      queryConcurrency: o.queryConcurrency ?? 32,
      maxScoreAttempts: o.maxScoreAttempts ?? 50,
      retryDelayBlocks: o.retryDelayBlocks ?? 5,
    };
    const checked = numericOptions.safeParse(this.opts);
    if (!checked.success) throw new UserError(describeZodError(checked.error, 'validator options'));
    if (!Number.isInteger(params.netuid) || params.netuid < 0 || params.netuid > 65535) throw new UserError(`invalid netuid ${params.netuid}`);
    if (!Number.isInteger(this.mechid) || this.mechid < 0 || this.mechid > 15) throw new UserError(`invalid mechanism id ${String(params.mechid)} (0…15)`);
    this.log = (o.logger ?? loggerFromEnv()).child({ role: 'validator', netuid: this.netuid, ...(this.mech ?? {}) });
    this.metrics = createValidatorMetrics(o.metricsRegistry);
    this.writer = new StateWriter(join(this.statePath, 'validator.json'));
    this.minerState = new MinerStateStore(this.commodity.minerState);
    this.scorerState = this.minerState.guarded((hk) => this.isCurrentHotkey(hk));
  }

  // ---------- startup ----------

  async init(): Promise<void> {
    await cryptoReady();
    const me = this.hotkey.ss58Address;
    const loaded = await loadValidatorState(join(this.statePath, 'validator.json'), this.netuid, me);
    if (loaded.warning) this.log.warn(loaded.warning);
    const secret = this.opts.secret ?? (loaded.state ? hexToU8a(loaded.state.secret) : new Uint8Array(randomBytes(32)));
    if (secret.length !== 32) throw new UserError(`validator secret must be 32 bytes, got ${secret.length}`);
    this.secret = secret;
    this.state = loaded.state ?? {
      version: 1,
      netuid: this.netuid,
      hotkey: me,
      step: 0,
      secret: u8aToHex(secret),
      hotkeys: [],
      scores: {},
      minerState: {},
      scoredTaskIds: [],
      lastWeightsBlock: 0,
      commits: [],
    };
    this.state.secret = u8aToHex(secret);
    // Probe the state directory now: an unwritable one is a start-up problem (one line, exit 2), not a failure at the first round.
    const statePath = this.statePath;
    const first = this.state;
    await this.writer.write(() => first).catch((e: unknown) => {
      throw fileProblem(e, 'validator state directory', statePath, 'point --state-dir at a writable directory');
    });
    for (const [hk, s] of Object.entries(this.state.scores)) this.scores.set(hk, s);
    const ms = this.minerState.load(this.state.minerState);
    if (ms.invalid.length > 0) this.log.warn({ hotkeys: ms.invalid }, 'per-miner state failed its schema; those miners start fresh');
    this.scoredIds = [...this.state.scoredTaskIds];
    this.pending = this.opts.pendingStore ?? (await FilePendingStore.open(join(this.statePath, 'pending.json'), (m) => this.log.warn(m)));

    try {
      await this.connect();
    } catch (e) {
      await this.pending.close().catch(() => {}); // e.g. a Redis connection would keep the process alive
      throw e;
    }
    this.metrics.step.set(this.state.step);
    this.metrics.pendingTasks.set(await this.pending.size());
    this.log.info({ uid: this.uid, step: this.state.step, scored: this.scores.size, pending: await this.pending.size() }, 'validator started');

    this.running = true;
    this.stallWatch = watchForStalls(this.opts.chainStallMs ?? 60_000, this.log, 'rounds continue on the last metagraph; weights wait for the chain');
    this.unsubscribe = this.chain.subscribeBlocks((b) => this.onBlock(b));
    for (let i = 0; i < this.opts.concurrency; i++) this.slots.push(this.roundSlot(i));
  }

  private async connect(): Promise<void> {
    const me = this.hotkey.ss58Address;
    if (!(await this.timed('subnetExists', () => this.chain.subnetExists(this.netuid)))) {
      throw new UserError(`subnet ${this.netuid} does not exist`, { hint: 'check --netuid, or create it with `subnet subnets create`' });
    }
    this.block = await this.timed('getBlock', () => this.chain.getBlock());
    const count = (await this.timed('getHyperparameters', () => this.chain.getHyperparameters(this.netuid))).mechanismCount ?? 1;
    if (this.mechid >= count) {
      throw new UserError(`subnet ${this.netuid} has ${count} incentive mechanism(s); mechanism ${this.mechid} does not exist`, { hint: 'the owner raises it with `subnet subnets mechanisms --count N`' });
    }
    await this.resync();
    if (this.uid === null) {
      throw new UserError(`hotkey ${me} is not registered on subnet ${this.netuid}`, { hint: 'register it first (burned register) and try again' });
    }
  }

  private async withDendrite<T>(fn: (dendrite: DendriteLike) => Promise<T>): Promise<T> {
    // an injected dendrite is the caller's responsibility (tests, custom transports)
    if (this.params.dendrite) return fn(this.params.dendrite);
    if (this.commodity.wire.protocol === 'btauth') {
      // btauth/1 accepts any fresh, unseen nonce: concurrent rounds share one client, no session leases
      if (!this.sharedDendrite) {
        this.sharedDendrite = new Dendrite({ keypair: this.hotkey });
        this.ownedDendrites.push(this.sharedDendrite);
      }
      return fn(this.sharedDendrite);
    }
    let dendrite = this.idleDendrites.pop();
    if (!dendrite) {
      dendrite = new Dendrite({ keypair: this.hotkey });
      this.ownedDendrites.push(dendrite);
    }
    try {
      return await fn(dendrite);
    } finally {
      this.idleDendrites.push(dendrite);
    }
  }

  handle(): ValidatorHandle {
    const self = this;
    return {
      stop: () => this.stop(),
      metrics: this.metrics.registry,
      state: {
        get step() { return self.state.step; },
        get uid() { return self.uid; },
        get lastWeightsBlock() { return self.state.lastWeightsBlock; },
        scores: () => Object.fromEntries(self.scores),
        scoresByUid: () => self.metagraph.hotkeys.map((hk) => self.scores.get(hk) ?? Number.NaN),
        pendingCount: () => self.pending.size(),
        nextWeightsAttempt: () => new Promise<WeightOutcome>((r) => self.weightWaiters.push(r)),
      },
    };
  }

  private stopping: Promise<void> | null = null;

  private stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.stallWatch?.stop();
    this.sleepers.wakeAll();
    await Promise.allSettled(this.slots);
    await this.tickRunning?.catch(() => {});
    await this.persist();
    await this.writer.flush();
    await this.pending.close();
    await Promise.all(this.ownedDendrites.map((d) => d.close().catch(() => {})));
    this.log.info({ step: this.state.step }, 'validator stopped');
  }

  // ---------- chain sync ----------

  private async timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const end = this.metrics.chainLatency.startTimer({ op });
    try {
      return await fn();
    } finally {
      end();
    }
  }

  private async resync(): Promise<void> {
    const [mg, hyper] = await Promise.all([
      this.timed('getMetagraph', () => this.chain.getMetagraph(this.netuid, this.mech)),
      this.timed('getHyperparameters', () => this.chain.getHyperparameters(this.netuid)),
    ]);
    const previous = this.state.hotkeys;
    const current = new Set(mg.hotkeys);
    // Anything keyed by a hotkey that left the subnet is dropped: a recycled uid starts from zero.
    const dropped: string[] = [];
    for (const hk of [...this.scores.keys()]) {
      if (!current.has(hk)) {
        this.scores.delete(hk);
        dropped.push(hk);
      }
    }
    this.minerState.syncHotkeys(mg.hotkeys);
    if (dropped.length > 0 || previous.length !== mg.n) {
      this.log.info({ n: mg.n, previousN: previous.length, reset: dropped.length }, 'metagraph changed');
    }
    this.metrics.minerScore.reset();
    this.metagraph = mg;
    this.currentHotkeys = current;
    this.hyper = hyper;
    this.state.hotkeys = [...mg.hotkeys];
    const idx = mg.hotkeys.indexOf(this.hotkey.ss58Address);
    if (idx < 0 && this.uid !== null) this.log.error('our hotkey is no longer registered; rounds continue but weights are not set');
    this.uid = idx >= 0 ? idx : null;
    this.lastResyncBlock = this.block.number;
    mg.hotkeys.forEach((hk, uid) => {
      const s = this.scores.get(hk);
      if (s !== undefined) this.metrics.minerScore.set({ uid: String(uid), hotkey: hk }, s);
    });
  }

  private onBlock(block: BlockInfo): void {
    this.stallWatch?.beat(block.number);
    if (!this.running) return;
    if (!this.block || block.number > this.block.number) this.block = block;
    if (this.tickRunning) {
      this.tickAgain = true;
      return;
    }
    this.tickRunning = this.tick().finally(() => {
      this.tickRunning = null;
      if (this.tickAgain && this.running) {
        this.tickAgain = false;
        this.onBlock(this.block);
      }
    });
  }

  /** Per-block work. Each step is independent: a failing one is logged and retried on a later block. */
  private async tick(): Promise<void> {
    if (this.block.number - this.lastResyncBlock >= this.opts.resyncEveryBlocks) {
      await this.guard('resync', () => this.resync());
    }
    await this.guard('delayed scoring', () => this.processDue());
    await this.guard('weights', () => this.maybeWeights());
  }

  private stallWatch: StallWatch | null = null;

  /** Failing steps, with the error last logged and how often it repeated since (a chain outage is logged once, and its end). */
  private readonly failing = new Map<string, { err: string; since: number; repeats: number }>();

  private async guard(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      const was = this.failing.get(what);
      if (was) {
        this.failing.delete(what);
        this.log.info({ failures: was.repeats + 1, sinceBlock: was.since }, `${what} recovered`);
      }
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      const was = this.failing.get(what);
      if (was && was.err === err) {
        was.repeats++;
        this.log.debug({ err, repeats: was.repeats }, `${what} still failing`);
        return;
      }
      this.failing.set(what, { err, since: this.block.number, repeats: 0 });
      this.log.warn({ err }, `${what} failed; retrying on every block (repeats of this error are logged at debug)`);
    }
  }

  // ---------- rounds ----------

  private sleep(ms: number): Promise<void> {
    return this.sleepers.sleep(ms);
  }

  private async roundSlot(slot: number): Promise<void> {
    // stagger slots so concurrent rounds don't start in lockstep
    if (slot > 0) await this.sleep((this.opts.roundIntervalMs / this.opts.concurrency) * slot);
    while (this.running) {
      const started = Date.now();
      try {
        const result = await this.runRound();
        this.metrics.rounds.inc({ result });
      } catch (e) {
        // validator-side failure: nobody is scored for this round
        this.metrics.rounds.inc({ result: 'error' });
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'round failed; no miner was scored');
      }
      const wait = this.opts.roundIntervalMs - (Date.now() - started);
      if (this.running) await this.sleep(Math.max(wait, 10));
    }
  }

  private async runRound(): Promise<'ok' | 'empty'> {
    const round = ++this.state.step;
    this.metrics.step.set(round);
    const block = this.block;
    const metagraph = this.metagraph;
    const rng = SeededRng.forRound(this.secret, block.hash, round);
    const exclude = [this.hotkey.ss58Address];
    const generated = await this.commodity.generate({
      round,
      block,
      metagraph,
      rng,
      validatorHotkey: this.hotkey.ss58Address,
      now: Date.now(),
      state: this.scorerState,
      sample: (k, filter) => sampleMiners(metagraph, { k: k ?? this.commodity.sampleSize, rng: rng.fork('sample'), exclude, filter }),
    });
    const tasks = generated === null ? [] : Array.isArray(generated) ? generated : [generated];
    let asked = 0;
    await Promise.all(
      tasks.map(async (spec, i) => {
        asked += await this.runTask(spec as TaskSpec<Req, unknown>, round, i, block, metagraph, rng.fork(`task-${i}`));
      }),
    );
    await this.persist();
    return asked > 0 ? 'ok' : 'empty';
  }

  private async runTask(spec: TaskSpec<Req, unknown>, round: number, index: number, block: BlockInfo, metagraph: Metagraph, rng: SeededRng): Promise<number> {
    const startedAt = Date.now();
    const uids = (spec.uids ?? sampleMiners(metagraph, { k: this.commodity.sampleSize, rng, exclude: [this.hotkey.ss58Address] })).filter(
      (uid) => uid >= 0 && uid < metagraph.n && isServing(metagraph.axons[uid]),
    );
    if (uids.length === 0) return 0;
    const targets: AxonTargetLike[] = uids.map((uid) => {
      const axon = metagraph.axons[uid]!;
      return { ip: axon.ip, port: axon.port, hotkey: metagraph.hotkeys[uid] };
    });
    const queries = uids.map((uid) => {
      const q = typeof spec.query === 'function' ? (spec.query as (t: { uid: number; hotkey: string }) => Req)({ uid, hotkey: metagraph.hotkeys[uid] }) : spec.query;
      return this.commodity.query.parse(q) as Req;
    });
    const timeoutMs = spec.timeoutMs ?? this.commodity.timeoutMs;
    const answers: MinerAnswer<Req, Res>[] = this.commodity.synapse.streaming
      ? await this.queryStreaming(targets, queries, timeoutMs, uids, metagraph)
      : (await this.withDendrite((d) => d.forward(targets, this.commodity.synapse, (_t, i) => queries[i], { timeoutMs, concurrency: this.opts.queryConcurrency }))).map((r, i) =>
          toAnswer(this.commodity, uids[i], metagraph.hotkeys[uids[i]], queries[i], r),
        );
    for (const a of answers) this.metrics.queries.inc({ outcome: a.ok ? 'ok' : 'failed' });
    if (looksLikeOwnOutage(answers)) {
      // every miner unreachable at once is far likelier our network than theirs: do not score
      this.metrics.scoringErrors.inc();
      this.log.warn({ round, miners: answers.length }, 'no miner was reachable; assuming a validator-side network problem, round not scored');
      return uids.length;
    }
    const task: ScoredTask<unknown> = {
      id: `${round}.${index}.${randomUUID().slice(0, 8)}`,
      round,
      createdBlock: block.number,
      createdAt: Date.now(),
      data: spec.data,
      resolveAt: spec.resolveAt,
      attempts: 0,
    };
    const answered = answers.filter((a) => a.ok).length;
    if (spec.resolveAt) {
      await this.enqueue(task, spec.resolveAt, answers);
      this.log.info({ round, task: task.id, asked: uids.length, answered, ms: Date.now() - startedAt }, 'round queried; scored when the task resolves');
      return uids.length;
    }
    const rewards = await this.scoreTask(task, answers, null);
    const values = rewards ? Object.values(rewards) : [];
    const meanScore = values.length > 0 ? Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(4)) : null;
    this.log.info({ round, task: task.id, asked: uids.length, answered, meanScore, ms: Date.now() - startedAt }, 'round scored');
    return uids.length;
  }

  private queryStreaming(targets: AxonTargetLike[], queries: Req[], timeoutMs: number, uids: number[], metagraph: Metagraph): Promise<MinerAnswer<Req, Res>[]> {
    const who = uids.map((uid) => ({ uid, hotkey: metagraph.hotkeys[uid]! }));
    return this.withDendrite((dendrite) => streamAnswers(dendrite, this.commodity, targets, queries, who, timeoutMs, this.opts.queryConcurrency));
  }

  // ---------- scoring ----------

  private async enqueue(task: ScoredTask<unknown>, resolveAt: ResolveAt, answers: MinerAnswer<Req, Res>[]): Promise<void> {
    const p: PendingTask = {
      id: task.id,
      commodity: this.commodity.name,
      round: task.round,
      createdBlock: task.createdBlock,
      createdAt: task.createdAt,
      resolveAt,
      attempts: task.attempts,
      data: this.commodity.taskData.parse(task.data),
      answers: answers.map((a) => ({ ...a, latencyMs: Number.isFinite(a.latencyMs) ? a.latencyMs : -1 })),
    };
    await this.pending.add(p);
    this.metrics.pendingTasks.set(await this.pending.size());
  }

  /** Score and apply. `pending` is set when the task came from the delayed queue. */
  private async scoreTask(task: ScoredTask<unknown>, answers: MinerAnswer<Req, Res>[], pending: PendingTask | null): Promise<Rewards | null> {
    let outcome: Rewards | RetryLater;
    try {
      outcome = await this.commodity.score({ task, answers, block: this.block, now: Date.now(), metagraph: this.metagraph, state: this.scorerState });
    } catch (e) {
      // a scorer failure is the validator's problem: no miner is penalized
      this.metrics.scoringErrors.inc();
      this.log.warn({ task: task.id, err: e instanceof Error ? e.message : String(e) }, 'scoring failed; no rewards applied');
      if (pending) await this.retryOrDrop(pending, { block: this.block.number + this.opts.retryDelayBlocks });
      return null;
    }
    if (outcome instanceof RetryLater) {
      // a deferral is the commodity's decision (event not resolved yet), not a failure: no attempt used
      if (pending) {
        await this.pending.reschedule(pending.id, outcome.at, pending.attempts);
      } else await this.enqueue(task, outcome.at, answers);
      return null;
    }
    this.applyRewards(outcome);
    if (pending) {
      this.scoredIds.push(task.id);
      if (this.scoredIds.length > MAX_SCORED_IDS) this.scoredIds.splice(0, this.scoredIds.length - MAX_SCORED_IDS);
      await this.persist();
      await this.pending.complete(task.id);
      this.metrics.pendingTasks.set(await this.pending.size());
    }
    return outcome;
  }

  private async retryOrDrop(p: PendingTask, at: ResolveAt): Promise<void> {
    const attempts = p.attempts + 1;
    if (attempts >= this.opts.maxScoreAttempts) {
      this.log.warn({ task: p.id, attempts }, 'delayed task dropped after too many attempts; no rewards applied');
      await this.pending.complete(p.id);
    } else await this.pending.reschedule(p.id, at, attempts);
    this.metrics.pendingTasks.set(await this.pending.size());
  }

  private async processDue(): Promise<void> {
    const due = await this.pending.due(this.block.number, Date.now(), 100);
    for (const p of due) {
      if (!this.running) return;
      if (this.scoredIds.includes(p.id)) {
        await this.pending.complete(p.id); // applied before a crash; do not apply twice
        continue;
      }
      const data = this.commodity.taskData.safeParse(p.data);
      if (!data.success) {
        this.log.warn({ task: p.id }, 'stored task data no longer matches the commodity schema; dropped without penalty');
        await this.pending.complete(p.id);
        continue;
      }
      const answers = reviveAnswers(this.commodity, p.answers);
      const task: ScoredTask<unknown> = { id: p.id, round: p.round, createdBlock: p.createdBlock, createdAt: p.createdAt, data: data.data, resolveAt: p.resolveAt, attempts: p.attempts };
      await this.scoreTask(task, answers, p);
    }
  }

  private isCurrentHotkey(hotkey: string): boolean {
    return this.currentHotkeys.has(hotkey);
  }

  private applyRewards(rewards: Rewards): void {
    const current = new Map(this.metagraph.hotkeys.map((hk, uid) => [hk, uid] as const));
    for (const [hotkey, reward] of Object.entries(rewards)) {
      const uid = current.get(hotkey);
      // a miner that left since the query, or a NaN from the scorer: nothing to update
      if (uid === undefined || uid === this.uid || !Number.isFinite(reward)) continue;
      const previous = this.scores.get(hotkey);
      const next = this.commodity.aggregate
        ? this.commodity.aggregate({ previous, reward, hotkey, state: this.minerState.get(hotkey), alpha: this.opts.alpha })
        : ema(previous, reward, this.opts.alpha);
      if (!Number.isFinite(next)) continue;
      this.scores.set(hotkey, next);
      this.metrics.minerScore.set({ uid: String(uid), hotkey }, next);
    }
  }

  private persist(): Promise<void> {
    return this.writer.write(() => {
      this.state.scores = Object.fromEntries(this.scores);
      this.state.minerState = this.minerState.toJSON();
      this.state.scoredTaskIds = [...this.scoredIds];
      return this.state;
    });
  }

  // ---------- weights ----------

  private notifyWeights(o: WeightOutcome): void {
    this.metrics.weightSets.inc({ result: o });
    const waiters = this.weightWaiters;
    this.weightWaiters = [];
    for (const w of waiters) w(o);
  }

  private versionKey(): bigint {
    return this.opts.versionKey ?? BigInt(this.commodity.version);
  }

  private async maybeWeights(): Promise<void> {
    if (this.opts.disableWeights || this.uid === null) return;
    const block = this.block.number;
    if (this.hyper.commitRevealWeightsEnabled && this.state.commits.length > 0) {
      const revealed = await revealDueCommits({ chain: this.chain, hotkey: this.hotkey, netuid: this.netuid, mechid: this.mechid, hyper: this.hyper, block, commits: this.state.commits,
        loadHotkeys: async () => (await this.timed('getMetagraph', () => this.chain.getMetagraph(this.netuid, this.mech))).hotkeys,
        timed: (op, fn) => this.timed(op, fn),
        log: this.log,
      });
      if (revealed.changed) {
        this.state.commits = revealed.commits;
        await this.persist();
      }
      for (const o of revealed.outcomes) this.notifyWeights(o);
    }
    const lastUpdate = Math.max(this.metagraph.lastUpdate[this.uid] ?? 0, this.state.lastWeightsBlock);
    if (lastUpdate !== 0 && block - lastUpdate < this.hyper.weightsSetRateLimit) return; // the chain's own rule
    if (block - this.state.lastWeightsBlock < this.opts.weightsEveryBlocks) return;
    let emit: ReturnType<typeof computeEmitWeights>;
    try {
      emit = computeEmitWeights(this.scores, this.metagraph, this.hyper, this.commodity.toWeights, this.uid, this.opts.weightsSemantics);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // v11 semantics refuse too few non-zero weights: skip this submission, try again next block
      this.log.warn({ reason: e.message, semantics: this.opts.weightsSemantics }, 'weights not set');
      this.notifyWeights('skipped');
      return;
    }
    if (!emit) return; // nobody has earned weight yet
    const versionKey = this.versionKey();
    await submitWeights({
      chain: this.chain, hotkey: this.hotkey, netuid: this.netuid, mechid: this.mechid, block, emit, versionKey, hyper: this.hyper,
      hotkeys: emit.uids.map((u) => this.metagraph.hotkeys[u]!), record: this.state, persist: () => this.persist(),
      timed: (op, fn) => this.timed(op, fn), log: this.log, notify: (o) => this.notifyWeights(o),
    });
  }
}
