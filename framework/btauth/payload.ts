import * as nodeCrypto from 'node:crypto';
import type { SignatureScheme } from '../wallet/keypair.ts';

/** First line of every signed payload; also the protocol's name. */
export const BTAUTH_PROTOCOL = 'btauth/1';
/** `X-Bittensor-Version` value. */
export const BTAUTH_VERSION = '1';

/** Header names, lowercase (HTTP header names are case-insensitive; node hands them over lowercased). */
export const BTAUTH_HEADERS = {
  version: 'x-bittensor-version',
  hotkey: 'x-bittensor-hotkey',
  receiver: 'x-bittensor-receiver',
  nonce: 'x-bittensor-nonce',
  crypto: 'x-bittensor-crypto',
  signature: 'x-bittensor-signature',
} as const;

/** What the 8-line payload is built from. */
export interface PayloadFields {
  scheme: SignatureScheme;
  /** HTTP method; uppercased here. */
  method: string;
  /** Path plus `?query` exactly as sent on the wire. */
  target: string;
  /** Lowercase hex sha256 of the raw body bytes (`bodySha256`). */
  bodySha256: string;
  /** Unix time in nanoseconds; a bigint or its decimal string (it exceeds 2^53). */
  nonce: bigint | string;
  hotkey: string;
  /** Receiver ss58, or null when the request is unbound (`-` in the payload). */
  receiver: string | null;
}

/** The signed payload: 8 lines joined with `\n`, no trailing newline (sign its UTF-8 bytes). */
export function buildPayload(f: PayloadFields): string {
  return `${BTAUTH_PROTOCOL}\n${f.scheme}\n${f.method.toUpperCase()}\n${f.target}\n${f.bodySha256}\n${f.nonce}\n${f.hotkey}\n${f.receiver ?? '-'}`;
}

const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** Lowercase hex sha256 of the raw body bytes (a string is taken as its UTF-8 bytes). */
export function bodySha256(body: Uint8Array | string): string {
  return oneShot ? oneShot('sha256', body, 'hex') : nodeCrypto.createHash('sha256').update(body).digest('hex');
}

/** sha256 of empty bytes (GET requests, empty bodies). */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * `X-Bittensor-Crypto` → scheme: absent = sr25519; `sr25519`/`SR25519`/`1` and `ed25519`/`ED25519`/`0`;
 * anything else is unknown (null).
 */
export function parseScheme(value: string | undefined): SignatureScheme | null {
  if (value === undefined) return 'sr25519';
  switch (value) {
    case 'sr25519':
    case 'SR25519':
    case '1':
      return 'sr25519';
    case 'ed25519':
    case 'ED25519':
    case '0':
      return 'ed25519';
    default:
      return null;
  }
}
