import { sr25519KeypairFromSeed, sr25519Sign, sr25519Verify, waitReady } from '@polkadot/wasm-crypto';
import { hexToU8a, u8aToHex, stringToU8a, u8aConcat, u8aEq } from '@polkadot/util';
import {
  decodeAddress,
  ed25519PairFromSeed,
  encodeAddress,
  keyExtractSuri,
  keyFromPath,
  mnemonicGenerate,
  mnemonicToMiniSecret,
  mnemonicValidate,
} from '@polkadot/util-crypto';
import { RistrettoPoint } from '@noble/curves/ed25519';
import { UserError } from '../errors.ts';
import { ed25519SignNative, ed25519VerifyNative } from './ed25519-native.ts';

/** SS58 prefix used by Bittensor (generic substrate). */
export const SS58_FORMAT = 42;
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';

/** Signature schemes a hotkey can use (btauth/1 `X-Bittensor-Crypto`, SDK v11 key files `cryptoType`). */
export type SignatureScheme = 'sr25519' | 'ed25519';

/**
 * A key pair; sr25519 unless `scheme` says otherwise. For sr25519, `secretKey` is the 64-byte
 * schnorrkel secret (key ‖ nonce) in the "ed25519" byte layout that @polkadot/wasm-crypto signs with (scalar × 8). btwallet's `privateKey` field holds the
 * canonical layout instead: convert with `btwalletPrivateKey` / `keypairFromPrivateKey`.
 */
export interface Keypair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  readonly ss58Address: string;
  /** 32-byte mini secret when known (btwallet `secretSeed`). */
  readonly seed?: Uint8Array;
  /** Mnemonic when known (btwallet `secretPhrase`). */
  readonly mnemonic?: string;
  /** Absent means sr25519 (every key before SDK v11). ed25519 pairs keep seed ‖ public in `secretKey`. */
  readonly scheme?: SignatureScheme;
}

/** The scheme a key pair signs with. */
export function schemeOf(pair: Keypair): SignatureScheme {
  return pair.scheme ?? 'sr25519';
}

let ready: Promise<void> | undefined;
/**
 * sr25519 signing: the schnorrkel crate built by @polkadot-labs/schnorrkel-wasm signs in ~67 µs where
 * @polkadot/wasm-crypto takes ~115 µs (measured here; the same secret layout, randomised signatures that
 * wasm-crypto verifies). Loaded by cryptoReady, so commands that never sign do not compile its WASM;
 * until then (and if it fails to load) wasm-crypto signs.
 */
let fastSr25519Sign: ((publicKey: Uint8Array, secretKey: Uint8Array, message: Uint8Array) => Uint8Array) | null = null;

/** Initialise the sr25519 WASM backends once; every async entry point that signs or verifies awaits this. */
export function cryptoReady(): Promise<void> {
  ready ??= Promise.all([
    waitReady(),
    import('@polkadot-labs/schnorrkel-wasm').then((m) => void (fastSr25519Sign = m.sr25519_sign), () => {}),
  ]).then(([ok]) => {
    if (!ok) throw new Error('sr25519 WASM backend failed to initialise');
  });
  return ready;
}

function fromPair(pair: Uint8Array, extra: { seed?: Uint8Array; mnemonic?: string }): Keypair {
  // wasm-crypto returns secret (64) ‖ public (32)
  const secretKey = pair.slice(0, 64);
  const publicKey = pair.slice(64, 96);
  return { publicKey, secretKey, ss58Address: encodeAddress(publicKey, SS58_FORMAT), ...extra };
}

/** Key pair from a 32-byte mini secret (btwallet `secretSeed`). Requires `await cryptoReady()`. */
export function keypairFromSeed(seed: Uint8Array | string): Keypair {
  const bytes = typeof seed === 'string' ? hexToU8a(seed) : seed;
  if (bytes.length !== 32) throw new UserError(`seed must be 32 bytes, got ${bytes.length}`);
  return fromPair(sr25519KeypairFromSeed(bytes), { seed: bytes });
}

