import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSubnet, type ProcessResult } from '../support/process.ts';
import {
  BT_PASSWORD_ENV, BT_PASSWORD_FILE_ENV, btPasswordEnvName, createHotkey, cryptoReady, deserializeKeyfile, hasSecret, keypairFromMnemonic,
  loadHotkey, obfuscatePassword, passwordFromEnv, regenHotkey, resolveWalletRef, schemeOf, serializeKeyfile, serializePubKeyfile, sign, verify,
  walletPaths, type Keypair,
} from '../../framework/wallet/index.ts';

/** SDK v11 key files: cryptoType / accountType / signingScheme, ed25519 hotkeys, refused account kinds, password env vars. */
const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const MNEMONIC = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';

let root: string;
beforeAll(async () => {
  await cryptoReady();
  root = await mkdtemp(join(tmpdir(), 'wallet-v11-'));
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

describe('v11 key file fields', () => {
  it('writes cryptoType 1 / accountType standard / signingScheme for sr25519, 0 for ed25519; pub files too', () => {
    const sr = JSON.parse(serializeKeyfile(keypairFromMnemonic(MNEMONIC))) as Record<string, unknown>;
    expect(sr).toMatchObject({ cryptoType: 1, accountType: 'standard', signingScheme: 'sr25519' });
    const edPair = keypairFromMnemonic(MNEMONIC, 'ed25519');
    const ed = JSON.parse(serializeKeyfile(edPair)) as Record<string, unknown>;
    expect(ed).toMatchObject({ cryptoType: 0, accountType: 'standard', signingScheme: 'ed25519', ss58Address: edPair.ss58Address });
    expect(ed.ss58Address).not.toBe(sr.ss58Address);
    expect(JSON.parse(serializePubKeyfile(edPair))).toMatchObject({ cryptoType: 0, ss58Address: edPair.ss58Address });
  });

  it('legacy format: only string values (what btwallet 4.x parses), refused for ed25519', () => {
    const legacy = JSON.parse(serializeKeyfile(keypairFromMnemonic(MNEMONIC), { legacy: true })) as Record<string, unknown>;
    expect(Object.values(legacy).every((v) => typeof v === 'string')).toBe(true);
    expect(legacy.cryptoType).toBeUndefined();
    expect(() => serializeKeyfile(keypairFromMnemonic(MNEMONIC, 'ed25519'), { legacy: true })).toThrow(/no field for ed25519/);
  });

  it('reads every source under the declared scheme; a file without cryptoType is sr25519', () => {
    const edPair = keypairFromMnemonic(MNEMONIC, 'ed25519');
    const full = JSON.parse(serializeKeyfile(edPair)) as Record<string, string>;
    for (const only of ['secretPhrase', 'secretSeed', 'privateKey'] as const) {
      const k = deserializeKeyfile(enc({ [only]: full[only], cryptoType: 0 }), only);
      expect(k.ss58Address, only).toBe(edPair.ss58Address);
      expect(hasSecret(k) && schemeOf(k)).toBe('ed25519');
    }
    const pubOnly = deserializeKeyfile(enc({ ss58Address: edPair.ss58Address, cryptoType: 0 }), 'pub');
    expect(pubOnly).toMatchObject({ ss58Address: edPair.ss58Address, scheme: 'ed25519' });
    // v10 files: no cryptoType → sr25519, falling back to ss58Address for public-only ones
    const old = deserializeKeyfile(enc({ secretPhrase: MNEMONIC }), 'v10');
    expect(hasSecret(old) && schemeOf(old)).toBe('sr25519');
    expect(old.ss58Address).toBe(keypairFromMnemonic(MNEMONIC).ss58Address);
    expect(deserializeKeyfile(enc({ ss58Address: old.ss58Address }), 'v10 pub').ss58Address).toBe(old.ss58Address);
    expect(deserializeKeyfile(enc({ secretPhrase: MNEMONIC, signingScheme: 'ed25519' }), 'named').ss58Address).toBe(edPair.ss58Address);
  });

  it.each([
    [{ cryptoType: 4 }, /"hashed" account/],
    [{ cryptoType: 6 }, /"hashed" account/],
    [{ accountType: 'hashed', cryptoType: 1 }, /"hashed" account/],
    [{ hashedDescriptor: '0x00' }, /"hashed" account/],
    [{ cryptoType: 5 }, /ML-DSA-65 account/],
    [{ cryptoType: 7 }, /ML-DSA-65 account/],
    [{ signingScheme: 'ML-DSA-65' }, /ML-DSA-65 account/],
    [{ cryptoType: 9 }, /unknown cryptoType 9/],
    [{ accountType: 'multisig' }, /unknown accountType/],
    [{ cryptoType: 0, signingScheme: 'sr25519' }, /contradicts/],
  ])('refuses %o with one clear line', (extra, re) => {
    const run = (): unknown => deserializeKeyfile(enc({ secretPhrase: MNEMONIC, ...extra }), 'hk');
    expect(run).toThrow(re);
    try {
      run();
    } catch (e) {
      expect((e as Error).message.split('\n')).toHaveLength(1);
    }
  });
});

describe('ed25519 hotkeys in a wallet (library)', () => {
  it('create → load → sign verifies under ed25519 only; regen from mnemonic and seed gives the same key', async () => {
    const ref = resolveWalletRef({ path: root, name: 'lib', hotkey: 'ed' });
    const created = await createHotkey(ref, { scheme: 'ed25519' });
    expect(schemeOf(created)).toBe('ed25519');
    const file = JSON.parse(await readFile(walletPaths(ref).hotkey, 'utf8')) as Record<string, unknown>;
    expect(file.cryptoType).toBe(0);
    const loaded: Keypair = await loadHotkey(ref);
    expect(loaded.ss58Address).toBe(created.ss58Address);
    expect(schemeOf(loaded)).toBe('ed25519');
    const sig = sign(loaded, 'hello');
    expect(verify('hello', sig, loaded.ss58Address, 'ed25519')).toBe(true);
    expect(verify('hello', sig, loaded.ss58Address, 'sr25519')).toBe(false);
    const fromMnemonic = await regenHotkey(ref, { mnemonic: created.mnemonic as string }, { scheme: 'ed25519', overwrite: true });
    expect(fromMnemonic.ss58Address).toBe(created.ss58Address);
    const seedHex = `0x${Buffer.from(created.seed as Uint8Array).toString('hex')}`;
    const fromSeed = await regenHotkey(ref, { seed: seedHex }, { scheme: 'ed25519', overwrite: true });
    expect(fromSeed.ss58Address).toBe(created.ss58Address);
    // the same secret under sr25519 is a different account
    const sr = await regenHotkey(ref, { seed: seedHex }, { overwrite: true });
    expect(sr.ss58Address).not.toBe(created.ss58Address);
  });
});

describe('BT_WALLET_PASSWORD and BT_WALLET_PASSWORD_FILE', () => {
  const keyfile = '/w/default/coldkey';
  const btpw = btPasswordEnvName(keyfile);
  it('precedence: BT_WALLET_PASSWORD > BT_PW_<path> > BT_WALLET_PASSWORD_FILE > SUBNET_WALLET_PASSWORD', async () => {
    const file = join(root, 'pw.txt');
    await writeFile(file, 'from-file\n');
    const all = { [BT_PASSWORD_ENV]: 'from-env', [btpw]: obfuscatePassword(btpw, 'from-btpw'), [BT_PASSWORD_FILE_ENV]: file, SUBNET_WALLET_PASSWORD: 'from-subnet' };
    expect(passwordFromEnv([keyfile], all)).toBe('from-env');
    expect(passwordFromEnv([keyfile], { ...all, [BT_PASSWORD_ENV]: '' })).toBe('from-btpw');
    expect(passwordFromEnv([keyfile], { [BT_PASSWORD_FILE_ENV]: file, SUBNET_WALLET_PASSWORD: 'from-subnet' })).toBe('from-file'); // trailing newline trimmed
    expect(passwordFromEnv([keyfile], { SUBNET_WALLET_PASSWORD: 'from-subnet' })).toBe('from-subnet');
    expect(passwordFromEnv([keyfile], {})).toBeUndefined();
  });
  it('a bad or empty password file is one clear error', async () => {
    expect(() => passwordFromEnv([keyfile], { [BT_PASSWORD_FILE_ENV]: join(root, 'missing.txt') })).toThrow(/^cannot read BT_WALLET_PASSWORD_FILE .*missing\.txt: no such file$/);
    const empty = join(root, 'empty.txt');
    await writeFile(empty, '\n');
    expect(() => passwordFromEnv([keyfile], { [BT_PASSWORD_FILE_ENV]: empty })).toThrow(/is empty/);
  });
});

describe('subnet wallet CLI: --crypto ed25519 and refused account kinds (real processes)', () => {
  const cli = (args: string[], env: Record<string, string> = {}): Promise<ProcessResult> =>
    runSubnet(['wallet', ...args], { env: { PATH: process.env.PATH, HOME: root, BT_WALLET_PATH: root, ...env }, timeoutMs: 120_000 });

  it('new-hotkey and regen-hotkey --crypto ed25519; a hashed hotkey is refused with exit 2; a bad password file too', async () => {
    const made = await cli(['new-hotkey', '--name', 'cli', '--hotkey', 'ed', '--crypto', 'ed25519', '--json']);
    expect(made.code, made.stderr).toBe(0);
    const out = JSON.parse(made.stdout) as { hotkey: { ss58: string; crypto: string; mnemonic: string } };
    expect(out.hotkey.crypto).toBe('ed25519');
    expect(out.hotkey.ss58).toBe(keypairFromMnemonic(out.hotkey.mnemonic, 'ed25519').ss58Address);
    const regen = await cli(['regen-hotkey', '--name', 'cli', '--hotkey', 'ed2', '--crypto', 'ed25519', '--mnemonic', out.hotkey.mnemonic]);
    expect(regen.code, regen.stderr).toBe(0);
    expect(regen.stdout).toContain(out.hotkey.ss58);
    const bad = await cli(['new-hotkey', '--name', 'cli', '--hotkey', 'x', '--crypto', 'ecdsa']);
    expect(bad.code).toBe(2);

    const created = await cli(['create', '--name', 'hashed', '--no-password']);
    expect(created.code, created.stderr).toBe(0);
    const ref = resolveWalletRef({ path: root, name: 'hashed', hotkey: 'default' });
    await writeFile(walletPaths(ref).hotkey, JSON.stringify({ secretPhrase: MNEMONIC, accountType: 'hashed', cryptoType: 4 }));
    const refused = await cli(['check', '--name', 'hashed']);
    expect(refused.code).toBe(2);
    const lines = refused.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: key file .* holds a "hashed" account/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    // an ML-DSA-65 hotkey: refused the same way
    const mlRef = resolveWalletRef({ path: root, name: 'hashed', hotkey: 'default' });
    await writeFile(walletPaths(mlRef).hotkey, JSON.stringify({ secretPhrase: MNEMONIC, signingScheme: 'ml-dsa-65' }));
    const ml = await cli(['check', '--name', 'hashed']);
    expect(ml.code).toBe(2);
    expect(ml.stderr.split('\n')[0]).toMatch(/ML-DSA-65/);

    // a coldkey password from a missing BT_WALLET_PASSWORD_FILE: one line, exit 2, nothing written
    const nofile = await cli(['create', '--name', 'pwfile'], { BT_WALLET_PASSWORD_FILE: join(root, 'nope.txt') });
    expect(nofile.code).toBe(2);
    expect(nofile.stderr.trim().split('\n')[0]).toMatch(/^error: cannot read BT_WALLET_PASSWORD_FILE .*nope\.txt: no such file$/);
  }, 240_000);
});
