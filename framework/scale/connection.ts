import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Chain } from '../chain/types.ts';
import type { Commodity } from '../commodity/define.ts';
import { UserError } from '../errors.ts';
import type { Keypair } from '../wallet/keypair.ts';

/** Which split validator a coordinator or worker process belongs to (its Redis keys derive from these). */
export interface ScaleProcessParams {
  chain: Chain;
  netuid: number;
  mechid?: number;
  hotkey: Keypair;
  commodity: Commodity;
  redisUrl: string;
}

export const redisUrlSchema = z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL');

/**
 * A connection that rides out a Redis restart: commands wait in the offline queue while ioredis
 * reconnects (BullMQ requires `maxRetriesPerRequest: null` for the same reason), so a restart delays
 * work instead of failing it. Errors are logged once per outage by the caller, not printed per retry.
 */
export function openRedis(url: string, onError?: (e: Error) => void, opts: { transactions?: boolean } = {}): Redis {
  const parsed = redisUrlSchema.safeParse(url);
  if (!parsed.success) throw new UserError(`--redis ${url}: ${parsed.error.issues[0]?.message}`);
  const r = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (n) => Math.min(50 * n, 1000),
    // a MULTI/EXEC resent after a reconnect would run without its WATCH: let the caller re-read instead
    autoResendUnfulfilledCommands: !opts.transactions,
  });
  r.on('error', (e: Error) => onError?.(e));
  return r;
}

/** Resolve once the connection is ready, or fail with one line (wrong URL, nothing listening). */
export async function waitReady(r: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  if (r.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new UserError(`cannot reach Redis at ${url} within ${timeoutMs} ms`, { hint: 'start redis-server, or check --redis' }));
    }, timeoutMs);
    const ok = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(t);
      r.off('ready', ok);
    };
    r.on('ready', ok);
  });
}

/** Quit politely; disconnect when Redis is gone. */
export async function closeRedis(r: Redis): Promise<void> {
  await Promise.race([r.quit().catch(() => {}), new Promise((res) => setTimeout(res, 1000))]);
  r.disconnect();
}
