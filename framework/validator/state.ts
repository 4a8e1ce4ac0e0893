import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { fileProblem } from '../util/fs-errors.ts';

const commitSchema = z.object({
  hash: z.string(),
  uids: z.array(z.number().int().nonnegative()),
  values: z.array(z.number().int().nonnegative()),
  salt: z.array(z.number().int()),
  versionKey: z.string().regex(/^\d+$/),
  commitBlock: z.number().int().nonnegative(),
  commitEpoch: z.number().int().nonnegative(),
  /** False until the chain accepted the commit (persisted first, so a crash never loses a salt). */
  confirmed: z.boolean(),
  /** Hotkey of each committed uid at commit time: a reveal after a uid was recycled is skipped. */
  hotkeys: z.array(z.string()).optional(),
});
export type StoredCommit = z.infer<typeof commitSchema>;

export const validatorStateSchema = z.object({
  version: z.literal(1),
  netuid: z.number().int().nonnegative(),
  hotkey: z.string(),
  step: z.number().int().nonnegative(),
  /** Hex validator secret for task seeds (kept so audits can replay rounds). */
  secret: z.string().regex(/^0x[0-9a-f]{64}$/),
  hotkeys: z.array(z.string()),
  scores: z.record(z.number()),
  minerState: z.record(z.unknown()),
  /** Ids of delayed tasks already applied (idempotency across a crash between scoring and dequeue). */
  scoredTaskIds: z.array(z.string()),
  lastWeightsBlock: z.number().int().nonnegative(),
  commits: z.array(commitSchema),
});
export type ValidatorStateFile = z.infer<typeof validatorStateSchema>;

export type LoadResult = { state: ValidatorStateFile | null; warning?: string };

/**
 * Load the state file; a missing file is a fresh start. A file that is corrupt or belongs to another
 * netuid/hotkey is moved aside (never deleted) and the validator starts fresh.
 */
export async function loadValidatorState(path: string, netuid: number, hotkey: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: null };
    throw fileProblem(e, 'validator state file', path, 'point --state-dir at a writable directory');
  }
  let reason: string | null = null;
  let state: ValidatorStateFile | null = null;
  try {
    const r = validatorStateSchema.safeParse(JSON.parse(text));
    if (!r.success) reason = `invalid: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`;
    else if (r.data.netuid !== netuid || r.data.hotkey !== hotkey) reason = `belongs to netuid ${r.data.netuid} / ${r.data.hotkey}`;
    else state = r.data;
  } catch {
    reason = 'not valid JSON';
  }
  if (state) return { state };
  const aside = `${path}.bad-${Date.now()}`;
  await rename(path, aside).catch((e: unknown) => {
    throw fileProblem(e, `validator state file (${reason}; moving it aside failed)`, path);
  });
  return { state: null, warning: `state file ${path} ${reason}; moved to ${aside}, starting fresh` };
}

/**
 * Serializes atomic writes and coalesces bursts: while one write runs, later requests share a single
 * follow-up write that snapshots the state when it starts, so it includes every change made before it.
 */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  constructor(private readonly path: string) {}
  write(snapshot: () => ValidatorStateFile): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.chain
      .catch(() => {})
      .then(() => {
        this.queued = null;
        return writeFileAtomic(this.path, JSON.stringify(snapshot()));
      });
    this.queued = next;
    this.chain = next;
    return next;
  }
  flush(): Promise<void> {
    return this.chain.catch(() => {});
  }
}
