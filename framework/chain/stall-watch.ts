/**
 * Notices when blocks stop arriving (chain down, socket dropped, node stuck) and when they come back,
 * so long-running processes say so once instead of going silent. Fed by the process's own block
 * subscription; the timer is unref'd so it never keeps a process alive.
 */
export interface StallWatchOptions {
  /** Silence longer than this is an outage (ms). */
  stallMs: number;
  onStall(info: { silentMs: number; lastBlock: number }): void;
  onResume(info: { silentMs: number; block: number }): void;
  /** Check period (ms); default stallMs / 4. */
  checkEveryMs?: number;
  now?: () => number;
}

export class StallWatch {
  private lastAt: number;
  private lastBlock = -1;
  private stalledSince: number | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: StallWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.lastAt = this.now();
    this.timer = setInterval(() => this.check(), opts.checkEveryMs ?? Math.max(250, Math.floor(opts.stallMs / 4)));
    this.timer.unref();
  }

  /** A block arrived. */
  beat(block: number): void {
    const t = this.now();
    if (this.stalledSince !== null) {
      this.opts.onResume({ silentMs: t - this.lastAt, block });
      this.stalledSince = null;
    }
    this.lastAt = t;
    this.lastBlock = block;
  }

  check(): void {
    const silentMs = this.now() - this.lastAt;
    if (this.stalledSince === null && silentMs > this.opts.stallMs) {
      this.stalledSince = this.lastAt;
      this.opts.onStall({ silentMs, lastBlock: this.lastBlock });
    }
  }

  get stalled(): boolean {
    return this.stalledSince !== null;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Minimal logger shape (pino's) so the chain layer needs no logging dependency. */
interface WarnInfoLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A StallWatch that logs the outage once and its end once; `meanwhile` says what the process does. */
export function watchForStalls(stallMs: number, log: WarnInfoLogger, meanwhile: string): StallWatch {
  return new StallWatch({
    stallMs,
    onStall: ({ silentMs, lastBlock }) =>
      log.warn({ lastBlock, silentSeconds: Math.round(silentMs / 1000) }, `no new block for ${Math.round(silentMs / 1000)} s: the chain is unreachable or stalled; ${meanwhile}`),
    onResume: ({ silentMs, block }) => log.info({ block, outageSeconds: Math.round(silentMs / 1000) }, `chain is back at block ${block} after ${Math.round(silentMs / 1000)} s`),
  });
}
