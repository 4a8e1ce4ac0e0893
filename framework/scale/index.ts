export { startCoordinator, type StartCoordinatorParams, type CoordinatorOptions, type CoordinatorHandle } from './coordinator.ts';
export { startScaleWorker, type StartScaleWorkerParams, type ScaleWorkerHandle } from './worker.ts';
export { ScaleStore, DISPATCHED_SEGMENT_SEQS, type ScaleCounters, type DrainContext, type DrainOutcome } from './store.ts';
export { scaleKeys, type ScaleKeys } from './keys.ts';
export { Lease } from './lease.ts';
export { readMeta, type ScaleMeta, type MigrationReport } from './meta.ts';
export { redisUrlSchema } from './connection.ts';
