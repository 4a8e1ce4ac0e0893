import { Command, Option } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.ts';
import { schemeOf, type Keypair, type MnemonicWords } from './keypair.ts';
import { canPrompt, passwordFromEnv, promptHidden, promptNewPassword, BT_PASSWORD_ENV, BT_PASSWORD_FILE_ENV } from './password.ts';
import {
  createHotkey,
  createWallet,
  listWallets,
  loadColdkey,
  loadColdkeyPub,
  loadHotkey,
  regenColdkey,
  regenColdkeyPub,
  regenHotkey,
  refuseExisting,
  resolveWalletRef,
  showWallet,
  walletPaths,
  type RegenSource,
  type WalletRef,
  type WalletSummary,
} from './wallet.ts';

const CommonFlags = z.object({
  walletPath: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  hotkey: z.string().min(1).optional(),
  overwrite: z.boolean().optional(),
  json: z.boolean().optional(),
  // commander sets `password: false` for --no-password, true otherwise
  password: z.boolean().optional(),
  words: z.enum(['12', '15', '18', '21', '24'], { message: 'must be 12, 15, 18, 21 or 24' }).optional(),
  mnemonic: z.array(z.string()).optional(),
  seed: z.string().optional(),
  ss58: z.string().optional(),
  crypto: z.enum(['sr25519', 'ed25519'], { message: 'must be sr25519 or ed25519' }).optional(),
  legacyKeyfile: z.boolean().optional(),
});
type Flags = z.infer<typeof CommonFlags>;

