import { sign, verify, u8aToHex, type Keypair } from '../wallet/keypair.ts';

export interface SigningParams {
  nonce: bigint | string;
  dendriteHotkey: string;
  axonHotkey: string;
  uuid: string;
  bodyHash: string;
}

/** The dendrite's signed message: `{nonce}.{dendrite.hotkey}.{axon.hotkey}.{dendrite.uuid}.{body_hash}`. */
export function signingMessage(p: SigningParams): string {
  return `${p.nonce}.${p.dendriteHotkey}.${p.axonHotkey}.${p.uuid}.${p.bodyHash}`;
}

/** Sign the request with the dendrite's hotkey: `0x` + hex sr25519 signature. Requires `await cryptoReady()`. */
export function signRequest(keypair: Keypair, p: SigningParams): string {
  return u8aToHex(sign(keypair, signingMessage(p)));
}

/** Check a request signature against `p.dendriteHotkey` (also accepts `<Bytes>`-wrapped signing). Never throws. */
export function verifyRequestSignature(p: SigningParams, signature: string): boolean {
  return verify(signingMessage(p), signature, p.dendriteHotkey);
}

export interface AxonStampParams {
  nonce: bigint | string;
  dendriteHotkey: string;
  axonHotkey: string;
  axonUuid: string;
}

/** The axon's own stamp (`AxonMiddleware.preprocess`): `{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}`. */
export function axonSigningMessage(p: AxonStampParams): string {
  return `${p.nonce}.${p.dendriteHotkey}.${p.axonHotkey}.${p.axonUuid}`;
}

export function signAxonStamp(keypair: Keypair, p: AxonStampParams): string {
  return u8aToHex(sign(keypair, axonSigningMessage(p)));
}

export function verifyAxonStamp(p: AxonStampParams, signature: string): boolean {
  return verify(axonSigningMessage(p), signature, p.axonHotkey);
}
