import { ChainError } from './types.ts';
import type { EpochSchedule } from './types.ts';

/**
 * subtensor's stateful epoch scheduler (dynamic tempo, since May 2026): an epoch fires when
 * `block − LastEpochBlock ≥ tempo` or when an owner-triggered `PendingEpochAt` is due; the period is
 * `tempo` (no longer tempo + 1). Owner actions close during the last `AdminFreezeWindow` blocks
 * before an epoch, and for the whole countdown of a triggered one.
 */

/** `AdminFreezeWindow` default. */
export const ADMIN_FREEZE_WINDOW = 10;
/** Owner `set_tempo` bounds. */
export const MIN_TEMPO = 360;
export const MAX_TEMPO = 50_400;
/** `MaxEpochsPerBlock`: further due epochs are deferred one block. */
export const MAX_EPOCHS_PER_BLOCK = 2;
/** `OwnerHyperparamRateLimit` in tempos (trigger_epoch and other owner hyperparameter calls). */
export const OWNER_HYPERPARAM_RATE_LIMIT_TEMPOS = 2;
/** `MechanismCountSetRateLimit` and `MechanismEmissionRateLimit` (production values). */
export const MECHANISM_RATE_LIMIT_BLOCKS = 7_200;

export interface ScheduleFields {
  netuid: number;
  registeredAt: number;
  hp: { tempo: number; commitRevealWeightsEnabled: boolean };
  lastEpochBlock: number;
  pendingEpochAt: number;
  firstEmissionBlock: number | null;
  epochIndex: number;
  /** Last block each rate-limited owner transaction ran (`LastRateLimitedBlock`). */
  ownerLastBlock: Record<string, number>;
}

export type OwnerTx = 'setTempo' | 'triggerEpoch' | 'setMechanismCount' | 'setMechanismEmissionSplit';

/** `init_new_network`: LastEpochBlock staggered by netuid so subnets do not all fire together. */
export function initialLastEpochBlock(netuid: number, tempo: number, block: number): number {
  return Math.max(0, block - (netuid % Math.max(1, tempo)));
}

export function shouldRunEpochAt(s: ScheduleFields, block: number): boolean {
  if (s.hp.tempo === 0) return false;
  if (s.pendingEpochAt > 0 && block >= s.pendingEpochAt) return true;
  return block - s.lastEpochBlock >= s.hp.tempo;
}

export function blocksUntilNextAutoEpoch(s: ScheduleFields, block: number): number {
  return Math.max(0, s.lastEpochBlock + s.hp.tempo - block);
}

export function isInAdminFreezeWindow(s: ScheduleFields, block: number): boolean {
  if (s.pendingEpochAt > 0 && s.pendingEpochAt > block) return true;
  return blocksUntilNextAutoEpoch(s, block) < ADMIN_FREEZE_WINDOW;
}

export function ensureAdminWindowOpen(s: ScheduleFields, block: number): void {
  if (isInAdminFreezeWindow(s, block)) {
    throw new ChainError('AdminActionProhibitedDuringWeightsWindow', `netuid ${s.netuid}: the next epoch is less than ${ADMIN_FREEZE_WINDOW} blocks away`);
  }
}

export function ownerRateLimit(s: ScheduleFields, tx: OwnerTx): number {
  switch (tx) {
    case 'setTempo':
      return MIN_TEMPO;
    case 'triggerEpoch':
      return s.hp.tempo * OWNER_HYPERPARAM_RATE_LIMIT_TEMPOS;
    case 'setMechanismCount':
    case 'setMechanismEmissionSplit':
      return MECHANISM_RATE_LIMIT_BLOCKS;
  }
}

/** `passes_rate_limit_on_subnet`: the first call always passes. */
export function ensureOwnerRateLimit(s: ScheduleFields, tx: OwnerTx, block: number): void {
  const last = s.ownerLastBlock[tx] ?? 0;
  const limit = ownerRateLimit(s, tx);
  if (last !== 0 && block - last < limit) throw new ChainError('TxRateLimitExceeded', `${tx} on netuid ${s.netuid}: last at block ${last}, limit ${limit} blocks`);
}

/** `do_set_tempo` after the origin check: bounds, freeze window, rate limit, then the cycle reset. */
export function setTempo(s: ScheduleFields, tempo: number, block: number): void {
  if (!Number.isInteger(tempo) || tempo < MIN_TEMPO || tempo > MAX_TEMPO) throw new ChainError('TempoOutOfBounds', `tempo must be ${MIN_TEMPO}…${MAX_TEMPO}`);
  ensureAdminWindowOpen(s, block);
  ensureOwnerRateLimit(s, 'setTempo', block);
  s.hp.tempo = tempo;
  s.lastEpochBlock = block;
  s.ownerLastBlock.setTempo = block;
}

/** `do_trigger_epoch` after the origin check; returns the block the epoch fires at. */
export function triggerEpoch(s: ScheduleFields, block: number): number {
  if (s.hp.commitRevealWeightsEnabled) throw new ChainError('DynamicTempoBlockedByCommitReveal', 'turn commit-reveal off to trigger epochs');
  if (s.pendingEpochAt !== 0) throw new ChainError('EpochTriggerAlreadyPending', `an epoch is already due at block ${s.pendingEpochAt}`);
  if (blocksUntilNextAutoEpoch(s, block) < ADMIN_FREEZE_WINDOW) throw new ChainError('AutoEpochAlreadyImminent');
  ensureOwnerRateLimit(s, 'triggerEpoch', block);
  s.pendingEpochAt = block + ADMIN_FREEZE_WINDOW;
  s.ownerLastBlock.triggerEpoch = block;
  return s.pendingEpochAt;
}

/** `do_start_call` after the origin check; returns `FirstEmissionBlockNumber` (the next block). */
export function startCall(s: ScheduleFields, block: number, startCallDelay: number): number {
  if (s.firstEmissionBlock !== null) throw new ChainError('FirstEmissionBlockNumberAlreadySet');
  if (block < s.registeredAt + startCallDelay) {
    throw new ChainError('NeedWaitingMoreBlocksToStarCall', `start_call opens at block ${s.registeredAt + startCallDelay}`);
  }
  s.firstEmissionBlock = block + 1;
  return s.firstEmissionBlock;
}

export function emissionStarted(s: ScheduleFields, block: number): boolean {
  return s.firstEmissionBlock !== null && block >= s.firstEmissionBlock;
}

export function epochSchedule(s: ScheduleFields): EpochSchedule {
  const auto = s.lastEpochBlock + s.hp.tempo;
  return {
    tempo: s.hp.tempo,
    lastEpochBlock: s.lastEpochBlock,
    pendingEpochAt: s.pendingEpochAt,
    nextEpochBlock: s.pendingEpochAt > 0 ? Math.min(auto, s.pendingEpochAt) : auto,
    firstEmissionBlock: s.firstEmissionBlock,
    epochIndex: s.epochIndex,
  };
}
