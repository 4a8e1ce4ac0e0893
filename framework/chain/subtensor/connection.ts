/**
 * One WebSocket connection per endpoint per process, shared by every SubtensorChain opened on it
 * (reference counted), with reconnect back-off and half-open detection. Recreating ApiPromise per
 * call is the leak the field reports describe; here it is created once and closed with the last user.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { ChainError } from '../types.ts';

export interface ConnectionOptions {
  /** Give up the initial connect after this many ms (default 30 000). */
  connectTimeoutMs?: number;
  /** Largest reconnect back-off, ms (default 30 000; starts at 500, doubles, ±20 % jitter). */
  maxReconnectDelayMs?: number;
  /** Ping period for half-open detection, ms (default 15 000; 0 = off). */
  heartbeatMs?: number;
  /** A ping unanswered for this long drops and reopens the socket, ms (default 10 000). */
  heartbeatTimeoutMs?: number;
}

export interface Connection {
  readonly url: string;
  readonly api: ApiPromise;
  /** JSON-RPC requests sent so far (round trips; for measurements). */
  rpcCount(): number;
  /** Reconnects after the first connect. */
  reconnects(): number;
  isConnected(): boolean;
  release(): Promise<void>;
}

interface Shared {
  conn: Connection;
  refs: number;
  close: () => Promise<void>;
}

const shared = new Map<string, Promise<Shared>>();

/** Open (or join) the process-wide connection to `url`. Call `release()` when done. */
export async function acquireConnection(url: string, opts: ConnectionOptions = {}): Promise<Connection> {
  let entry = shared.get(url);
  if (!entry) {
    entry = open(url, opts);
    shared.set(url, entry);
    entry.catch(() => shared.delete(url));
  }
  const s = await entry;
  s.refs += 1;
  let released = false;
  return {
    ...s.conn,
    release: async () => {
      if (released) return;
      released = true;
      s.refs -= 1;
      if (s.refs === 0) {
        shared.delete(url);
        await s.close();
      }
    },
  };
}

async function open(url: string, opts: ConnectionOptions): Promise<Shared> {
  const maxDelay = opts.maxReconnectDelayMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const heartbeatTimeout = opts.heartbeatTimeoutMs ?? 10_000;
  // autoConnect off: we reconnect ourselves with back-off (WsProvider's own retry is a fixed delay)
  const provider = new WsProvider(url, false, undefined, 60_000);
  let sent = 0;
  const send = provider.send.bind(provider);
  provider.send = ((...args: Parameters<typeof send>) => {
    sent += 1;
    return send(...args);
  }) as typeof provider.send;

  let closed = false;
  let attempt = 0;
  let reconnects = 0;
  let everConnected = false;
  let timer: NodeJS.Timeout | null = null;
  const scheduleReconnect = (): void => {
    if (closed || timer) return;
    const base = Math.min(maxDelay, 500 * 2 ** Math.min(attempt, 16));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt += 1;
    timer = setTimeout(() => {
      timer = null;
      if (closed || provider.isConnected) return;
      provider.connect().catch(() => scheduleReconnect());
    }, delay);
    timer.unref();
  };
  provider.on('connected', () => {
    if (everConnected) reconnects += 1;
    everConnected = true;
    attempt = 0;
  });
  provider.on('disconnected', () => scheduleReconnect());
  provider.on('error', () => scheduleReconnect());

  const connectTimeout = opts.connectTimeoutMs ?? 30_000;
  await provider.connect().catch(() => undefined);
  let api: ApiPromise;
  try {
    api = await withTimeout(ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true }), connectTimeout, `cannot reach ${url} within ${connectTimeout} ms`);
  } catch (e) {
    closed = true;
    if (timer) clearTimeout(timer);
    await provider.disconnect().catch(() => undefined);
    throw new ChainError('ConnectionFailed', describeConnectError(e));
  }

  // Half-open sockets never emit 'disconnected'; a ping that is never answered is the only sign.
  let beat: NodeJS.Timeout | null = null;
  if (heartbeatMs > 0) {
    beat = setInterval(() => {
      if (!provider.isConnected) return;
      withTimeout(provider.send('system_health', []), heartbeatTimeout, 'heartbeat').catch(() => {
        // drop the socket; WsProvider.disconnect() would also stop reconnects, so reopen ourselves
        void provider.disconnect().finally(() => scheduleReconnect());
      });
    }, heartbeatMs);
    beat.unref();
  }

  const conn: Connection = {
    url,
    api,
    rpcCount: () => sent,
    reconnects: () => reconnects,
    isConnected: () => provider.isConnected,
    release: async () => undefined,
  };
  return {
    conn,
    refs: 0,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      if (beat) clearInterval(beat);
      await api.disconnect().catch(() => undefined);
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new ChainError('Timeout', message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(describeConnectError(e)));
      },
    );
  });
}

/** @polkadot rejects a failed connect with a WebSocket ErrorEvent, not an Error: say what happened in words. */
export function describeConnectError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; error?: unknown; type?: unknown };
    if (typeof o.message === 'string' && o.message !== '') return o.message;
    if (o.error instanceof Error && o.error.message !== '') return o.error.message;
    if (o.type === 'error' || o.type === 'close') return 'the WebSocket connection was refused or closed (is the node running and the URL right?)';
  }
  return String(e);
}
