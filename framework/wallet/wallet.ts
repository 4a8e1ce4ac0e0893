import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import {
  cryptoReady,
  generateMnemonic,
  keypairFromMnemonic,
  keypairFromSeed,
  ss58Decode,
  ss58Encode,
  hexToU8a,
  ed25519KeypairFromSeed,
  type Keypair,
  type MnemonicWords,
  type SignatureScheme,
} from './keypair.ts';
import { deserializeKeyfile, hasSecret, keyfileEncryption, peekAddress, serializeKeyfile, serializePubKeyfile, type KeyfileEncryption, type PublicKeyOnly, type SerializeOptions } from './keyfile.ts';
import { decryptNacl, encryptNacl } from './nacl.ts';
import { canPrompt, checkNewPassword, passwordFromEnv, promptHidden, BT_PASSWORD_ENV, BT_PASSWORD_FILE_ENV } from './password.ts';

/** Where a wallet lives: `<path>/<name>/…`, hotkey `<path>/<name>/hotkeys/<hotkey>`. `path` is absolute. */
export interface WalletRef {
  readonly path: string;
  readonly name: string;
  readonly hotkey: string;
}

export const DEFAULT_WALLET_PATH = '~/.bittensor/wallets';
export const DEFAULT_WALLET_NAME = 'default';
export const DEFAULT_HOTKEY_NAME = 'default';

// A wallet or hotkey name becomes a path segment: refuse separators, dot-files and traversal.
const KeyName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, _ . - (max 64, not starting with . or -)');
const WalletPath = z.string().min(1, 'must not be empty');

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function field<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UserError(`invalid ${what} '${String(value)}': ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/**
 * Resolve a wallet reference: explicit options > env (`BT_WALLET_PATH`, `BT_WALLET_NAME`, `BT_WALLET_HOTKEY`,
 * as btwallet reads them) > defaults (`~/.bittensor/wallets`, `default`, `default`).
 */
export function resolveWalletRef(opts: { path?: string; name?: string; hotkey?: string } = {}, env: NodeJS.ProcessEnv = process.env): WalletRef {
  const rawPath = opts.path ?? (env.BT_WALLET_PATH || undefined) ?? DEFAULT_WALLET_PATH;
  const path = resolve(expandHome(field(WalletPath, rawPath, 'wallet path')));
  const name = field(KeyName, opts.name ?? (env.BT_WALLET_NAME || undefined) ?? DEFAULT_WALLET_NAME, 'wallet name');
  const hotkey = field(KeyName, opts.hotkey ?? (env.BT_WALLET_HOTKEY || undefined) ?? DEFAULT_HOTKEY_NAME, 'hotkey name');
  return { path, name, hotkey };
}

/** The btwallet file layout of a wallet reference. */
export function walletPaths(ref: WalletRef): { dir: string; coldkey: string; coldkeypub: string; hotkeysDir: string; hotkey: string; hotkeypub: string } {
  const dir = join(ref.path, ref.name);
  const hotkeysDir = join(dir, 'hotkeys');
  return {
    dir,
    coldkey: join(dir, 'coldkey'),
    coldkeypub: join(dir, 'coldkeypub.txt'),
    hotkeysDir,
    hotkey: join(hotkeysDir, ref.hotkey),
    hotkeypub: join(hotkeysDir, `${ref.hotkey}pub.txt`),
  };
}

/** A missing wallet is a different mistake from a missing hotkey in it: say which, and what to run. */
async function requireWalletDir(ref: WalletRef): Promise<void> {
  if (await exists(walletPaths(ref).dir)) return;
  throw new UserError(`wallet '${ref.name}' does not exist in ${ref.path}`, {
    hint: `create it with \`subnet wallet create --name ${ref.name}\`, or see \`subnet wallet list\` (and --wallet-path / BT_WALLET_PATH)`,
  });
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

/** Throw a UserError if any of `files` exists (unless overwrite). Lets the CLI fail before asking for a password. */
export async function refuseExisting(files: string[], overwrite: boolean | undefined, hint?: string): Promise<void> {
  if (overwrite) return;
  for (const f of files) {
    if (await exists(f)) throw new UserError(`refusing to overwrite existing key file ${f}`, { hint: hint ?? 'pass --overwrite to replace it (the old key is lost unless you have its mnemonic)' });
  }
}

async function writeKeyFile(path: string, data: string | Uint8Array, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, data, 0o600);
}

