import { blake2b } from '@noble/hashes/blake2b';
import { bytesToHex } from '@noble/hashes/utils';
import { compactToU8a, u8aConcat } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import type { SparseRow } from '../consensus/types.ts';
import { ChainError } from './types.ts';
import type { ChainState, SubnetState } from './state.ts';

// INTERIM: replaced by framework/consensus/weights (validateSetWeights, storedWeightRow, commitHashV2,
// canReveal) as soon as it lands; the chain only calls the four functions below.

export interface WeightsCall {
  uids: number[];
  values: number[];
  versionKey: bigint;
}

/** set_weights checks in subtensor's order; returns the caller's uid or throws ChainError(name). */
export function checkSetWeights(_state: ChainState, subnet: SubnetState, hotkey: string, call: WeightsCall, block: number): number {
  const { uids, values } = call;
  const n = subnet.keys.length;
  if (uids.length !== values.length) throw new ChainError('WeightVecNotEqualSize');
  if (uids.length > n) throw new ChainError('UidsLengthExceedUidsInSubNet');
  const uid = subnet.keys.indexOf(hotkey);
  if (uid < 0) throw new ChainError('HotKeyNotRegisteredInSubNet');
  const key = subnet.hp.weightsVersionKey;
  if (key !== 0n && call.versionKey < key) throw new ChainError('IncorrectWeightVersionKey', `network version key is ${key}`);
  if (!subnet.hp.commitRevealWeightsEnabled) {
    const last = subnet.lastUpdate[uid]!;
    if (last !== 0 && block - last < subnet.hp.weightsSetRateLimit) throw new ChainError('SettingWeightsTooFast');
  }
  const self = values.length === 1 && uids[0] === uid;
  const ownerUid = subnet.keys.indexOf(subnet.ownerHotkey);
  if (!self && uid !== ownerUid && !subnet.validatorPermit[uid]) throw new ChainError('NeuronNoValidatorPermit');
  if (new Set(uids).size !== uids.length) throw new ChainError('DuplicateUids');
  if (uids.some((u) => u >= n)) throw new ChainError('UidVecContainInvalidOne');
  if (!self && values.length < Math.min(n, subnet.hp.minAllowedWeights)) throw new ChainError('WeightVecLengthIsLow');
  const up = weightRowToStore(uids, values).map(([, v]) => v);
  if (!self && subnet.hp.maxWeightsLimit !== 65535 && up.some((v) => v > subnet.hp.maxWeightsLimit)) throw new ChainError('MaxWeightExceeded');
  return uid;
}

/** Max-upscaled row as stored in `Weights`. */
export function weightRowToStore(uids: number[], values: number[]): SparseRow {
  const max = values.reduce((m, v) => (v > m ? v : m), 0);
  return uids.map((u, i) => [u, max === 0 ? 0 : Number((BigInt(values[i]!) * 65535n) / BigInt(max))]);
}

function vecU16(xs: number[]): Uint8Array {
  const body = new Uint8Array(xs.length * 2);
  const dv = new DataView(body.buffer);
  xs.forEach((x, i) => dv.setUint16(i * 2, x, true));
  return u8aConcat(compactToU8a(xs.length), body);
}

/** v2 commit hash: blake2_256(SCALE(hotkey, netuid_index, uids, values, salt, version_key)). */
export function commitHashFor(hotkey: string, netuid: number, uids: number[], values: number[], salt: number[], versionKey: bigint): string {
  const head = new Uint8Array(2);
  new DataView(head.buffer).setUint16(0, netuid, true);
  const vk = new Uint8Array(8);
  new DataView(vk.buffer).setBigUint64(0, versionKey, true);
  const data = u8aConcat(decodeAddress(hotkey), head, vecU16(uids), vecU16(values), vecU16(salt), vk);
  return `0x${bytesToHex(blake2b(data, { dkLen: 32 }))}`;
}

/** Where a commit stands: reveal exactly at commitEpoch + RevealPeriodEpochs, expired after. */
export function revealWindow(subnet: SubnetState, commitEpoch: number, currentEpoch: number): 'early' | 'open' | 'expired' {
  const due = commitEpoch + subnet.hp.revealPeriodEpochs;
  return currentEpoch < due ? 'early' : currentEpoch === due ? 'open' : 'expired';
}