/** ed25519 key pair from a 32-byte seed (substrate's mini secret, as for sr25519). */
export function ed25519KeypairFromSeed(seed: Uint8Array | string): Keypair {
  const bytes = typeof seed === 'string' ? hexToU8a(seed) : seed;
  if (bytes.length !== 32) throw new UserError(`seed must be 32 bytes, got ${bytes.length}`);
  const pair = ed25519PairFromSeed(bytes);
  return { publicKey: pair.publicKey, secretKey: pair.secretKey, ss58Address: encodeAddress(pair.publicKey, SS58_FORMAT), seed: bytes, scheme: 'ed25519' };
}

function pairFromSeed(seed: Uint8Array, scheme: SignatureScheme): Keypair {
  return scheme === 'ed25519' ? ed25519KeypairFromSeed(seed) : fromPair(sr25519KeypairFromSeed(seed), { seed });
}

/** Key pair from a BIP39 mnemonic, derived like substrate/btwallet (mini secret via substrate-bip39). */
export function keypairFromMnemonic(mnemonic: string, scheme: SignatureScheme = 'sr25519'): Keypair {
  const phrase = mnemonic.trim().split(/\s+/).join(' ');
  if (!mnemonicValidate(phrase)) throw new UserError('invalid mnemonic: checksum or word list mismatch');
  return { ...pairFromSeed(mnemonicToMiniSecret(phrase), scheme), mnemonic: phrase };
}

/**
 * Key pair from a substrate URI such as `//Alice` or `<mnemonic>//hard/soft`.
 * Used for dev keys on the local network and in tests.
 */
export function keypairFromUri(uri: string, scheme: SignatureScheme = 'sr25519'): Keypair {
  const full = uri.startsWith('//') ? `${DEV_PHRASE}${uri}` : uri;
  const { phrase, path } = keyExtractSuri(full);
  const root = pairFromSeed(mnemonicToMiniSecret(phrase), scheme);
  if (path.length === 0) return { ...root, mnemonic: phrase };
  const derived = keyFromPath({ publicKey: root.publicKey, secretKey: root.secretKey }, path, scheme);
  const pair = { publicKey: derived.publicKey, secretKey: derived.secretKey, ss58Address: encodeAddress(derived.publicKey, SS58_FORMAT) };
  return scheme === 'ed25519' ? { ...pair, scheme } : pair;
}

/** Mnemonic lengths btcli accepts (`--n-words`). */
export type MnemonicWords = 12 | 15 | 18 | 21 | 24;

/** A fresh BIP39 English mnemonic (btwallet default: 12 words). */
export function generateMnemonic(words: MnemonicWords = 12): string {
  return mnemonicGenerate(words);
}

// Order of the ristretto255 group (curve25519 prime subgroup).
const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigintToLe32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}

/**
 * The 64-byte secret as btwallet stores it in `privateKey` (schnorrkel `SecretKey::to_bytes`: canonical
 * scalar ‖ nonce). wasm-crypto keeps the scalar multiplied by the cofactor 8, so divide it back.
 */
export function btwalletPrivateKey(pair: Keypair): Uint8Array {
  const scalarTimes8 = leToBigint(pair.secretKey.subarray(0, 32));
  return u8aConcat(bigintToLe32(scalarTimes8 >> 3n), pair.secretKey.subarray(32, 64));
}

/**
 * Key pair from btwallet's 64-byte `privateKey` (canonical scalar ‖ nonce). The public key is the
 * ristretto255 point scalar·B, as schnorrkel computes it; no seed or mnemonic is known.
 */
export function keypairFromPrivateKey(privateKey: Uint8Array | string): Keypair {
  const bytes = typeof privateKey === 'string' ? hexToU8a(privateKey) : privateKey;
  if (bytes.length !== 64) throw new UserError(`private key must be 64 bytes, got ${bytes.length}`);
  const scalar = leToBigint(bytes.subarray(0, 32));
  if (scalar === 0n || scalar >= GROUP_ORDER) throw new UserError('private key is not a canonical sr25519 secret');
  const publicKey = RistrettoPoint.BASE.multiply(scalar).toRawBytes();
  const secretKey = u8aConcat(bigintToLe32(scalar * 8n), bytes.subarray(32, 64));
  return { publicKey, secretKey, ss58Address: encodeAddress(publicKey, SS58_FORMAT) };
}

