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
