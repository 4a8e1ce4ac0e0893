export type { Axon, AxonOptions, AttachOptions, BlacklistPolicy, CallerInfo, CallerInfoProvider, Handler, HandlerContext } from './types.ts';
export { createAxon, PingSynapse } from './axon.ts';
export { AXON_DEFAULTS } from './options.ts';
export { WorkerPool, runInWorker, closeSharedWorkerPool, type WorkerPoolOptions } from './workers.ts';
export { NonceStore, type NonceVerdict } from './nonce-store.ts';
export { RateLimiter } from './rate-limiter.ts';
export { AdmissionQueue, AdmissionError } from './admission.ts';
export { makeBlacklist, callerClass, type CallerClass } from './blacklist.ts';
