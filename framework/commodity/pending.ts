import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { fileProblem } from '../util/fs-errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

/** When a delayed task can be scored: at/after `block`, at/after `time` (unix ms), or both. */
export const resolveAtSchema = z
  .object({ block: z.number().int().nonnegative().optional(), time: z.number().nonnegative().optional() })
  .refine((r) => r.block !== undefined || r.time !== undefined, 'resolveAt needs a block or a time');
export type ResolveAt = z.infer<typeof resolveAtSchema>;

export const storedAnswerSchema = z.object({
  uid: z.number().int().nonnegative(),
  hotkey: z.string(),
  ok: z.boolean(),
  statusCode: z.number().int(),
  statusMessage: z.string().nullable(),
  latencyMs: z.number(),
  query: z.unknown(),
  response: z.unknown().nullable(),
  stream: z
    .object({
      chunks: z.array(z.object({ data: z.string(), receivedAt: z.number() })),
      timeToFirstChunkMs: z.number().nullable(),
      chunksPerSecond: z.number().nullable(),
    })
    .optional(),
});
export type StoredAnswer = z.infer<typeof storedAnswerSchema>;

export const pendingTaskSchema = z.object({
  id: z.string().min(1),
  commodity: z.string(),
  round: z.number().int().nonnegative(),
  createdBlock: z.number().int().nonnegative(),
  createdAt: z.number(),
  resolveAt: resolveAtSchema,
  attempts: z.number().int().nonnegative(),
  data: z.unknown(),
  answers: z.array(storedAnswerSchema),
});
export type PendingTask = z.infer<typeof pendingTaskSchema>;

export function isDue(resolveAt: ResolveAt, block: number, now: number): boolean {
  if (resolveAt.block !== undefined && block < resolveAt.block) return false;
  if (resolveAt.time !== undefined && now < resolveAt.time) return false;
  return true;
}

/** Durable queue of tasks waiting to be scored. Implementations must survive a process restart. */
export interface PendingStore {
  add(task: PendingTask): Promise<void>;
  /** Tasks due at (block, now), oldest first. */
  due(block: number, now: number, limit?: number): Promise<PendingTask[]>;
  complete(id: string): Promise<void>;
  reschedule(id: string, resolveAt: ResolveAt, attempts: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

const fileSchema = z.object({ version: z.literal(1), tasks: z.array(pendingTaskSchema) });

/**
 * The default store: one JSON file rewritten atomically on every change (tmp + fsync + rename), so a
 * crash leaves either the old or the new queue. Fine for thousands of tasks; use BullMQ beyond that.
 */
export class FilePendingStore implements PendingStore {
  private readonly tasks = new Map<string, PendingTask>();
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;

  private constructor(readonly path: string) {}

  /** Open (or create) the store. A corrupt file is moved aside to `<path>.corrupt-<ms>`, never deleted. */
  static async open(path: string, onWarn: (msg: string) => void = () => {}): Promise<FilePendingStore> {
    const store = new FilePendingStore(path);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileProblem(e, 'pending task file', path);
    }
    if (text !== null) {
      let parsed: z.SafeParseReturnType<unknown, z.infer<typeof fileSchema>>;
      try {
        parsed = fileSchema.safeParse(JSON.parse(text));
      } catch {
        parsed = { success: false, error: new z.ZodError([]) };
      }
      if (parsed.success) for (const t of parsed.data.tasks) store.tasks.set(t.id, t);
      else {
        const aside = `${path}.corrupt-${Date.now()}`;
        await rename(path, aside).catch((e: unknown) => {
          throw fileProblem(e, 'pending task file (unreadable; moving it aside failed)', path);
        });
        onWarn(`pending task file ${path} is unreadable; moved to ${aside} and starting empty`);
      }
    }
    return store;
  }

  /** One write at a time; requests made while one runs share a single follow-up write of the latest queue. */
  private persist(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.writing
      .catch(() => {})
      .then(() => {
        this.queued = null;
        return writeFileAtomic(this.path, JSON.stringify({ version: 1, tasks: [...this.tasks.values()] }));
      });
    this.queued = next;
    this.writing = next;
    return next;
  }

  async add(task: PendingTask): Promise<void> {
    this.tasks.set(task.id, pendingTaskSchema.parse(task));
    await this.persist();
  }

  async due(block: number, now: number, limit = Infinity): Promise<PendingTask[]> {
    return [...this.tasks.values()]
      .filter((t) => isDue(t.resolveAt, block, now))
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit);
  }

  async complete(id: string): Promise<void> {
    if (this.tasks.delete(id)) await this.persist();
  }

  async reschedule(id: string, resolveAt: ResolveAt, attempts: number): Promise<void> {
    const t = this.tasks.get(id);
    if (!t) return;
    this.tasks.set(id, { ...t, resolveAt, attempts });
    await this.persist();
  }

  async size(): Promise<number> {
    return this.tasks.size;
  }

  async close(): Promise<void> {
    await this.writing.catch(() => {});
  }
}
