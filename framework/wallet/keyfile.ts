import { z } from 'zod';
import { UserError } from '../errors.ts';
import {
  btwalletPrivateKey,
  ed25519KeypairFromSeed,
  keypairFromMnemonic,
  keypairFromPrivateKey,
  keypairFromSeed,
  samePublicKey,
  ss58Decode,
  ss58Encode,
  u8aToHex,
  hexToU8a,
  schemeOf,
  type Keypair,
  type SignatureScheme,
} from './keypair.ts';
import { isNaclEncrypted } from './nacl.ts';

/** A key known only by its public half (btwallet `coldkeypub.txt`, `<hotkey>pub.txt`). */
export interface PublicKeyOnly {
  readonly publicKey: Uint8Array;
  readonly ss58Address: string;
  /** From the file's `cryptoType`; absent = sr25519. */
  readonly scheme?: SignatureScheme;
}

/**
 * btwallet keyfile JSON. Every field is optional; old Python writers stored `null` for absent ones. SDK v11
 * adds `cryptoType` (0 = ed25519, 1 = sr25519; its native layer also has 4–7 for "hashed" and ML-DSA-65
 * account modes), `accountType` ("standard" | "hashed"), `signingScheme` and `hashedDescriptor`.
 */
const hexString = z.string().regex(/^(0x)?[0-9a-fA-F]*$/, 'expected a hex string');
const KeyfileJson = z.object({
  accountId: hexString.nullish(),
  publicKey: hexString.nullish(),
  privateKey: hexString.nullish(),
  secretPhrase: z.string().nullish(),
  secretSeed: hexString.nullish(),
  ss58Address: z.string().nullish(),
  cryptoType: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
  accountType: z.string().max(64).nullish(),
  signingScheme: z.string().max(64).nullish(),
  hashedDescriptor: z.unknown().optional(),
});
export type KeyfileJson = z.infer<typeof KeyfileJson>;

/** v11 `cryptoType` codes of the two plain schemes. */
export const CRYPTO_TYPE: Readonly<Record<SignatureScheme, number>> = Object.freeze({ ed25519: 0, sr25519: 1 });
const HASHED_CRYPTO_TYPES = new Set([4, 6]);
const MLDSA_CRYPTO_TYPES = new Set([5, 7]);

/**
 * The scheme a key file declares; refuses (one line, UserError → exit 2) the v11 account kinds this
 * framework cannot sign for: "hashed" accounts and ML-DSA-65. A file without `cryptoType` is sr25519.
 */
export function keyfileScheme(json: KeyfileJson, label: string): SignatureScheme {
  const code = json.cryptoType ?? undefined;
  const account = json.accountType?.toLowerCase();
  const declared = json.signingScheme?.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (declared?.startsWith('mldsa') || (code !== undefined && MLDSA_CRYPTO_TYPES.has(code))) {
    throw new UserError(`key file ${label} holds an ML-DSA-65 account, which subnetkit cannot use (only sr25519 and ed25519 keys)`);
  }
  if (account === 'hashed' || json.hashedDescriptor !== undefined || (code !== undefined && HASHED_CRYPTO_TYPES.has(code))) {
    throw new UserError(`key file ${label} holds a "hashed" account, which subnetkit cannot use (only standard sr25519 and ed25519 keys)`);
  }
  if (account !== undefined && account !== 'standard') throw new UserError(`key file ${label} has unknown accountType '${json.accountType}'`);
  if (code !== undefined && code !== 0 && code !== 1) throw new UserError(`key file ${label} has unknown cryptoType ${code} (0 = ed25519, 1 = sr25519)`);
  const fromCode: SignatureScheme | undefined = code === 0 ? 'ed25519' : code === 1 ? 'sr25519' : undefined;
  const fromName: SignatureScheme | undefined = declared === undefined ? undefined : declared === 'ed25519' || declared === 'sr25519' ? declared : undefined;
  if (declared !== undefined && fromName === undefined) throw new UserError(`key file ${label} has unknown signingScheme '${json.signingScheme}'`);
  if (fromCode && fromName && fromCode !== fromName) {
    throw new UserError(`corrupt key file ${label}: cryptoType ${code} (${fromCode}) contradicts signingScheme '${json.signingScheme}'`);
  }
  return fromCode ?? fromName ?? 'sr25519';
}

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

