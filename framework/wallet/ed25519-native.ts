/**
 * ed25519 sign/verify on node:crypto (OpenSSL). Measured here: sign 41 µs vs 356 µs and verify 116 µs vs
 * 323 µs through @polkadot/util-crypto's wasm, the same deterministic RFC 8032 signatures. Key objects are
 * built from the raw 32-byte seed / public key by wrapping them in their fixed DER prefixes.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const privateKeys = new WeakMap<Uint8Array, KeyObject>();
// verifying keys of recent callers; bounded so a flood of fresh hotkeys cannot grow it
const publicKeys = new Map<string, KeyObject>();
const MAX_PUBLIC_KEYS = 4096;

/** Sign with the 32-byte seed that opens `secretKey` (seed ‖ public, util-crypto's ed25519 layout). */
export function ed25519SignNative(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  let key = privateKeys.get(secretKey);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
    privateKeys.set(secretKey, key);
  }
  return new Uint8Array(nodeSign(null, message, key));
}

/** Verify; false (never a throw) for a malformed key or signature. */
export function ed25519VerifyNative(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const id = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(id);
  try {
    if (!key) {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value as string);
      publicKeys.set(id, key);
    }
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}
