export * from './dendrite.ts';
export type { StreamFraming } from './stream-framing.ts';
export { WorkerSigner, sharedSigner, type SignJob, type SignKey } from './worker-signer.ts';
