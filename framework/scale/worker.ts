import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { loggerFromEnv } from '../util/log.ts';
import { Counter, Histogram, Registry } from 'prom-client';
import type { BlockInfo, Metagraph } from '../chain/types.ts';
import { RetryLater, type MinerAnswer, type Rewards, type ScoredTask } from '../commodity/define.ts';
import { MinerStateStore } from '../commodity/miner-state.ts';
import { BullPendingStore } from '../commodity/pending-bullmq.ts';
import type { PendingTask, ResolveAt } from '../commodity/pending.ts';
import { Dendrite } from '../dendrite/index.ts';
import { reviveAnswers, streamAnswers, toAnswer, type Req, type Res } from '../validator/answers.ts';
import { looksLikeOwnOutage } from '../validator/options.ts';
import type { DendriteLike } from '../validator/types.ts';
import { closeRedis, openRedis, waitReady, type ScaleProcessParams } from './connection.ts';
import { scaleJobSchema, type DueJob, type QueryJob, type TaskResult } from './jobs.ts';
import { scaleKeys } from './keys.ts';
import { readMeta } from './meta.ts';
import { ScaleStore } from './store.ts';

export interface StartScaleWorkerParams extends ScaleProcessParams {
  /** Jobs in flight in this process (default 1). */
  concurrency?: number;
  /** A job that takes longer is abandoned and retried (default: 2 × the commodity timeout + 30 s for scoring). */
  jobTimeoutMs?: number;
  resyncEveryBlocks?: number;
  /** BullMQ job lock: a killed worker's job moves to another after at most ~2 × this (default 10 000 ms). */
  lockMs?: number;
  /** Inject a dendrite (tests); default a framework Dendrite signed by `hotkey`. */
  dendrite?: DendriteLike;
  logger?: Logger;
  metricsRegistry?: Registry;
}

export interface ScaleWorkerHandle {
  stop(): Promise<void>;
  metrics: Registry;
  /** Jobs this process finished (stored a result, or found one already stored). */
  processed(): number;
}

/**
 * A scoring worker of a split validator: pulls jobs from the BullMQ task queue, queries the miners,
 * scores with the commodity, stores the result once per task and drains the result log into the
 * shared scores. A worker killed mid-job loses nothing: BullMQ's stalled-job check hands the job to
 * another worker, and the result log ignores a second result for the same task.
 */