export interface SerializeOptions {
  /**
   * Omit the SDK v11 fields (`cryptoType`, `accountType`, `signingScheme`) so btwallet 4.x (SDK v10) can
   * read the file: it parses key files as string-valued maps and rejects the numeric `cryptoType`. Refused
   * for ed25519 keys, which a v10 reader would silently load as a different sr25519 key.
   */
  legacy?: boolean;
}

/** The v11 account fields of a standard key of `scheme`. */
function v11Fields(scheme: SignatureScheme, label: string, opts: SerializeOptions): Record<string, string | number> {
  if (!opts.legacy) return { cryptoType: CRYPTO_TYPE[scheme], accountType: 'standard', signingScheme: scheme };
  if (scheme !== 'sr25519') throw new UserError(`cannot write ${label} in the legacy (btwallet 4.x) format: it has no field for ${scheme} keys`);
  return {};
}

/**
 * Full key file, fields as btwallet's `serialized_keypair_to_keyfile_data` writes them, plus the SDK v11
 * account fields. `privateKey` is btwallet's sr25519 secret (scalar ‖ nonce), or seed ‖ public for ed25519.
 */
export function serializeKeyfile(pair: Keypair, opts: SerializeOptions = {}): string {
  const pub = hex0x(pair.publicKey);
  const scheme = schemeOf(pair);
  const secret = scheme === 'ed25519' ? pair.secretKey : btwalletPrivateKey(pair);
  const data: Record<string, string | number> = { accountId: pub, publicKey: pub, privateKey: hex0x(secret) };
  if (pair.mnemonic) data.secretPhrase = pair.mnemonic;
  if (pair.seed) data.secretSeed = hex0x(pair.seed);
  data.ss58Address = pair.ss58Address;
  return JSON.stringify({ ...data, ...v11Fields(scheme, 'the key file', opts) });
}

/** Public key file (`coldkeypub.txt`): btwallet serialises an address-only keypair (three fields), plus the v11 fields. */
export function serializePubKeyfile(key: PublicKeyOnly, opts: SerializeOptions = {}): string {
  const pub = hex0x(key.publicKey);
  return JSON.stringify({ accountId: pub, publicKey: pub, ss58Address: key.ss58Address, ...v11Fields(key.scheme ?? 'sr25519', 'the public key file', opts) });
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
  const scheme = keyfileScheme(json, label);
  let pair: Keypair | undefined;
  try {
    if (json.secretPhrase) pair = keypairFromMnemonic(json.secretPhrase, scheme);
    else if (scheme === 'ed25519') {
      // secretSeed is the 32-byte seed; privateKey is seed ‖ public (its first half is the seed)
      const secret = json.secretSeed ?? json.privateKey;
      if (secret) pair = ed25519KeypairFromSeed(hexToU8a(secret).subarray(0, 32));
    } else if (json.secretSeed) {
      const seed = hexToU8a(json.secretSeed);
      pair = seed.length === 64 ? keypairFromPrivateKey(seed) : keypairFromSeed(seed);
    } else if (json.privateKey) pair = keypairFromPrivateKey(json.privateKey);
  } catch (e) {
    throw new UserError(`corrupt key file ${label}: ${(e as Error).message}`);
  }
  const withScheme = (k: PublicKeyOnly): PublicKeyOnly => (scheme === 'sr25519' ? k : { ...k, scheme });
  if (pair) {
    checkPublic(label, json, pair.publicKey);
    return pair;
  }
  if (json.ss58Address) {
    const publicKey = ss58Decode(json.ss58Address);
    checkPublic(label, json, publicKey);
    return withScheme({ publicKey, ss58Address: ss58Encode(publicKey) });
  }
  if (json.publicKey ?? json.accountId) {
    const publicKey = hexToU8a(json.publicKey ?? json.accountId);
    if (publicKey.length !== 32) throw new UserError(`corrupt key file ${label}: publicKey must be 32 bytes`);
    return withScheme({ publicKey, ss58Address: ss58Encode(publicKey) });
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
