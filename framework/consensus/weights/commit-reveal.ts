/**
 * Commit-reveal v2 (`commit_weights` / `reveal_weights`), as subtensor implements it in
 * pallets/subtensor/src/subnets/weights.rs. Pure functions: the local chain keeps the queue in its state,
 * the validator runtime uses the hash and the window helpers.
 */
import { randomFillSync } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2';
import { bytesToHex } from '@noble/hashes/utils';
import { decodeAddress } from '@polkadot/util-crypto';
import { UserError } from '../../errors.ts';
import type { WeightCommit } from '../../chain/types.ts';
import { passesRateLimit } from './rules.ts';

/** subtensor rejects a commit when this many unexpired commits are already queued for the hotkey. */
export const MAX_UNREVEALED_COMMITS = 10;
/** Storage index of a mechanism: `mecid · 4096 + netuid` (mechanism 0 → the netuid itself). */
export const MECHANISM_STORAGE_STRIDE = 4096;

export function netuidStorageIndex(netuid: number, mecid = 0): number {
  const index = mecid * MECHANISM_STORAGE_STRIDE + netuid;
  assertU16(index, 'netuid storage index');
  return index;
}

export interface CommitHashInput {
  /** 32-byte public key or its SS58 address. */
  hotkey: Uint8Array | string;
  /** `NetUidStorageIndex`: the netuid for mechanism 0. */
  netuidIndex: number;
  uids: number[];
  values: number[];
  salt: number[];
  versionKey: bigint;
}

function assertU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new UserError(`${what} ${v} is not a u16`);
}

function hotkeyBytes(hotkey: Uint8Array | string): Uint8Array {
  if (typeof hotkey !== 'string') {
    if (hotkey.length !== 32) throw new UserError(`hotkey public key must be 32 bytes, got ${hotkey.length}`);
    return hotkey;
  }
  try {
    const pk = decodeAddress(hotkey);
    if (pk.length !== 32) throw new Error('not 32 bytes');
    return pk;
  } catch {
    throw new UserError(`invalid hotkey address: ${hotkey}`, { hint: 'pass an SS58 address or a 32-byte public key' });
  }
}

/** SCALE compact length prefix (the only form a Vec length takes in practice: < 2^30). */
function compactLength(n: number): number[] {
  if (n < 1 << 6) return [n << 2];
  if (n < 1 << 14) return [((n << 2) | 1) & 0xff, (n >> 6) & 0xff];
  if (n < 1 << 30) {
    const v = ((n << 2) | 2) >>> 0;
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  }
  throw new UserError(`vector of ${n} items is too long`);
}

function pushU16(out: number[], v: number): void {
  out.push(v & 0xff, v >> 8);
}

function pushVecU16(out: number[], items: number[], what: string): void {
  out.push(...compactLength(items.length));
  for (const v of items) {
    assertU16(v, what);
    pushU16(out, v);
  }
}

/** The bytes subtensor hashes: SCALE `(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)`. */
export function encodeCommitPayload(input: CommitHashInput): Uint8Array {
  assertU16(input.netuidIndex, 'netuid index');
  if (input.versionKey < 0n || input.versionKey > 0xffff_ffff_ffff_ffffn) {
    throw new UserError(`version key ${input.versionKey} is not a u64`);
  }
  const out: number[] = [...hotkeyBytes(input.hotkey)];
  pushU16(out, input.netuidIndex);
  pushVecU16(out, input.uids, 'uid');
  pushVecU16(out, input.values, 'weight value');
  pushVecU16(out, input.salt, 'salt item');
  let vk = input.versionKey;
  for (let i = 0; i < 8; i++) {
    out.push(Number(vk & 0xffn));
    vk >>= 8n;
  }
  return Uint8Array.from(out);
}

/** `BlakeTwo256::hash_of(&(who, netuid_index, uids, values, salt, version_key))` as `0x` + 64 hex. */
export function commitHashV2(input: CommitHashInput): string {
  return `0x${bytesToHex(blake2b(encodeCommitPayload(input), { dkLen: 32 }))}`;
}

/** Random u16 salt (crypto RNG). Keep it with the commit: the reveal must present the same salt. */
export function generateSalt(len = 8): number[] {
  if (!Number.isInteger(len) || len < 1 || len > 1024) throw new UserError(`salt length ${len} must be 1..1024`);
  return Array.from(randomFillSync(new Uint16Array(len)));
}

export interface RevealWindowInput {
  /** `SubnetEpochIndex` (with look-ahead) when the commit was made, as stored in `WeightCommits`. */
  commitEpoch: number;
  /** `SubnetEpochIndex` now, plus 1 if an epoch fires in the current block. */
  currentEpoch: number;
  revealPeriodEpochs: number;
}

/** Reveal is accepted only in the single epoch `commitEpoch + revealPeriodEpochs`. */
export function canReveal(w: RevealWindowInput): boolean {
  return w.currentEpoch === w.commitEpoch + w.revealPeriodEpochs;
}

/** A commit expires once the current epoch has moved past its reveal epoch. */
export function isCommitExpired(w: RevealWindowInput): boolean {
  return w.currentEpoch > w.commitEpoch + w.revealPeriodEpochs;
}

export type RevealStatus = 'too-early' | 'open' | 'expired';

export function revealStatus(w: RevealWindowInput): RevealStatus {
  if (isCommitExpired(w)) return 'expired';
  return canReveal(w) ? 'open' : 'too-early';
}

/** subtensor's `current_epoch_with_lookahead`: a commit on a fire block belongs to the about-to-fire epoch. */
export function currentEpochWithLookahead(epochIndex: number, epochFiresThisBlock: boolean): number {
  return epochFiresThisBlock ? epochIndex + 1 : epochIndex;
}

