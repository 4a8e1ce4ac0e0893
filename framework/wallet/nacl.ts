import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.ts';

type Sodium = typeof import('libsodium-wrappers-sumo');

// The package's ESM entry imports a file it does not ship (0.7.16), so load the CommonJS build.
const require = createRequire(import.meta.url);
const SODIUM_PATH = require.resolve('libsodium-wrappers-sumo');
let sodiumReady: Promise<Sodium> | undefined;
function sodium(): Promise<Sodium> {
  sodiumReady ??= (async () => {
    const s = require(SODIUM_PATH) as Sodium;
    await s.ready;
    return s;
  })();
  return sodiumReady;
}

/** `$NACL` keyfile prefix (btwallet `keyfile_data_is_encrypted_nacl`). */
export const NACL_PREFIX = new TextEncoder().encode('$NACL');
/** btwallet's fixed argon2 salt (`NACL_SALT`). */
export const NACL_SALT = Uint8Array.from(Buffer.from('137183dff15a09bc9c90b5518739e9b1', 'hex'));
/** libsodium `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE` (the wrapper only exposes argon2id's constants). */
export const NACL_OPSLIMIT = 8;
/** libsodium `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE`: 512 MiB. */
export const NACL_MEMLIMIT = 536_870_912;
const NONCE_BYTES = 24;
const MAC_BYTES = 16;
const KEY_BYTES = 32;

// Runs in a worker so the 512 MiB argon2 arena is released when it exits and the event loop keeps running.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodiumPath);
sodium.ready.then(() => {
  const key = sodium.crypto_pwhash(${KEY_BYTES}, workerData.password, workerData.salt,
    workerData.ops, workerData.mem, sodium.crypto_pwhash_ALG_ARGON2I13);
  parentPort.postMessage(key, [key.buffer]);
}).catch((e) => { throw e; });
`;

/**
 * Derive the secretbox key from a password exactly as btwallet does: argon2i v1.3, opslimit 8, 512 MiB,
 * fixed salt. Takes several seconds by design.
 */
export function deriveNaclKey(password: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sodiumPath: SODIUM_PATH, password: new TextEncoder().encode(password), salt: NACL_SALT, ops: NACL_OPSLIMIT, mem: NACL_MEMLIMIT },
    });
    let done = false;
    worker.once('message', (key: Uint8Array) => { done = true; resolve(new Uint8Array(key)); void worker.terminate(); });
    // the usual cause is memory (argon2i needs 512 MiB): an environment problem, reported as one line
    worker.once('error', (e) => { done = true; reject(new UserError(`argon2i key derivation failed: ${e.message}`, { hint: 'it needs about 512 MiB of free memory' })); });
    worker.once('exit', (code) => { if (!done) reject(new Error(`argon2i worker exited with code ${code}`)); });
  });
}

/** True when the bytes start with `$NACL`. */
export function isNaclEncrypted(data: Uint8Array): boolean {
  return data.length >= NACL_PREFIX.length && NACL_PREFIX.every((b, i) => data[i] === b);
}

/** Seal with an already derived key and explicit nonce (for callers that cache the key, and test vectors). */
export async function encryptNaclWithKey(plain: Uint8Array, key: Uint8Array, nonce: Uint8Array): Promise<Uint8Array> {
  if (key.length !== KEY_BYTES) throw new Error(`key must be ${KEY_BYTES} bytes`);
  if (nonce.length !== NONCE_BYTES) throw new Error(`nonce must be ${NONCE_BYTES} bytes`);
  const box = (await sodium()).crypto_secretbox_easy(plain, nonce, key);
  const out = new Uint8Array(NACL_PREFIX.length + NONCE_BYTES + box.length);
  out.set(NACL_PREFIX, 0);
  out.set(nonce, NACL_PREFIX.length);
  out.set(box, NACL_PREFIX.length + NONCE_BYTES);
  return out;
}

/** btwallet `$NACL` encryption: `$NACL` ‖ nonce(24) ‖ XSalsa20-Poly1305 secretbox under the argon2i key. */
export async function encryptNacl(plain: Uint8Array, password: string): Promise<Uint8Array> {
  return encryptNaclWithKey(plain, await deriveNaclKey(password), new Uint8Array(randomBytes(NONCE_BYTES)));
}

function splitBlob(blob: Uint8Array): { nonce: Uint8Array; box: Uint8Array } {
  if (!isNaclEncrypted(blob)) throw new UserError('not a $NACL encrypted key file');
  if (blob.length < NACL_PREFIX.length + NONCE_BYTES + MAC_BYTES) throw new UserError('corrupt $NACL key file: too short');
  return { nonce: blob.subarray(NACL_PREFIX.length, NACL_PREFIX.length + NONCE_BYTES), box: blob.subarray(NACL_PREFIX.length + NONCE_BYTES) };
}

/** Open a `$NACL` blob with an already derived key; a wrong key is a UserError. */
export async function decryptNaclWithKey(blob: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  const { nonce, box } = splitBlob(blob);
  const s = await sodium();
  try {
    return s.crypto_secretbox_open_easy(box, nonce, key);
  } catch {
    throw new UserError('wrong password (or corrupted key file): decryption failed', {
      hint: 'check the password, or BT_PW_<path> / SUBNET_WALLET_PASSWORD if set',
    });
  }
}

/** Decrypt a `$NACL` blob. A wrong password (or a tampered blob) is a UserError. */
export async function decryptNacl(blob: Uint8Array, password: string): Promise<Uint8Array> {
  splitBlob(blob); // fail fast on malformed input before the slow derivation
  return decryptNaclWithKey(blob, await deriveNaclKey(password));
}
