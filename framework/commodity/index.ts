import { UserError } from '../errors.ts';

export * from './define.ts';
export * from './rng.ts';
export * from './sampler.ts';
export * from './transforms.ts';
export * from './scorers.ts';
export * from './miner-state.ts';
export * from './pending.ts';
export type { BullPendingStoreOptions, BullPendingStore } from './pending-bullmq.ts';

/** Open the BullMQ/Redis pending store; loaded on demand so BullMQ costs nothing when unused. */
export async function openBullPendingStore(opts: import('./pending-bullmq.ts').BullPendingStoreOptions): Promise<import('./pending-bullmq.ts').BullPendingStore> {
  const { BullPendingStore } = await import('./pending-bullmq.ts');
  return new BullPendingStore(opts);
}
export type { SqlitePendingStore } from './pending-sqlite.ts';

/** Open the SQLite pending store (O(log n) per change; for long backlogs); loaded on demand like BullMQ. */
export async function openSqlitePendingStore(path: string): Promise<import('./pending-sqlite.ts').SqlitePendingStore> {
  let mod: typeof import('./pending-sqlite.ts');
  try {
    mod = await import('./pending-sqlite.ts');
  } catch (e) {
    // better-sqlite3 is an optional peer of the published package: only this store needs it
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes('better-sqlite3')) {
      throw new UserError('the SQLite pending store needs better-sqlite3: npm install better-sqlite3@12');
    }
    throw e;
  }
  return mod.SqlitePendingStore.open(path);
}
