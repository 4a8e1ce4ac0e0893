import { signingMessage, STATUS, STATUS_MESSAGE, type ParsedHeaders } from '../protocol/index.ts';
import { ss58Decode, verify } from '../wallet/keypair.ts';
import { Lru } from './lru.ts';
import type { NonceStore } from './nonce-store.ts';
import { AxonReject } from './responses.ts';

export interface VerifiedCaller {
  hotkey: string;
  uuid: string;
  nonce: bigint;
  endpointKey: string;
}

/** ss58 → public key, cached: decoding runs a blake2b checksum, and callers are few and repeat often. */
const pubkeys = new Lru<Uint8Array | null>();
function publicKeyOf(address: string): Uint8Array | null {
  let pk = pubkeys.get(address);
  if (pk === undefined) {
    try {
      pk = ss58Decode(address);
      if (pk.length !== 32) pk = null;
    } catch {
      pk = null;
    }
    pubkeys.set(address, pk);
    if (pubkeys.size > 10_000) pubkeys.shift();
  }
  return pk;
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
  if (h.axon.hotkey !== axonHotkey) {
    throw notVerified('wrong_target', `Request is addressed to hotkey ${h.axon.hotkey ?? 'None'}, this axon is ${axonHotkey}`);
  }
  if (d.nonce === null) throw notVerified('missing_nonce', STATUS_MESSAGE.missingNonce);
  if (!d.uuid) throw notVerified('missing_uuid', 'Missing dendrite uuid');
  if (!d.signature) throw notVerified('missing_signature', 'Missing signature');
  const endpointKey = `${d.hotkey}:${d.uuid}`;
  const verdict = nonces.check(endpointKey, d.nonce, timeoutMs);
  if (!verdict.ok) throw notVerified(verdict.reason, verdict.message);
  const pk = publicKeyOf(d.hotkey);
  if (pk === null) throw notVerified('bad_hotkey', `Invalid dendrite hotkey ${d.hotkey}`);
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
  return { hotkey: d.hotkey, uuid: d.uuid, nonce: d.nonce, endpointKey };
}
