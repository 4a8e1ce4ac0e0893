import { u8aToHex } from '@polkadot/util';
import { nowNanos } from '../protocol/version.ts';
import { schemeOf, sign, type Keypair } from '../wallet/keypair.ts';
import { BTAUTH_HEADERS, BTAUTH_VERSION, bodySha256, buildPayload } from './payload.ts';

export interface SignParams {
  /** Default POST. */
  method?: string;
  /** Path plus `?query` exactly as it will be sent. */
  target: string;
  /** Raw body (a string is sent as its UTF-8 bytes); default empty. */
  body?: Uint8Array | string;
  /** The server's hotkey; null/absent signs an unbound request. */
  receiver?: string | null;
  /** Default: now in ns, strictly increasing within this process (every request and retry gets a fresh one). */
  nonce?: bigint | string;
}

/** The payload that `signHeaders` signs (the dendrite signs it on a worker thread for large fan-outs). */
export function signingPayload(pair: Keypair, p: SignParams, nonce: bigint | string, bodyHash?: string): string {
  return buildPayload({
    scheme: schemeOf(pair),
    method: p.method ?? 'POST',
    target: p.target,
    bodySha256: bodyHash ?? bodySha256(p.body ?? ''),
    nonce,
    hotkey: pair.ss58Address,
    receiver: p.receiver ?? null,
  });
}

/** The btauth/1 headers for a finished signature. */
export function authHeaders(pair: Keypair, nonce: bigint | string, signature: string, receiver: string | null | undefined): Record<string, string> {
  const h: Record<string, string> = {
    [BTAUTH_HEADERS.version]: BTAUTH_VERSION,
    [BTAUTH_HEADERS.hotkey]: pair.ss58Address,
    [BTAUTH_HEADERS.nonce]: String(nonce),
    [BTAUTH_HEADERS.signature]: signature,
  };
  if (receiver) h[BTAUTH_HEADERS.receiver] = receiver;
  // sr25519 is the default and goes without the header, as the SDK sends it
  if (schemeOf(pair) === 'ed25519') h[BTAUTH_HEADERS.crypto] = 'ed25519';
  return h;
}

/** Sign one request: returns the btauth/1 headers to send with it. Requires `await cryptoReady()` for sr25519. */
export function signHeaders(pair: Keypair, p: SignParams): Record<string, string> {
  const nonce = p.nonce ?? nowNanos();
  const signature = u8aToHex(sign(pair, signingPayload(pair, p, nonce)));
  return authHeaders(pair, nonce, signature, p.receiver);
}