export async function startScaleWorker(p: StartScaleWorkerParams): Promise<ScaleWorkerHandle> {
  const mechid = p.mechid ?? 0;
  const log = (p.logger ?? loggerFromEnv()).child({ role: 'scale-worker', netuid: p.netuid, pid: process.pid });
  const keys = scaleKeys(p.netuid, mechid, p.hotkey.ss58Address);
  let outage = false;
  const onError = (e: Error) => {
    if (!outage) log.warn({ err: e.message }, 'Redis connection problem; waiting for it to come back');
    outage = true;
  };
  const redis = openRedis(p.redisUrl, onError);
  const txn = openRedis(p.redisUrl, onError, { transactions: true });
  const bull = openRedis(p.redisUrl, onError);
  const closeAll = () => Promise.all([redis, txn, bull].map(closeRedis));
  try {
    await waitReady(redis, p.redisUrl);
  } catch (e) {
    await closeAll();
    throw e;
  }
  redis.on('ready', () => {
    if (outage) log.info('Redis connection back');
    outage = false;
  });
  const store = new ScaleStore(redis, txn, keys);
  const pending = new BullPendingStore({ connection: bull, queueName: keys.pendingQueue });
  const registry = p.metricsRegistry ?? new Registry();
  const jobs = new Counter({ name: 'subnet_scale_worker_jobs_total', help: 'Jobs by result (scored, skipped, duplicate, deferred, error)', labelNames: ['result'], registers: [registry] });
  const duration = new Histogram({ name: 'subnet_scale_worker_job_seconds', help: 'Job wall time', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const queryCounter = new Counter({ name: 'subnet_scale_worker_queries_total', help: 'Miner queries by outcome', labelNames: ['outcome'], registers: [registry] });

  // the coordinator writes the shared parameters (alpha) once it holds the lease
  let meta = await readMeta(redis, keys);
  while (!meta) {
    log.info('waiting for a coordinator to initialise this validator in Redis');
    await new Promise((r) => setTimeout(r, 1000));
    meta = await readMeta(redis, keys);
  }
  const alpha = meta.alpha;

  let block: BlockInfo = await p.chain.getBlock();
  let metagraph: Metagraph = await p.chain.getMetagraph(p.netuid, mechid === 0 ? undefined : { mechid });
  let hotkeys = new Set(metagraph.hotkeys);
  let lastResync = block.number;
  let resyncing = false;
  const unsubscribe = p.chain.subscribeBlocks((b) => {
    if (b.number > block.number) block = b;
    if (resyncing || b.number - lastResync < (p.resyncEveryBlocks ?? 10)) return;
    resyncing = true;
    p.chain.getMetagraph(p.netuid, mechid === 0 ? undefined : { mechid }).then(
      (mg) => {
        metagraph = mg;
        hotkeys = new Set(mg.hotkeys);
        lastResync = b.number;
      },
      (e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'metagraph resync failed; retrying next block'),
    ).finally(() => (resyncing = false));
  });

  const dendrites: DendriteLike[] = [];
  const idle: DendriteLike[] = [];
  const withDendrite = async <T>(fn: (d: DendriteLike) => Promise<T>): Promise<T> => {
    if (p.dendrite) return fn(p.dendrite);
    // btauth/1 takes any fresh nonce: one client; the v10 wire needs a session (dendrite) per job in flight
    let d = p.commodity.wire.protocol === 'btauth' ? dendrites[0] : idle.pop();
    if (!d) {
      d = new Dendrite({ keypair: p.hotkey });
      dendrites.push(d);
    }
    try {
      return await fn(d);
    } finally {
      if (p.commodity.wire.protocol !== 'btauth') idle.push(d);
    }
  };

  /** Run the scorer on a state snapshot; the state it writes travels with the result and is applied in order. */
  const score = async (task: ScoredTask<unknown>, answers: MinerAnswer<Req, Res>[]): Promise<{ rewards: Rewards; state: Record<string, unknown> } | RetryLater | Error> => {
    const hks = [...new Set(answers.map((a) => a.hotkey))];
    const snapshot = await store.minerStates(hks);
    const state = new MinerStateStore(p.commodity.minerState);
    state.load(snapshot);
    const before = new Map(state.hotkeys().map((hk) => [hk, JSON.stringify(state.get(hk))] as const));
    try {
      const out = await p.commodity.score({ task, answers, block, now: Date.now(), metagraph, state });
      if (out instanceof RetryLater) return out;
      const written: Record<string, unknown> = {};
      for (const hk of state.hotkeys()) if (before.get(hk) !== JSON.stringify(state.get(hk))) written[hk] = state.get(hk);
      return { rewards: out, state: written };
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  };

  const rewardsOf = (r: Rewards): Record<string, number | null> => Object.fromEntries(Object.entries(r).map(([hk, v]) => [hk, Number.isFinite(v) ? v : null]));

  const parkPending = async (task: ScoredTask<unknown>, at: ResolveAt, answers: MinerAnswer<Req, Res>[]) => {
    const t: PendingTask = {
      id: task.id, commodity: p.commodity.name, round: task.round, createdBlock: task.createdBlock, createdAt: task.createdAt, resolveAt: at, attempts: task.attempts,
      data: p.commodity.taskData.parse(task.data),
      answers: answers.map((a) => ({ ...a, latencyMs: Number.isFinite(a.latencyMs) ? a.latencyMs : -1 })),
    };
    await pending.add(t); // jobId = task id: a retried job parks the same task once
  };

  const runQuery = async (j: QueryJob): Promise<TaskResult> => {
    const taskId = `${j.round}.${j.index}`;
    const queries = j.queries.map((q) => p.commodity.query.parse(q) as Req);
    const answers = p.commodity.synapse.streaming
      ? await withDendrite((d) => streamAnswers(d, p.commodity, j.targets, queries, j.targets, j.timeoutMs, 32))
      : (await withDendrite((d) => d.forward(j.targets, p.commodity.synapse, (_t, i) => queries[i], { timeoutMs: j.timeoutMs, concurrency: 32 }))).map((r, i) =>
          toAnswer(p.commodity, j.targets[i]!.uid, j.targets[i]!.hotkey, queries[i]!, r),
        );
    for (const a of answers) jobsQueries(a.ok);
    if (looksLikeOwnOutage(answers)) return { kind: 'skip', taskId, reason: 'no miner reachable (validator-side outage)' };
    const task: ScoredTask<unknown> = { id: taskId, round: j.round, createdBlock: j.createdBlock, createdAt: j.createdAt, data: j.data, resolveAt: j.resolveAt, attempts: 0 };
    if (j.resolveAt) {
      await parkPending(task, j.resolveAt, answers);
      return { kind: 'skip', taskId, reason: 'deferred' };
    }
    const out = await score(task, answers);
    if (out instanceof RetryLater) {
      await parkPending(task, out.at, answers);
      return { kind: 'skip', taskId, reason: 'deferred' };
    }
    if (out instanceof Error) {
      log.warn({ task: taskId, err: out.message }, 'scoring failed; no rewards applied');
      return { kind: 'skip', taskId, reason: 'scorer failed' };
    }
    return { kind: 'rewards', taskId, rewards: rewardsOf(out.rewards), state: out.state };
  };
  const jobsQueries = (ok: boolean) => queryCounter.inc({ outcome: ok ? 'ok' : 'failed' });

  const runDue = async (j: DueJob): Promise<TaskResult> => {
    const t = j.task;
    const data = p.commodity.taskData.safeParse(t.data);
    if (!data.success) {
      await pending.complete(t.id);
      return { kind: 'skip', taskId: t.id, reason: 'stored task data no longer matches the schema', pendingId: t.id };
    }
    const task: ScoredTask<unknown> = { id: t.id, round: t.round, createdBlock: t.createdBlock, createdAt: t.createdAt, data: data.data, resolveAt: t.resolveAt, attempts: t.attempts };
    const out = await score(task, reviveAnswers(p.commodity, t.answers));
    if (out instanceof RetryLater) {
      await pending.reschedule(t.id, out.at, t.attempts);
      return { kind: 'skip', taskId: t.id, reason: 'deferred again', pendingId: t.id };
    }
    if (out instanceof Error) {
      log.warn({ task: t.id, err: out.message }, 'scoring a delayed task failed; retried later');
      await pending.reschedule(t.id, { block: block.number + 5 }, t.attempts + 1);
      return { kind: 'skip', taskId: t.id, reason: 'scorer failed', pendingId: t.id };
    }
    return { kind: 'rewards', taskId: t.id, rewards: rewardsOf(out.rewards), state: out.state, pendingId: t.id };
  };

  const drain = async () => {
    const o = await store.drain({ commodity: p.commodity, alpha, hotkeys, self: p.hotkey.ss58Address });
    for (const id of o.completedPending) await pending.complete(id);
  };

  let processed = 0;
  const timeoutMs = p.jobTimeoutMs ?? 2 * p.commodity.timeoutMs + 30_000;
  const processor = async (job: Job): Promise<void> => {
    const end = duration.startTimer();
    const parsed = scaleJobSchema.safeParse(job.data);
    if (!parsed.success) {
      jobs.inc({ result: 'error' });
      throw new Error(`malformed job ${job.id}: ${parsed.error.issues[0]?.message}`);
    }
    const j = parsed.data;
    let timer: NodeJS.Timeout | undefined;
    try {
      // a retried job whose result is already stored only needs the drain
      if (await store.isDone(j.seq)) {
        jobs.inc({ result: 'duplicate' });
      } else {
        const work = j.kind === 'query' ? runQuery(j) : runDue(j);
        const result = await Promise.race([work, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`job timed out after ${timeoutMs} ms`)), timeoutMs)))]);
        const stored = await store.putResult(j.seq, result);
        jobs.inc({ result: !stored ? 'duplicate' : result.kind === 'rewards' ? 'scored' : result.reason.startsWith('deferred') ? 'deferred' : 'skipped' });
      }
      await drain();
      processed++;
    } catch (e) {
      jobs.inc({ result: 'error' });
      throw e;
    } finally {
      clearTimeout(timer);
      end();
    }
  };

  await store.upgradeScoredPending(); // an earlier version's SET → the dated ZSET the drain reads
  const worker = new Worker(keys.taskQueue, processor, {
    connection: bull,
    concurrency: p.concurrency ?? 1,
    // a SIGKILLed worker's job is taken over once its lock lapses (a live worker renews it every lockMs/2)
    lockDuration: p.lockMs ?? 10_000,
    stalledInterval: p.lockMs ?? 10_000,
    maxStalledCount: 50,
  });
  worker.on('failed', (job, err) => log.warn({ job: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed; BullMQ retries it'));
  worker.on('error', (e) => onError(e));
  await worker.waitUntilReady();
  log.info({ concurrency: p.concurrency ?? 1, queue: keys.taskQueue }, 'scale worker ready');

  let stopped: Promise<void> | null = null;
  return {
    metrics: registry,
    processed: () => processed,
    stop: () =>
      (stopped ??= (async () => {
        unsubscribe();
        await worker.close();
        await pending.close().catch(() => {});
        await Promise.all(dendrites.map((d) => d.close().catch(() => {})));
        await closeAll();
        log.info({ processed }, 'scale worker stopped');
      })()),
  };
}
