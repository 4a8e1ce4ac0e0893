/**
 * Start chopsticks (real subtensor runtime wasm, substrate JSON-RPC over WebSocket) for tests: config
 * written to a temp dir with absolute paths, started as `node …/chopsticks.cjs` (never npx: killing
 * npx leaves the node child running), Manual block mode, killed by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_DATA = join(ROOT, '..', 'shared', 'data');
export const CHOPSTICKS_BIN = join(ROOT, 'node_modules', '@acala-network', 'chopsticks', 'chopsticks.cjs');

export type RuntimeSpec = 185 | 218;
const GENESIS: Record<RuntimeSpec, string> = { 185: 'subtensor-spec185-testfinney.json', 218: 'subtensor-spec218-raonet.json' };

/** Why chopsticks cannot run here, or null if it can. */
export function chopsticksMissing(spec: RuntimeSpec): string | null {
  if (!existsSync(CHOPSTICKS_BIN)) return `chopsticks is not installed (${CHOPSTICKS_BIN}); run npm ci`;
  const g = join(SHARED_DATA, GENESIS[spec]);
  if (!existsSync(g)) return `the spec ${spec} chain spec is missing (${g})`;
  return null;
}

export interface Chopsticks {
  url: string;
  port: number;
  /** ms from spawn to "RPC listening". */
  startupMs: number;
  /** Build `count` blocks (dev_newBlock). */
  newBlock(count?: number): Promise<void>;
  /**
   * chopsticks' `dev_setStorage` on the head block, `{ Pallet: { Item: [[keys, value], …] } }` (the
   * format of the config's import-storage): dev-chain setup only, never a shortcut for the adapter.
   */
  setStorage(values: Record<string, Record<string, unknown>>): Promise<void>;
  /** Transactions in the pool. */
  pending(): Promise<number>;
  /** Wait until the pool holds at least `n` transactions (a fixed sleep can build an empty block). */
  waitPending(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** A tiny JSON-RPC client for the dev_* methods, on its own socket. */
async function rpcSocket(url: string): Promise<{ call(method: string, params: unknown[]): Promise<unknown>; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  let id = 0;
  const waiting = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  ws.on('message', (d: Buffer) => {
    const msg = JSON.parse(d.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const w = msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!w) return;
    waiting.delete(msg.id as number);
    if (msg.error) w.rej(new Error(msg.error.message));
    else w.res(msg.result);
  });
  return {
    call: (method, params) =>
      new Promise((res, rej) => {
        id += 1;
        waiting.set(id, { res, rej });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
    close: () => ws.close(),
  };
}

export interface StartOptions {
  timeoutMs?: number;
  /** Keep chopsticks' whole log in this file (appended) for the life of the process, e.g. for a long bench. */
  logFile?: string;
  /**
   * V8 stack for chopsticks, in KiB (node --stack-size; default V8's ~984). Chopsticks stacks a storage
   * layer per block change and reads through them recursively, so a chain built from genesis overflows the
   * default stack after a few thousand blocks; a long bench needs more. Keep it well under `ulimit -s`.
   */
  stackSizeKb?: number;
}

export async function startChopsticks(spec: RuntimeSpec, opts: StartOptions = {}): Promise<Chopsticks> {
  const missing = chopsticksMissing(spec);
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), `chopsticks-${spec}-`));
  const yml = await readFile(join(SHARED_DATA, 'chopsticks', `spec${spec}.yml`), 'utf8');
  const cfg = join(dir, `spec${spec}.yml`);
  await writeFile(cfg, yml.replace(/^genesis:.*$/m, `genesis: ${JSON.stringify(join(SHARED_DATA, GENESIS[spec]))}`));
  const port = await freePort();
  const t0 = Date.now();
  const node = opts.stackSizeKb ? [`--stack-size=${opts.stackSizeKb}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...node, CHOPSTICKS_BIN, '-c', cfg, '--port', String(port)], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  // a parent that dies without stop() (a crashed bench, an unhandled rejection) must not leave it running
  const reap = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  let log = '';
  const onData = (d: Buffer): void => {
    if (log.length < 200_000) log += d.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    await rm(dir, { recursive: true, force: true });
  };
  // chopsticks silently moves to another port when ours is taken: read the one it announces
  const actual = await new Promise<number>((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`chopsticks spec ${spec} not ready within ${opts.timeoutMs ?? 90_000} ms:\n${log.slice(-2000)}`)), opts.timeoutMs ?? 90_000);
    const check = (): void => {
      const m = /RPC listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(limit);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(limit);
      reject(new Error(`chopsticks exited (${code}):\n${log.slice(-2000)}`));
    });
  }).catch(async (e: unknown) => {
    await kill();
    throw e;
  });
  const startupMs = Date.now() - t0;
  // drop the log once started (a long run must not grow the test process), or stream it to a file
  child.stdout?.removeListener('data', onData);
  child.stderr?.removeListener('data', onData);
  if (opts.logFile) {
    const file = createWriteStream(opts.logFile, { flags: 'a' });
    file.write(log);
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    child.once('exit', () => file.end());
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const url = `ws://127.0.0.1:${actual}`;
  const rpc = await rpcSocket(url);
  const pending = async (): Promise<number> => ((await rpc.call('author_pendingExtrinsics', [])) as unknown[]).length;
  return {
    url,
    port: actual,
    startupMs,
    newBlock: async (count = 1) => {
      await rpc.call('dev_newBlock', [{ count }]);
    },
    setStorage: async (values) => {
      await rpc.call('dev_setStorage', [values]);
    },
    pending,
    waitPending: async (n, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      while ((await pending()) < n) {
        if (Date.now() > end) throw new Error(`pool did not reach ${n} transactions within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: async () => {
      rpc.close();
      await kill();
    },
  };
}

/**
 * Register the suite for a real runtime: under CI=true a missing chopsticks fails the suite, elsewhere
 * it is skipped loudly. Returns the reason it cannot run, or null.
 */
export function chopsticksGate(spec: RuntimeSpec): string | null {
  const missing = chopsticksMissing(spec);
  if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPED: ${missing} ***\n\n`);
  return missing && process.env.CI === 'true' ? null : missing;
}
