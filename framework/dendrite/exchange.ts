import { util } from 'undici';
import type { Phase } from './failures.ts';

export class OversizeError extends Error {
  constructor(readonly limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * One request on undici's `dispatch` handler API, for fan-outs: the body is collected into buffers under the
 * size cap, with no response stream, AbortSignal, timer or promise of its own (the fan-out keeps one timer
 * and one promise for all of them). Measured at 256 targets this plumbing cost ~2× raw undici's per request
 * through `agent.request` + AbortController + setTimeout, and the signing thread spends it before the
 * last request leaves. `onSettled` runs exactly once: on completion, on error, or at `expire()`.
 */
export class Exchange {
  statusCode = 0;
  headers: Record<string, string | string[] | undefined> = {};
  /** 'body' once the response headers arrived (a later error is a payload error, not a connection error). */
  phase: Phase = 'connect';
  body: Buffer = EMPTY;
  error: unknown = null;
  timedOut = false;
  settled = false;
  /** performance.now() when the request was handed to undici. */
  started = 0;
  private abortRequest: ((e: Error) => void) | null = null;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    readonly index: number,
    private readonly limit: number,
    private readonly onSettled: (x: Exchange) => void,
  ) {}

  /** The deadline passed: settle as timed out and drop the connection if the request is on one. */
  expire(): void {
    if (this.settled) return;
    this.timedOut = true;
    this.settle();
    this.abortRequest?.(new Error('request deadline passed'));
  }

  private settle(): void {
    this.settled = true;
    this.parts = [];
    this.onSettled(this);
  }

  // undici's (legacy) dispatch handler interface; a throw inside a callback aborts the request with it

  onConnect(abort: (e?: Error) => void): void {
    if (this.settled) abort(new Error('request deadline passed'));
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, _statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: the real answer follows
    this.statusCode = statusCode;
    this.headers = util.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>;
    this.phase = 'body';
    const declared = this.headers['content-length'];
    if (typeof declared === 'string' && Number(declared) > this.limit) throw new OversizeError(this.limit);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.limit) throw new OversizeError(this.limit);
    this.parts.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.body = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
    this.settle();
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.error = err;
    this.settle();
  }
}

/**
 * Per-request deadlines of one fan-out behind a single timer. Requests are added in dispatch order, so their
 * deadlines are non-decreasing: the timer always waits for the oldest unsettled one.
 */
export class Deadlines {
  private readonly queue: Array<{ x: Exchange; at: number }> = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {}

  add(x: Exchange): void {
    this.queue.push({ x, at: x.started + this.timeoutMs });
    if (this.timer === null) this.arm();
  }

  private arm(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as { x: Exchange }).x.settled) this.head++;
    const next = this.queue[this.head];
    if (!next) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - performance.now()));
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.queue.length) {
      const e = this.queue[this.head] as { x: Exchange; at: number };
      if (!e.x.settled && e.at > now) break;
      e.x.expire();
      this.head++;
    }
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
