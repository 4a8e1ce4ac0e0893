import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** The key material a job is signed with (a Keypair fits). Sent with each job: the worker keeps no keys. */
export interface SignKey {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** One batch of messages signed jointly by the caller's thread and the worker (see `WorkerSigner.job`). */
export interface SignJob {
  /** The next index for the caller to sign itself; ≥ the message count once every index is taken. */
  claim(): number;
  /** Hand the worker's finished signatures to `onSignature` now, synchronously (between local signatures). */
  poll(): void;
  /** Settles when the worker has finished its part; rejects when it failed (sign the rest locally then). */
  readonly done: Promise<void>;
  /** Take every remaining index away from the worker and drop its late results. */
  cancel(): void;
}

interface JobState {
  onSignature: (index: number, signature: string) => void;
  resolve: () => void;
  reject: (e: Error) => void;
}

type Reply = { id: number; sigs?: Array<number | string>; done?: boolean; error?: string };

const SCRIPT = new URL('./sign-worker.mjs', import.meta.url);

/**
 * A worker thread that signs request messages, shared by every Dendrite of the process (`sharedSigner()`).
 * Started lazily and `unref()`'d, so it never keeps the process alive. When it fails, pending jobs reject and
 * the caller signs locally; the next job starts a fresh thread.
 */
export class WorkerSigner {
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private nextId = 0;
  private readonly jobs = new Map<number, JobState>();

  /** `script` is for tests (a worker that crashes); the default is sign-worker.mjs. */
  constructor(private readonly script: URL = SCRIPT) {}

  /** Whether a worker thread is up. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Start the thread (and its WASM) ahead of the first job. Throws when a thread cannot be created. */
  start(): void {
    if (this.worker) return;
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(this.script, { workerData: { port: port2 }, transferList: [port2] });
    w.unref();
    port1.on('message', (m: Reply) => this.route(m));
    port1.unref();
    const fail = (e: Error) => {
      if (this.worker !== w) return;
      this.drain(); // results posted before the thread died are still good
      this.worker = null;
      this.port = null;
      port1.close();
      for (const j of this.jobs.values()) j.reject(e);
      this.jobs.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`signer worker exited with code ${code}`)));
    this.worker = w;
    this.port = port1;
  }

  private route(m: Reply): void {
    const j = this.jobs.get(m.id);
    if (!j) return; // cancelled
    if (m.sigs) for (let k = 0; k < m.sigs.length; k += 2) j.onSignature(m.sigs[k] as number, m.sigs[k + 1] as string);
    if (m.done) {
      this.jobs.delete(m.id);
      j.resolve();
    } else if (m.error !== undefined) {
      this.jobs.delete(m.id);
      j.reject(new Error(m.error));
    }
  }

  private drain(): void {
    if (!this.port) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.route(m.message as Reply);
  }

  /**
   * Sign `messages` with `key`. With `shared` (default) the caller signs too: it takes indices with
   * `claim()` while the worker takes others from the same counter. Results arrive through `onSignature`,
   * in groups of `flush`, during `poll()` or as events.
   */
  job(key: SignKey, messages: string[], onSignature: (index: number, signature: string) => void, opts: { shared?: boolean; flush?: number } = {}): SignJob {
    const shared = opts.shared ?? true;
    const claim = new Int32Array(shared ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
    const id = this.nextId++;
    let cancelled = false;
    const done = new Promise<void>((resolve, reject) => {
      this.jobs.set(id, { onSignature, resolve, reject });
      try {
        this.start();
        const payload = { id, publicKey: key.publicKey, secretKey: key.secretKey, messages, claim: shared ? claim : undefined, flush: opts.flush ?? 4 };
        this.worker!.postMessage(payload);
      } catch (e) {
        this.jobs.delete(id);
        reject(e as Error);
      }
    });
    done.catch(() => {}); // the caller decides whether a failure matters (it may have signed everything)
    return {
      claim: () => (shared && !cancelled ? Atomics.add(claim, 0, 1) : messages.length),
      poll: () => this.drain(),
      done,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        if (shared) Atomics.store(claim, 0, messages.length);
        const j = this.jobs.get(id);
        this.jobs.delete(id);
        j?.resolve();
      },
    };
  }

  /** All of `messages` signed in the worker, in order. */
  async sign(key: SignKey, messages: string[]): Promise<string[]> {
    const out = new Array<string>(messages.length);
    await this.job(key, messages, (i, s) => (out[i] = s), { shared: false, flush: messages.length || 1 }).done;
    return out;
  }

  /** Stop the thread; pending jobs reject (their callers sign locally). A later job starts a new one. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    await w.terminate();
  }
}

let shared: WorkerSigner | null = null;

/** The process-wide signer every Dendrite uses by default. */
export function sharedSigner(): WorkerSigner {
  return (shared ??= new WorkerSigner());
}
