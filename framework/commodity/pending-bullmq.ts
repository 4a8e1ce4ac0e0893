import { Queue, type ConnectionOptions } from 'bullmq';
import { isDue, pendingTaskSchema, type PendingStore, type PendingTask, type ResolveAt } from './pending.ts';

export interface BullPendingStoreOptions {
  /** Queue name; one per validator hotkey and netuid (default `subnetkit-pending`). */
  queueName?: string;
  /** ioredis connection options (host/port, or `path` for a unix socket). */
  connection: ConnectionOptions;
  /** Key prefix in Redis (default `bull`). */
  prefix?: string;
}

/**
 * Pending tasks as BullMQ jobs in Redis (jobId = task id), for validators that already run Redis or
 * want several processes to see the queue. Jobs are never consumed by a BullMQ worker here: the
 * validator polls `due()` on new blocks, because readiness is by block number as well as time.
 * Stored data is validated with zod on the way out; an invalid job is removed rather than crashing.
 */
export class BullPendingStore implements PendingStore {
  private readonly queue: Queue;

  constructor(opts: BullPendingStoreOptions) {
    this.queue = new Queue(opts.queueName ?? 'subnetkit-pending', { connection: opts.connection, prefix: opts.prefix });
  }

  async add(task: PendingTask): Promise<void> {
    const t = pendingTaskSchema.parse(task);
    const existing = await this.queue.getJob(t.id);
    if (existing) await existing.updateData(t);
    else await this.queue.add('score', t, { jobId: t.id, removeOnComplete: true, removeOnFail: true });
  }

  private async all(): Promise<PendingTask[]> {
    const jobs = await this.queue.getJobs(['wait', 'paused', 'delayed', 'prioritized']);
    const out: PendingTask[] = [];
    for (const job of jobs) {
      const r = pendingTaskSchema.safeParse(job.data);
      if (r.success) out.push(r.data);
      else await job.remove().catch(() => {});
    }
    return out;
  }

  async due(block: number, now: number, limit = Infinity): Promise<PendingTask[]> {
    return (await this.all())
      .filter((t) => isDue(t.resolveAt, block, now))
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit);
  }

  /** True while the task is stored (not completed). */
  async has(id: string): Promise<boolean> {
    return (await this.queue.getJob(id)) !== undefined;
  }

  async complete(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (job) await job.remove();
  }

  async reschedule(id: string, resolveAt: ResolveAt, attempts: number): Promise<void> {
    const job = await this.queue.getJob(id);
    if (!job) return;
    const t = pendingTaskSchema.parse(job.data);
    await job.updateData({ ...t, resolveAt, attempts });
  }

  async size(): Promise<number> {
    const counts = await this.queue.getJobCounts('wait', 'paused', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
