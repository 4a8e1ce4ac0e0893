export * from './define.ts';
export * from './rng.ts';
export * from './sampler.ts';
export * from './transforms.ts';
export * from './scorers.ts';
export * from './miner-state.ts';
export * from './pending.ts';
