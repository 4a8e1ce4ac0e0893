import { parentPort } from 'node:worker_threads';
import { z } from 'zod';

/** Worker side of workers.ts: imports the requested module once and calls the named export per task. */
const Task = z.object({ id: z.number(), moduleUrl: z.string(), exportName: z.string(), input: z.unknown() });

const modules = new Map<string, Promise<Record<string, unknown>>>();

parentPort?.on('message', async (raw: unknown) => {
  const parsed = Task.safeParse(raw);
  if (!parsed.success) return;
  const { id, moduleUrl, exportName, input } = parsed.data;
  try {
    let mod = modules.get(moduleUrl);
    if (mod === undefined) {
      mod = import(moduleUrl) as Promise<Record<string, unknown>>;
      modules.set(moduleUrl, mod);
    }
    const fn = (await mod)[exportName];
    if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no exported function '${exportName}'`);
    const output: unknown = await fn(input);
    parentPort?.postMessage({ id, ok: true, output });
  } catch (e) {
    const err = e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) };
    parentPort?.postMessage({ id, ok: false, error: err });
  }
});
