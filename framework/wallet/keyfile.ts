import { z } from 'zod';
import { UserError } from '../errors.ts';
import {
  btwalletPrivateKey,
  keypairFromMnemonic,
  keypairFromPrivateKey,
  keypairFromSeed,
  samePublicKey,
  ss58Decode,
  ss58Encode,
  u8aToHex,
  hexToU8a,
  type Keypair,
} from './keypair.ts';
import { isNaclEncrypted } from './nacl.ts';

/** A key known only by its public half (btwallet `coldkeypub.txt`, `<hotkey>pub.txt`). */
export interface PublicKeyOnly {
  readonly publicKey: Uint8Array;
  readonly ss58Address: string;
}

/** btwallet keyfile JSON. Every field is optional; old Python writers stored `null` for absent ones. */
const hexString = z.string().regex(/^(0x)?[0-9a-fA-F]*$/, 'expected a hex string');
const KeyfileJson = z.object({
  accountId: hexString.nullish(),
  publicKey: hexString.nullish(),
  privateKey: hexString.nullish(),
  secretPhrase: z.string().nullish(),
  secretSeed: hexString.nullish(),
  ss58Address: z.string().nullish(),
});
export type KeyfileJson = z.infer<typeof KeyfileJson>;

export type KeyfileEncryption = 'none' | 'nacl' | 'ansible-vault' | 'legacy-fernet';

/** How a key file's bytes are encrypted, by prefix, as btwallet detects it. */
export function keyfileEncryption(data: Uint8Array): KeyfileEncryption {
  if (isNaclEncrypted(data)) return 'nacl';
  const head = Buffer.from(data.subarray(0, 14)).toString('latin1');
  if (head.startsWith('$ANSIBLE_VAULT')) return 'ansible-vault';
  if (head.startsWith('gAAAAA')) return 'legacy-fernet';
  return 'none';
}

const hex0x = (bytes: Uint8Array): string => u8aToHex(bytes);

/** Full key file, fields as btwallet's `serialized_keypair_to_keyfile_data` writes them. */
export function serializeKeyfile(pair: Keypair): string {
  const pub = hex0x(pair.publicKey);
  const data: Record<string, string> = { accountId: pub, publicKey: pub, privateKey: hex0x(btwalletPrivateKey(pair)) };
  if (pair.mnemonic) data.secretPhrase = pair.mnemonic;
  if (pair.seed) data.secretSeed = hex0x(pair.seed);
  data.ss58Address = pair.ss58Address;
  return JSON.stringify(data);
}

/** Public key file (`coldkeypub.txt`): btwallet serialises an address-only keypair, so only these three fields. */
export function serializePubKeyfile(key: PublicKeyOnly): string {
  const pub = hex0x(key.publicKey);
  return JSON.stringify({ accountId: pub, publicKey: pub, ss58Address: key.ss58Address });
}

function parseJson(data: Uint8Array, label: string): KeyfileJson {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new UserError(`corrupt key file ${label}: not valid JSON`);
  }
  const parsed = KeyfileJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`corrupt key file ${label}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function checkPublic(label: string, json: KeyfileJson, pub: Uint8Array): void {
  const claimed = json.publicKey ?? json.accountId;
  if (claimed && !samePublicKey(hexToU8a(claimed), pub)) {
    throw new UserError(`corrupt key file ${label}: publicKey does not match the secret`);
  }
}

/**
 * Decode plaintext key file bytes. Precedence as btwallet: secretPhrase > secretSeed > privateKey >
 * ss58Address (public only). `label` names the file in error messages. Requires `await cryptoReady()`.
 */
export function deserializeKeyfile(data: Uint8Array, label: string): Keypair | PublicKeyOnly {
  const enc = keyfileEncryption(data);
  if (enc !== 'none') throw new UserError(`key file ${label} is encrypted (${enc}); decrypt it first`);
  const json = parseJson(data, label);
  let pair: Keypair | undefined;
  try {
    if (json.secretPhrase) pair = keypairFromMnemonic(json.secretPhrase);
    else if (json.secretSeed) {
      const seed = hexToU8a(json.secretSeed);
      pair = seed.length === 64 ? keypairFromPrivateKey(seed) : keypairFromSeed(seed);
    } else if (json.privateKey) pair = keypairFromPrivateKey(json.privateKey);
  } catch (e) {
    throw new UserError(`corrupt key file ${label}: ${(e as Error).message}`);
  }
  if (pair) {
    checkPublic(label, json, pair.publicKey);
    return pair;
  }
  if (json.ss58Address) {
    const publicKey = ss58Decode(json.ss58Address);
    checkPublic(label, json, publicKey);
    return { publicKey, ss58Address: ss58Encode(publicKey) };
  }
  if (json.publicKey ?? json.accountId) {
    const publicKey = hexToU8a(json.publicKey ?? json.accountId);
    if (publicKey.length !== 32) throw new UserError(`corrupt key file ${label}: publicKey must be 32 bytes`);
    return { publicKey, ss58Address: ss58Encode(publicKey) };
  }
  throw new UserError(`corrupt key file ${label}: no secretPhrase, secretSeed, privateKey or ss58Address`);
}

export function hasSecret(key: Keypair | PublicKeyOnly): key is Keypair {
  return 'secretKey' in key;
}

/**
 * The address stored in a plaintext key file without deriving anything (cheap, never touches secrets).
 * Returns undefined for encrypted or unreadable files.
 */
export function peekAddress(data: Uint8Array): string | undefined {
  if (keyfileEncryption(data) !== 'none') return undefined;
  try {
    const json = KeyfileJson.parse(JSON.parse(Buffer.from(data).toString('utf8')));
    if (json.ss58Address) return ss58Encode(ss58Decode(json.ss58Address));
    const pub = json.publicKey ?? json.accountId;
    return pub ? ss58Encode(hexToU8a(pub)) : undefined;
  } catch {
    return undefined;
  }
}
