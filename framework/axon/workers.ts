import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/**
 * Run CPU-heavy handler work off the event loop, so one slow request does not stall the others
 * (the SDK runs sync `forward_fn` on its event loop and serialises requests, bittensor #3024).
 *
 *   // heavy.ts:  export function solve(input: { n: number }) { … return result; }
 *   const out = await runInWorker(new URL('./heavy.ts', import.meta.url), 'solve', { n: 30 }, ctx.signal);
 *
 * Inputs/outputs cross threads by structured clone. Workers load TypeScript through tsx (`--import tsx`).
 * Aborting a running task terminates its worker (the only way to stop CPU-bound JS) and starts a new one.
 */

// built (dist/*.js) or run from source (framework/*.ts): the entry sits beside this module either way
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker-entry.ts' : './worker-entry.js', import.meta.url);
const TSX_API = resolveTsxEsmApi();
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); })
  .catch((e) => { console.error(e); process.exit(1); });
`;

const Reply = z.union([
  z.object({ id: z.number(), ok: z.literal(true), output: z.unknown() }),
  z.object({ id: z.number(), ok: z.literal(false), error: z.object({ message: z.string(), stack: z.string().optional() }) }),
]);

interface Task {
  id: number;
  moduleUrl: string;
  exportName: string;
  input: unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

export interface WorkerPoolOptions {
  /** Number of worker threads (default: available cores − 1, at least 1). */
  size?: number;
}

export class WorkerPool {
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: WorkerPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism() - 1);
  }

  /** Call `exportName(input)` from `moduleUrl` in a worker thread; resolves with its (awaited) result. */
  run<T = unknown>(moduleUrl: URL | string, exportName: string, input: unknown, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        id: this.nextId++,
        moduleUrl: String(moduleUrl),
        exportName,
        input,
        resolve: resolve as (v: unknown) => void,
        reject,
        signal,
      };
      if (signal) {
        task.onAbort = () => this.abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Terminate all workers; pending tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) this.finish(t, new Error('worker pool closed'));
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        if (s.task) this.finish(s.task, new Error('worker pool closed'));
        await s.worker.terminate();
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.task === undefined);
      if (slot === undefined) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift() as Task;
      slot.task = task;
      slot.worker.postMessage({ id: task.id, moduleUrl: task.moduleUrl, exportName: task.exportName, input: task.input });
    }
  }

  private spawn(): Slot {
    // Workers get no loader hooks from `--import` on Node 20, so the bootstrap registers tsx itself
    // (resolved from this package) and then imports the TypeScript entry.
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry: ENTRY.href, tsx: TSX_API } });
    worker.unref();
    const slot: Slot = { worker, task: undefined };
    worker.on('message', (raw: unknown) => {
      const reply = Reply.safeParse(raw);
      const task = slot.task;
      if (!reply.success || task === undefined || reply.data.id !== task.id) return;
      slot.task = undefined;
      if (reply.data.ok) this.finish(task, undefined, reply.data.output);
      else {
        const err = new Error(reply.data.error.message);
        if (reply.data.error.stack) err.stack = reply.data.error.stack;
        this.finish(task, err);
      }
      this.dispatch();
    });
    worker.on('error', (e) => this.replace(slot, e));
    worker.on('exit', (code) => {
      if (slot.task) this.replace(slot, new Error(`worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  /** Drop a dead or aborted worker: fail its task and let dispatch spawn a fresh one. */
  private replace(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const task = slot.task;
    slot.task = undefined;
    if (task) this.finish(task, err);
    void slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }

  private abort(task: Task): void {
    const qi = this.queue.indexOf(task);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      this.finish(task, abortError(task.signal));
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (slot) this.replace(slot, abortError(task.signal));
  }

  private finish(task: Task, err: Error | undefined, output?: unknown): void {
    if (task.signal && task.onAbort) task.signal.removeEventListener('abort', task.onAbort);
    if (err) task.reject(err);
    else task.resolve(output);
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** URL of tsx's ESM `register()` API, from its package exports (works under tsx, vitest and plain node). */
function resolveTsxEsmApi(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = z
    .object({ exports: z.object({ './esm/api': z.object({ import: z.object({ default: z.string() }) }) }) })
    .parse(req('tsx/package.json'));
  return new URL(pkg.exports['./esm/api'].import.default, pathToFileURL(pkgPath)).href;
}

let shared: WorkerPool | undefined;

/** Run a task on a process-wide shared pool (created on first use). */
export function runInWorker<T = unknown>(moduleUrl: URL | string, exportName: string, input: unknown, signal?: AbortSignal): Promise<T> {
  shared ??= new WorkerPool();
  return shared.run<T>(moduleUrl, exportName, input, signal);
}

/** Close the shared pool (tests, graceful shutdown). */
export async function closeSharedWorkerPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  await p?.close();
}