async function readKeyFileBytes(path: string, what: string, hint: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${what} not found: ${path}`, { hint });
    if (code === 'EACCES') throw new UserError(`cannot read ${what} ${path}: permission denied`);
    if (code === 'EISDIR') throw new UserError(`${what} ${path} is a directory, not a key file`);
    throw e;
  }
}

async function writePair(path: string, pubPath: string, dir: string, pair: Keypair, password: string | null, format: SerializeOptions = {}): Promise<void> {
  const plain = new TextEncoder().encode(serializeKeyfile(pair, format));
  const data = password === null ? plain : await encryptNacl(plain, checkNewPassword(password));
  await writeKeyFile(path, data, dir);
  await writeKeyFile(pubPath, serializePubKeyfile(pair, format), dir);
}

/** Options of the hotkey writers: the signature scheme (SDK v11 allows ed25519 hotkeys) and the file format. */
export interface HotkeyKeyOptions extends SerializeOptions {
  /** Default sr25519. */
  scheme?: SignatureScheme;
}

const PASSWORD_HINT = `set ${BT_PASSWORD_ENV} or ${BT_PASSWORD_FILE_ENV} (or btwallet's BT_PW_<path>, or SUBNET_WALLET_PASSWORD)`;

function coldPassword(ref: WalletRef, password: string | null | undefined, env: NodeJS.ProcessEnv): string | null {
  if (password !== undefined) return password;
  const fromEnv = passwordFromEnv([walletPaths(ref).coldkey], env);
  if (fromEnv === undefined) {
    throw new UserError('a coldkey password is required', { hint: `${PASSWORD_HINT}, or pass password: null (--no-password) for an unencrypted coldkey` });
  }
  return fromEnv;
}

export interface CreateWalletOptions {
  /** Coldkey password; `null` writes an unencrypted coldkey; undefined reads the environment (see passwordFromEnv). */
  password?: string | null;
  words?: MnemonicWords;
  overwrite?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Scheme of the new hotkey (the coldkey is always sr25519). */
  hotkeyScheme?: SignatureScheme;
  /** Write btwallet 4.x (SDK v10) key files without the v11 fields (sr25519 only). */
  legacy?: boolean;
}

/** Create a coldkey (encrypted unless password is null) and an unencrypted hotkey, with their pub files. */
export async function createWallet(ref: WalletRef, opts: CreateWalletOptions = {}): Promise<{ coldkey: Keypair; hotkey: Keypair }> {
  const p = walletPaths(ref);
  await refuseExisting([p.coldkey, p.coldkeypub, p.hotkey, p.hotkeypub], opts.overwrite, 'pass --overwrite to replace it, or use new-hotkey to add a hotkey');
  const password = coldPassword(ref, opts.password, opts.env ?? process.env);
  if (password !== null) checkNewPassword(password);
  await cryptoReady();
  const coldkey = keypairFromMnemonic(generateMnemonic(opts.words ?? 12));
  const hotkey = keypairFromMnemonic(generateMnemonic(opts.words ?? 12), opts.hotkeyScheme);
  const format = { legacy: opts.legacy };
  await writePair(p.coldkey, p.coldkeypub, p.dir, coldkey, password, format);
  await writePair(p.hotkey, p.hotkeypub, p.hotkeysDir, hotkey, null, format);
  return { coldkey, hotkey };
}

/** Create a new unencrypted hotkey `ref.hotkey` (sr25519, or ed25519 with `scheme`) in an existing or new wallet. */
export async function createHotkey(ref: WalletRef, opts: { words?: MnemonicWords; overwrite?: boolean } & HotkeyKeyOptions = {}): Promise<Keypair> {
  const p = walletPaths(ref);
  await refuseExisting([p.hotkey, p.hotkeypub], opts.overwrite);
  await cryptoReady();
  const hotkey = keypairFromMnemonic(generateMnemonic(opts.words ?? 12), opts.scheme);
  await writePair(p.hotkey, p.hotkeypub, p.hotkeysDir, hotkey, null, opts);
  return hotkey;
}

/** Secret to regenerate a key from: a mnemonic or a 32-byte hex seed (btwallet `secretSeed`). */
export type RegenSource = { mnemonic: string; seed?: undefined } | { seed: string; mnemonic?: undefined };

function pairFromSource(src: RegenSource, scheme: SignatureScheme = 'sr25519'): Keypair {
  if (src.mnemonic !== undefined) return keypairFromMnemonic(src.mnemonic, scheme);
  const seed = src.seed.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(seed)) throw new UserError('invalid seed: expected 32 bytes as hex (0x + 64 hex digits)');
  const bytes = hexToU8a(seed.startsWith('0x') ? seed : `0x${seed}`);
  return scheme === 'ed25519' ? ed25519KeypairFromSeed(bytes) : keypairFromSeed(bytes);
}

/** Rewrite `coldkey` + `coldkeypub.txt` from a mnemonic or seed. */
export async function regenColdkey(ref: WalletRef, src: RegenSource, opts: Omit<CreateWalletOptions, 'words' | 'hotkeyScheme'> = {}): Promise<Keypair> {
  const p = walletPaths(ref);
  await cryptoReady();
  const pair = pairFromSource(src);
  await refuseExisting([p.coldkey, p.coldkeypub], opts.overwrite);
  const password = coldPassword(ref, opts.password, opts.env ?? process.env);
  await writePair(p.coldkey, p.coldkeypub, p.dir, pair, password, { legacy: opts.legacy });
  return pair;
}

/** Rewrite `hotkeys/<hotkey>` + its pub file from a mnemonic or seed (sr25519, or ed25519 with `scheme`). */
export async function regenHotkey(ref: WalletRef, src: RegenSource, opts: { overwrite?: boolean } & HotkeyKeyOptions = {}): Promise<Keypair> {
  const p = walletPaths(ref);
  await cryptoReady();
  const pair = pairFromSource(src, opts.scheme);
  await refuseExisting([p.hotkey, p.hotkeypub], opts.overwrite);
  await writePair(p.hotkey, p.hotkeypub, p.hotkeysDir, pair, null, opts);
  return pair;
}

/** Write only `coldkeypub.txt` from an SS58 address or 0x public key (watch-only wallet, btcli regen_coldkeypub). */
export async function regenColdkeyPub(ref: WalletRef, address: string, opts: { overwrite?: boolean } = {}): Promise<string> {
  const p = walletPaths(ref);
  const publicKey = /^0x[0-9a-fA-F]{64}$/.test(address) ? hexToU8a(address) : ss58Decode(address);
  if (publicKey.length !== 32) throw new UserError(`invalid public key '${address}': expected 32 bytes`);
  await refuseExisting([p.coldkeypub], opts.overwrite);
  const key: PublicKeyOnly = { publicKey, ss58Address: ss58Encode(publicKey) };
  await writeKeyFile(p.coldkeypub, serializePubKeyfile(key), p.dir);
  return key.ss58Address;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Ask on the terminal when no password is given or in the environment (CLI use). */
  prompt?: boolean;
}

async function decodeKeyFile(path: string, what: string, hint: string, password: string | undefined, opts: LoadOptions): Promise<Keypair | PublicKeyOnly> {
  let data = await readKeyFileBytes(path, what, hint);
  const enc: KeyfileEncryption = keyfileEncryption(data);
  if (enc === 'ansible-vault' || enc === 'legacy-fernet') {
    throw new UserError(`unsupported ${what} format (${enc === 'ansible-vault' ? 'Ansible Vault' : 'legacy Fernet'}): ${path}`, {
      hint: 'regenerate it from its mnemonic (regen-coldkey / regen-hotkey), which writes the $NACL format',
    });
  }
  if (enc === 'nacl') {
    let pw = password ?? passwordFromEnv([path], opts.env ?? process.env);
    if (pw === undefined && opts.prompt && canPrompt()) pw = await promptHidden(`Password for ${what} ${path}: `);
    if (pw === undefined) throw new UserError(`${what} ${path} is encrypted and no password was given`, { hint: `${PASSWORD_HINT}, or run in a terminal` });
    data = await decryptNacl(data, pw);
  }
  await cryptoReady();
  return deserializeKeyfile(data, path);
}

function requireSecret(key: Keypair | PublicKeyOnly, what: string, path: string): Keypair {
  if (!hasSecret(key)) throw new UserError(`${what} ${path} holds only a public key (${key.ss58Address})`);
  return key;
}

/** Load (and decrypt) the coldkey. Password: argument > environment (passwordFromEnv) > prompt (if opts.prompt). */
export async function loadColdkey(ref: WalletRef, password?: string, opts: LoadOptions = {}): Promise<Keypair> {
  await requireWalletDir(ref);
  const path = walletPaths(ref).coldkey;
  const key = await decodeKeyFile(path, 'coldkey', `create it with \`subnet wallet create --name ${ref.name}\` or check --wallet-path/--name`, password, opts);
  return requireSecret(key, 'coldkey', path);
}

/** Load the hotkey (normally unencrypted; an encrypted one uses the same password sources as the coldkey). */
export async function loadHotkey(ref: WalletRef, password?: string, opts: LoadOptions = {}): Promise<Keypair> {
  await requireWalletDir(ref);
  const path = walletPaths(ref).hotkey;
  const key = await decodeKeyFile(path, 'hotkey', `create it with \`subnet wallet new-hotkey --name ${ref.name} --hotkey ${ref.hotkey}\``, password, opts);
  return requireSecret(key, 'hotkey', path);
}

/** The coldkey's SS58 address from `coldkeypub.txt` (never decrypts the coldkey). */
export async function loadColdkeyPub(ref: WalletRef): Promise<string> {
  await requireWalletDir(ref);
  const path = walletPaths(ref).coldkeypub;
  const data = await readKeyFileBytes(path, 'coldkeypub', `create the wallet with \`subnet wallet create --name ${ref.name}\`, or regen-coldkeypub`);
  await cryptoReady();
  return deserializeKeyfile(data, path).ss58Address;
}

/** The hotkey's SS58 address from `<hotkey>pub.txt`, else from the plaintext hotkey file. */
export async function loadHotkeyPub(ref: WalletRef): Promise<string> {
  await requireWalletDir(ref);
  const p = walletPaths(ref);
  for (const f of [p.hotkeypub, p.hotkey]) {
    const address = await readFile(f).then((b) => peekAddress(new Uint8Array(b)), () => undefined);
    if (address) return address;
  }
  throw new UserError(`hotkey not found: ${p.hotkey}`, { hint: `create it with \`subnet wallet new-hotkey --name ${ref.name} --hotkey ${ref.hotkey}\`` });
}

export interface WalletSummary {
  name: string;
  coldkeyPub?: string;
  /** Encryption of the coldkey file, absent when there is none (watch-only wallet). */
  coldkeyEncryption?: KeyfileEncryption;
  hotkeys: Array<{ name: string; ss58?: string }>;
}

async function readAddress(path: string): Promise<string | undefined> {
  return readFile(path).then((b) => peekAddress(new Uint8Array(b)), () => undefined);
}

async function summarize(path: string, name: string): Promise<WalletSummary | undefined> {
  const p = walletPaths({ path, name, hotkey: DEFAULT_HOTKEY_NAME });
  const hotkeyFiles = await readdir(p.hotkeysDir).catch(() => [] as string[]);
  const coldkeyBytes = await readFile(p.coldkey).catch(() => undefined);
  const coldkeyPub = (await readAddress(p.coldkeypub)) ?? (coldkeyBytes ? peekAddress(new Uint8Array(coldkeyBytes)) : undefined);
  if (!coldkeyBytes && !coldkeyPub && hotkeyFiles.length === 0) return undefined;
  const names = new Set<string>();
  for (const f of hotkeyFiles) {
    if (f.startsWith('.')) continue; // atomic-write temp files
    // `<h>pub.txt` belongs to hotkey `<h>`, which may exist only as its pub file (watch-only)
    const base = f.endsWith('pub.txt') ? f.slice(0, -'pub.txt'.length) : f;
    if (base) names.add(base);
  }
  const hotkeys: WalletSummary['hotkeys'] = [];
  for (const h of [...names].sort()) {
    const ss58 = (await readAddress(join(p.hotkeysDir, `${h}pub.txt`))) ?? (await readAddress(join(p.hotkeysDir, h)));
    hotkeys.push(ss58 ? { name: h, ss58 } : { name: h });
  }
  const summary: WalletSummary = { name, hotkeys };
  if (coldkeyPub) summary.coldkeyPub = coldkeyPub;
  if (coldkeyBytes) summary.coldkeyEncryption = keyfileEncryption(new Uint8Array(coldkeyBytes));
  return summary;
}

/** Every wallet under `path` (sorted by name), with addresses read from pub files; never decrypts. */
export async function listWallets(path: string): Promise<WalletSummary[]> {
  const root = resolve(expandHome(path));
  const entries = await readdir(root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw new UserError(`cannot read wallet path ${root}: ${e.code ?? e.message}`);
  });
  const out: WalletSummary[] = [];
  for (const e of entries.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    const s = await summarize(root, e.name);
    if (s) out.push(s);
  }
  return out;
}

/** One wallet's summary, or a UserError if nothing exists at `<path>/<name>`. */
export async function showWallet(ref: WalletRef): Promise<WalletSummary> {
  const s = await summarize(ref.path, ref.name);
  if (!s) throw new UserError(`wallet '${ref.name}' not found in ${ref.path}`, { hint: 'run `subnet wallet list` or check --wallet-path/--name' });
  return s;
}
