export * from './dendrite.ts';
export type { StreamFraming } from './stream-framing.ts';
