import { signingMessage, STATUS, STATUS_MESSAGE, type ParsedHeaders } from '../protocol/index.ts';
import { MAX_SS58_LENGTH } from '../chain/codec.ts';
import { ss58Decode, ss58Encode, verify } from '../wallet/keypair.ts';
import { Lru } from './lru.ts';
import type { NonceStore } from './nonce-store.ts';
import { AxonReject } from './responses.ts';

export interface VerifiedCaller {
  /** The caller's hotkey in canonical SS58 form (any other encoding of the same key maps here). */
  hotkey: string;
  uuid: string;
  nonce: bigint;
  endpointKey: string;
}

/** Longest header values worth looking at: a uuid (36 in the SDK) and a 0x-hex sr25519 signature (130). */
export const MAX_UUID_LENGTH = 64;
export const MAX_SIGNATURE_LENGTH = 256;

interface Account {
  publicKey: Uint8Array;
  canonical: string;
}

/** ss58 → public key and canonical address, cached: decoding runs a blake2b checksum, and callers are few and repeat often. */
const accounts = new Lru<Account | null>();
function accountOf(address: string): Account | null {
  let a = accounts.get(address);
  if (a === undefined) {
    try {
      const pk = ss58Decode(address);
      a = pk.length === 32 ? { publicKey: pk, canonical: ss58Encode(pk) } : null;
    } catch {
      a = null;
    }
    accounts.set(address, a);
    if (accounts.size > 10_000) accounts.shift();
  }
  return a;
}

function notVerified(reason: string, error: string): AxonReject {
  return new AxonReject(STATUS.UNAUTHORIZED, STATUS_MESSAGE.notVerified(error), reason);
}

/**
 * Header-only verification (before the body is read): target hotkey, nonce rules, signature.
 * The nonce is only *checked* here; it is recorded after the blacklist accepts the caller, so rejected
 * callers cannot fill the nonce memory. Unlike SDK v10 an empty or missing signature is a failure.
 */
export function verifyRequestHeaders(h: ParsedHeaders, axonHotkey: string, nonces: NonceStore, timeoutMs: number): VerifiedCaller {
  const d = h.dendrite;
  if (!d.hotkey) throw notVerified('missing_hotkey', 'Missing dendrite hotkey');
  // Cheapest checks first: lengths before any lookup, decode or hash (base58 decoding is quadratic).
  if (d.hotkey.length > MAX_SS58_LENGTH) throw notVerified('bad_hotkey', `Invalid dendrite hotkey: longer than ${MAX_SS58_LENGTH} characters`);
  if (d.uuid !== null && d.uuid.length > MAX_UUID_LENGTH) throw notVerified('bad_uuid', `Invalid dendrite uuid: longer than ${MAX_UUID_LENGTH} characters`);
  if (d.signature !== null && d.signature.length > MAX_SIGNATURE_LENGTH) throw notVerified('bad_signature', `Invalid signature: longer than ${MAX_SIGNATURE_LENGTH} characters`);
  if (h.axon.hotkey !== axonHotkey) {
    throw notVerified('wrong_target', `Request is addressed to hotkey ${h.axon.hotkey ?? 'None'}, this axon is ${axonHotkey}`);
  }
  if (d.nonce === null) throw notVerified('missing_nonce', STATUS_MESSAGE.missingNonce);
  if (!d.uuid) throw notVerified('missing_uuid', 'Missing dendrite uuid');
  if (!d.signature) throw notVerified('missing_signature', 'Missing signature');
  const endpointKey = `${d.hotkey}:${d.uuid}`;
  const verdict = nonces.check(endpointKey, d.nonce, timeoutMs);
  if (!verdict.ok) throw notVerified(verdict.reason, verdict.message);
  const account = accountOf(d.hotkey);
  if (account === null) throw notVerified('bad_hotkey', `Invalid dendrite hotkey ${d.hotkey}`);
  const pk = account.publicKey;
  const message = signingMessage({
    nonce: d.nonce,
    dendriteHotkey: d.hotkey,
    axonHotkey,
    uuid: d.uuid,
    bodyHash: h.computed_body_hash ?? '',
  });
  if (!verify(message, d.signature, pk)) {
    throw notVerified('bad_signature', STATUS_MESSAGE.signatureMismatch(message, d.signature));
  }
  return { hotkey: account.canonical, uuid: d.uuid, nonce: d.nonce, endpointKey };
}