function parseFlags(raw: unknown): Flags {
  const r = CommonFlags.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`invalid --${String(issue?.path[0] ?? 'option').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

function refOf(f: Flags): WalletRef {
  return resolveWalletRef({ path: f.walletPath, name: f.name, hotkey: f.hotkey });
}

function words(f: Flags): MnemonicWords | undefined {
  return f.words === undefined ? undefined : (Number(f.words) as MnemonicWords);
}

function withWalletFlags(cmd: Command, opts: { hotkey?: boolean } = {}): Command {
  cmd
    .option('--wallet-path <dir>', 'wallets root (env BT_WALLET_PATH, default ~/.bittensor/wallets)')
    .option('--name <name>', 'wallet name (env BT_WALLET_NAME, default "default")');
  if (opts.hotkey !== false) cmd.option('--hotkey <name>', 'hotkey name (env BT_WALLET_HOTKEY, default "default")');
  return cmd;
}

/** Password for a new coldkey: --no-password > the environment (passwordFromEnv) > prompt (twice). */
async function newColdkeyPassword(f: Flags, ref: WalletRef): Promise<string | null> {
  if (f.password === false) return null;
  const fromEnv = passwordFromEnv([walletPaths(ref).coldkey]);
  if (fromEnv !== undefined) return fromEnv;
  if (canPrompt()) return promptNewPassword(`coldkey of wallet '${ref.name}'`);
  throw new UserError('no coldkey password: not a terminal', { hint: `set ${BT_PASSWORD_ENV} or ${BT_PASSWORD_FILE_ENV}, or pass --no-password for an unencrypted (dev) coldkey` });
}

async function regenSource(f: Flags): Promise<RegenSource> {
  if (f.mnemonic && f.seed !== undefined) throw new UserError('pass either --mnemonic or --seed, not both');
  if (f.mnemonic) return { mnemonic: f.mnemonic.join(' ') };
  if (f.seed !== undefined) return { seed: f.seed };
  if (canPrompt()) return { mnemonic: await promptHidden('Mnemonic: ') };
  throw new UserError('no key source: pass --mnemonic "<words>" or --seed 0x<64 hex>');
}

function print(s: string): void {
  process.stdout.write(`${s}\n`);
}

function keyLine(label: string, pair: Keypair): string {
  return `  ${label.padEnd(18)} ${pair.ss58Address}`;
}

function printMnemonic(label: string, pair: Keypair): void {
  if (pair.mnemonic) print(`${label} mnemonic: ${pair.mnemonic}`);
}

const CRYPTO_OPTION = (): Option => new Option('--crypto <scheme>', 'hotkey signature scheme (SDK v11 key files: cryptoType)').choices(['sr25519', 'ed25519']).default('sr25519');
const LEGACY_HELP = 'write a btwallet 4.x (SDK v10) key file without the v11 cryptoType/accountType/signingScheme fields (sr25519 only)';

const MNEMONIC_WARNING = 'Write the mnemonic(s) down and keep them offline: they are the only way to recover the keys.';

function printSummary(s: WalletSummary, path: string): void {
  const enc = s.coldkeyEncryption === undefined ? 'no coldkey file (watch-only)' : s.coldkeyEncryption === 'none' ? 'UNENCRYPTED' : s.coldkeyEncryption;
  print(`${s.name}  (${path}/${s.name})`);
  print(`  coldkey            ${s.coldkeyPub ?? '(no coldkeypub.txt)'}  [${enc}]`);
  for (const h of s.hotkeys) print(`  hotkey ${h.name.padEnd(11)} ${h.ss58 ?? '(encrypted or unreadable)'}`);
}

/** `subnet wallet …`: btcli-style wallet management on the btwallet file layout. */
export function registerWalletCommands(program: Command): void {
  // Subcommands inherit exitOverride only if it is set before they are created, so that bad flags
  // reach runCli (exit 2) instead of commander calling process.exit(1) itself.
  const wallet = program.command('wallet').description('create, regenerate, list and show wallets (btwallet/btcli file layout)').exitOverride();

  withWalletFlags(wallet.command('create'))
    .description('create a coldkey (encrypted) and a hotkey, printing their mnemonics')
    .addOption(new Option('--words <n>', 'mnemonic length').choices(['12', '15', '18', '21', '24']))
    .option('--no-password', 'write the coldkey unencrypted (dev/localnet automation only)')
    .option('--overwrite', 'replace existing key files')
    .option('--legacy-keyfile', LEGACY_HELP)
    .option('--json', 'print the result as JSON (includes the mnemonics)')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const p = walletPaths(ref);
      await refuseExisting([p.coldkey, p.coldkeypub, p.hotkey, p.hotkeypub], f.overwrite, 'pass --overwrite to replace it, or use new-hotkey to add a hotkey');
      const password = await newColdkeyPassword(f, ref);
      const { coldkey, hotkey } = await createWallet(ref, { password, words: words(f), overwrite: f.overwrite, legacy: f.legacyKeyfile });
      if (f.json) {
        print(JSON.stringify({
          name: ref.name, path: ref.path, encrypted: password !== null,
          coldkey: { ss58: coldkey.ss58Address, mnemonic: coldkey.mnemonic },
          hotkey: { name: ref.hotkey, ss58: hotkey.ss58Address, mnemonic: hotkey.mnemonic },
        }));
        return;
      }
      print(`created wallet '${ref.name}' in ${ref.path} (coldkey ${password === null ? 'UNENCRYPTED' : 'encrypted, $NACL'})`);
      print(keyLine('coldkey', coldkey));
      print(keyLine(`hotkey ${ref.hotkey}`, hotkey));
      printMnemonic('coldkey', coldkey);
      printMnemonic(`hotkey ${ref.hotkey}`, hotkey);
      print(MNEMONIC_WARNING);
    });

  withWalletFlags(wallet.command('new-hotkey'))
    .description('create a new unencrypted hotkey in a wallet')
    .addOption(new Option('--words <n>', 'mnemonic length').choices(['12', '15', '18', '21', '24']))
    .option('--overwrite', 'replace an existing hotkey')
    .addOption(CRYPTO_OPTION())
    .option('--legacy-keyfile', LEGACY_HELP)
    .option('--json', 'print the result as JSON (includes the mnemonic)')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const hotkey = await createHotkey(ref, { words: words(f), overwrite: f.overwrite, scheme: f.crypto, legacy: f.legacyKeyfile });
      if (f.json) return print(JSON.stringify({ name: ref.name, hotkey: { name: ref.hotkey, ss58: hotkey.ss58Address, crypto: schemeOf(hotkey), mnemonic: hotkey.mnemonic } }));
      print(`created ${schemeOf(hotkey)} hotkey '${ref.hotkey}' in wallet '${ref.name}'`);
      print(keyLine(`hotkey ${ref.hotkey}`, hotkey));
      printMnemonic(`hotkey ${ref.hotkey}`, hotkey);
      print(MNEMONIC_WARNING);
    });

  withWalletFlags(wallet.command('regen-coldkey'), { hotkey: false })
    .description('rewrite the coldkey (and coldkeypub.txt) from a mnemonic or seed')
    .option('--mnemonic <words...>', 'BIP39 mnemonic (quoted or as separate words); prompted if omitted on a terminal')
    .option('--seed <hex>', '32-byte secret seed, 0x-prefixed hex')
    .option('--no-password', 'write the coldkey unencrypted (dev/localnet automation only)')
    .option('--overwrite', 'replace an existing coldkey')
    .option('--legacy-keyfile', LEGACY_HELP)
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      await refuseExisting([walletPaths(ref).coldkey, walletPaths(ref).coldkeypub], f.overwrite);
      const src = await regenSource(f);
      const password = await newColdkeyPassword(f, ref);
      const pair = await regenColdkey(ref, src, { password, overwrite: f.overwrite, legacy: f.legacyKeyfile });
      print(`regenerated coldkey of wallet '${ref.name}' (${password === null ? 'UNENCRYPTED' : 'encrypted, $NACL'})`);
      print(keyLine('coldkey', pair));
    });

  withWalletFlags(wallet.command('regen-coldkeypub'), { hotkey: false })
    .description('write only coldkeypub.txt from an address (watch-only wallet)')
    .requiredOption('--ss58 <address>', 'coldkey SS58 address or 0x-prefixed 32-byte public key')
    .option('--overwrite', 'replace an existing coldkeypub.txt')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const ss58 = await regenColdkeyPub(ref, f.ss58 ?? '', { overwrite: f.overwrite });
      print(`wrote coldkeypub.txt of wallet '${ref.name}': ${ss58}`);
    });

  withWalletFlags(wallet.command('regen-hotkey'))
    .description('rewrite a hotkey (and its pub file) from a mnemonic or seed')
    .option('--mnemonic <words...>', 'BIP39 mnemonic (quoted or as separate words); prompted if omitted on a terminal')
    .option('--seed <hex>', '32-byte secret seed, 0x-prefixed hex')
    .option('--overwrite', 'replace an existing hotkey')
    .addOption(CRYPTO_OPTION())
    .option('--legacy-keyfile', LEGACY_HELP)
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const pair = await regenHotkey(ref, await regenSource(f), { overwrite: f.overwrite, scheme: f.crypto, legacy: f.legacyKeyfile });
      print(`regenerated ${schemeOf(pair)} hotkey '${ref.hotkey}' of wallet '${ref.name}'`);
      print(keyLine(`hotkey ${ref.hotkey}`, pair));
    });

  withWalletFlags(wallet.command('check'))
    .description('decrypt the coldkey and load the hotkey, confirming the password and that they match their pub files')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const coldkey = await loadColdkey(ref, undefined, { prompt: true });
      const coldkeyPub = await loadColdkeyPub(ref);
      if (coldkeyPub !== coldkey.ss58Address) {
        throw new UserError(`coldkey ${coldkey.ss58Address} does not match coldkeypub.txt ${coldkeyPub}`, { hint: 'regen-coldkeypub --ss58 <the right address> --overwrite' });
      }
      const hotkey = await loadHotkey(ref, undefined, { prompt: true });
      if (f.json) return print(JSON.stringify({ name: ref.name, coldkey: coldkey.ss58Address, hotkey: { name: ref.hotkey, ss58: hotkey.ss58Address } }));
      print(`wallet '${ref.name}' ok`);
      print(keyLine('coldkey', coldkey));
      print(keyLine(`hotkey ${ref.hotkey}`, hotkey));
    });

  wallet.command('list')
    .description('list wallets and their hotkeys with addresses (never decrypts, never prints secrets)')
    .option('--wallet-path <dir>', 'wallets root (env BT_WALLET_PATH, default ~/.bittensor/wallets)')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const root = resolveWalletRef({ path: f.walletPath }).path;
      const wallets = await listWallets(root);
      if (f.json) return print(JSON.stringify({ path: root, wallets }));
      if (wallets.length === 0) return print(`no wallets in ${root}`);
      for (const w of wallets) printSummary(w, root);
    });

  withWalletFlags(wallet.command('show'), { hotkey: false })
    .description("show one wallet's coldkey and hotkey addresses (never secrets)")
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const f = parseFlags(raw);
      const ref = refOf(f);
      const s = await showWallet(ref);
      if (f.json) return print(JSON.stringify({ path: ref.path, ...s }));
      printSummary(s, ref.path);
    });
}