/** Sign bytes or a UTF-8 string under the pair's own scheme. Returns the 64-byte signature. */
export function sign(pair: Keypair, message: Uint8Array | string): Uint8Array {
  const msg = typeof message === 'string' ? stringToU8a(message) : message;
  if (pair.scheme === 'ed25519') return ed25519SignNative(msg, pair.secretKey);
  // checked here: schnorrkel-wasm panics on malformed keys, and a WASM module that panicked is left broken
  // (later valid calls trap with "memory access out of bounds"), so it must never see them
  if (pair.publicKey.length !== 32 || pair.secretKey.length !== 64) {
    throw new Error(`sr25519 key pair must be a 32-byte public and a 64-byte secret key, got ${pair.publicKey.length} and ${pair.secretKey.length}`);
  }
  if (fastSr25519Sign) {
    try {
      return fastSr25519Sign(pair.publicKey, pair.secretKey, msg);
    } catch {
      fastSr25519Sign = null; // a panic or trap: the module may be corrupt from here on; wasm-crypto signs instead
    }
  }
  return sr25519Sign(pair.publicKey, pair.secretKey, msg);
}

/** Whether sr25519 signing currently goes through schnorrkel-wasm (false before cryptoReady or after a fault). */
export function fastSr25519Signing(): boolean {
  return fastSr25519Sign !== null;
}

const BYTES_OPEN = stringToU8a('<Bytes>');
const BYTES_CLOSE = stringToU8a('</Bytes>');

const utf8 = new TextEncoder();
const HEX = /^(0x)?[0-9a-fA-F]*$/;

/** Hex (optionally 0x-prefixed) to bytes via Buffer (the axon does this per request); invalid → empty. */
function hexBytes(text: string): Uint8Array {
  if (text.length % 2 !== 0 || !HEX.test(text)) return new Uint8Array(0);
  return Buffer.from(text.startsWith('0x') ? text.slice(2) : text, 'hex');
}

/**
 * Verify a signature under exactly `scheme` (default sr25519; never falls back to the other one). Like
 * btwallet, sr25519 also accepts a signature over the message wrapped in `<Bytes>…</Bytes>` (what
 * polkadot.js extensions sign). Never throws on malformed input.
 */
export function verify(message: Uint8Array | string, signature: Uint8Array | string, signer: Uint8Array | string, scheme: SignatureScheme = 'sr25519'): boolean {
  try {
    const msg = typeof message === 'string' ? utf8.encode(message) : message;
    const sig = typeof signature === 'string' ? hexBytes(signature) : signature;
    const pub = typeof signer === 'string' ? (signer.startsWith('0x') ? hexToU8a(signer) : decodeAddress(signer)) : signer;
    if (sig.length !== 64 || pub.length !== 32) return false;
    if (scheme === 'ed25519') return ed25519VerifyNative(msg, sig, pub);
    if (sr25519Verify(sig, msg, pub)) return true;
    return sr25519Verify(sig, u8aConcat(BYTES_OPEN, msg, BYTES_CLOSE), pub);
  } catch {
    return false;
  }
}

/** Decode an SS58 address to its 32-byte public key; throws UserError on a malformed address. */
export function ss58Decode(address: string): Uint8Array {
  try {
    return decodeAddress(address);
  } catch (e) {
    throw new UserError(`invalid SS58 address '${address}': ${(e as Error).message}`);
  }
}

export function ss58Encode(publicKey: Uint8Array): string {
  return encodeAddress(publicKey, SS58_FORMAT);
}

export function samePublicKey(a: Uint8Array, b: Uint8Array): boolean {
  return u8aEq(a, b);
}

export { u8aToHex, hexToU8a };
