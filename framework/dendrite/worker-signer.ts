import { Worker } from 'node:worker_threads';
import type { Keypair } from '../wallet/keypair.ts';

interface Pending {
  resolve: (sigs: string[]) => void;
  reject: (e: Error) => void;
}

/**
 * One worker thread that signs batches of messages with the dendrite's hotkey, so a fan-out signs on two
 * cores (this thread and the worker). Started lazily; failures reject, and the caller signs locally instead.
 */
export class WorkerSigner {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly keypair: Keypair) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./sign-worker.mjs', import.meta.url), {
      workerData: { publicKey: this.keypair.publicKey, secretKey: this.keypair.secretKey },
    });
    w.unref();
    w.on('message', (m: { id: number; signatures?: string[]; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.signatures) p.resolve(m.signatures);
      else p.reject(new Error(m.error ?? 'signing failed'));
    });
    const failAll = (e: Error) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.worker = null;
    };
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('signer worker exited')));
    this.worker = w;
    return w;
  }

  sign(messages: string[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      try {
        this.start().postMessage({ id, messages });
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