/**
 * Block-derived epoch index used by runtimes before the `SubnetEpochIndex` counter (e.g. the runtime of
 * the shipped v16 metadata, which has no such storage item): `(block + netuid + 1) / (tempo + 1)`.
 */
export function legacyEpochIndex(block: number, netuid: number, tempo: number): number {
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** Errors applyCommit / applyReveal can return (subtensor names). */
export const COMMIT_REVEAL_ERRORS = [
  'CommitRevealDisabled',
  'HotKeyNotRegisteredInSubNet',
  'CommittingWeightsTooFast',
  'TooManyUnrevealedCommits',
  'NoWeightsCommitFound',
  'ExpiredWeightCommit',
  'InvalidRevealCommitHashNotMatch',
  'RevealTooEarly',
] as const;
export type CommitRevealError = (typeof COMMIT_REVEAL_ERRORS)[number];

export type CommitOutcome = { ok: true; queue: WeightCommit[] } | { ok: false; error: CommitRevealError };

export interface CommitCall {
  hash: string;
  hotkeyUid: number | null;
  currentBlock: number;
  currentEpoch: number;
  /** `LastUpdate` of the hotkey's uid (0 = never). */
  lastUpdate: number;
}

export interface CommitRevealState {
  commitRevealEnabled: boolean;
  revealPeriodEpochs: number;
  weightsSetRateLimit: number;
}

/**
 * `commit_weights`: CommitRevealDisabled → HotKeyNotRegisteredInSubNet → CommittingWeightsTooFast, then drop
 * expired commits from the front of the queue, TooManyUnrevealedCommits if 10 remain, append. On success
 * the caller also sets `LastUpdate[uid] = currentBlock`.
 */
export function applyCommit(queue: readonly WeightCommit[], call: CommitCall, state: CommitRevealState): CommitOutcome {
  if (!state.commitRevealEnabled) return { ok: false, error: 'CommitRevealDisabled' };
  if (call.hotkeyUid === null) return { ok: false, error: 'HotKeyNotRegisteredInSubNet' };
  if (!passesRateLimit(call.currentBlock, call.lastUpdate, state.weightsSetRateLimit)) {
    return { ok: false, error: 'CommittingWeightsTooFast' };
  }
  const next = dropExpiredFront(queue, call.currentEpoch, state.revealPeriodEpochs).kept;
  if (next.length >= MAX_UNREVEALED_COMMITS) return { ok: false, error: 'TooManyUnrevealedCommits' };
  next.push({ hash: normalizeHash(call.hash), commitEpoch: call.currentEpoch, commitBlock: call.currentBlock });
  return { ok: true, queue: next };
}

export type RevealOutcome = { ok: true; queue: WeightCommit[]; revealed: WeightCommit } | { ok: false; error: CommitRevealError };

/**
 * `reveal_weights` queue logic: CommitRevealDisabled, NoWeightsCommitFound, then expired commits are dropped
 * from the front; a hash matching only an expired commit → ExpiredWeightCommit; no match →
 * InvalidRevealCommitHashNotMatch (NoWeightsCommitFound if nothing is left); outside its epoch →
 * RevealTooEarly. On success every commit up to and including the revealed one is removed, and the
 * caller must run validateSetWeights (kind 'reveal'); if that fails the whole call fails and the queue
 * stays as it was (subtensor's storage transaction reverts).
 */
export function applyReveal(
  queue: readonly WeightCommit[],
  call: { hash: string; currentEpoch: number },
  state: Pick<CommitRevealState, 'commitRevealEnabled' | 'revealPeriodEpochs'>,
): RevealOutcome {
  if (!state.commitRevealEnabled) return { ok: false, error: 'CommitRevealDisabled' };
  if (queue.length === 0) return { ok: false, error: 'NoWeightsCommitFound' };
  const hash = normalizeHash(call.hash);
  const { kept, expired } = dropExpiredFront(queue, call.currentEpoch, state.revealPeriodEpochs);
  const expiredMatch = expired.some((c) => normalizeHash(c.hash) === hash);
  if (kept.length === 0) return { ok: false, error: expiredMatch ? 'ExpiredWeightCommit' : 'NoWeightsCommitFound' };
  const position = kept.findIndex((c) => normalizeHash(c.hash) === hash);
  if (position < 0) return { ok: false, error: expiredMatch ? 'ExpiredWeightCommit' : 'InvalidRevealCommitHashNotMatch' };
  const revealed = kept[position];
  const window = { commitEpoch: revealed.commitEpoch, currentEpoch: call.currentEpoch, revealPeriodEpochs: state.revealPeriodEpochs };
  if (!canReveal(window)) return { ok: false, error: 'RevealTooEarly' };
  return { ok: true, queue: kept.slice(position + 1), revealed };
}

function dropExpiredFront(
  queue: readonly WeightCommit[],
  currentEpoch: number,
  revealPeriodEpochs: number,
): { kept: WeightCommit[]; expired: WeightCommit[] } {
  let i = 0;
  while (i < queue.length && isCommitExpired({ commitEpoch: queue[i].commitEpoch, currentEpoch, revealPeriodEpochs })) i++;
  return { kept: queue.slice(i).map((c) => ({ ...c })), expired: queue.slice(0, i).map((c) => ({ ...c })) };
}

const H256_HEX = /^0x[0-9a-fA-F]{64}$/;

function normalizeHash(hash: string): string {
  if (!H256_HEX.test(hash)) throw new UserError(`invalid commit hash ${hash}: expected 0x + 64 hex digits`);
  return hash.toLowerCase();
}
