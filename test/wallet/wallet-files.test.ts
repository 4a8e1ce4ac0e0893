import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../framework/errors.ts';
import {
  createHotkey,
  createWallet,
  cryptoReady,
  keypairFromSeed,
  listWallets,
  loadColdkey,
  loadColdkeyPub,
  loadHotkey,
  loadHotkeyPub,
  regenColdkey,
  regenColdkeyPub,
  regenHotkey,
  resolveWalletRef,
  showWallet,
  u8aToHex,
  walletPaths,
} from '../../framework/wallet/index.ts';

const BTW_MNEMONIC = 'old leopard transfer rib spatial phone calm indicate online fire caution review';
const BTW_MNEMONIC_SS58 = '5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX';

let root: string;
beforeAll(async () => {
  await cryptoReady();
  root = await mkdtemp(join(tmpdir(), 'wallet-files-'));
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

async function mode(p: string): Promise<number> {
  return (await stat(p)).mode & 0o777;
}

async function rejection(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(UserError);
  expect((e as Error).message).not.toContain('\n');
  return e as UserError;
}

describe('wallet files', () => {
  it('creates the btwallet layout with 0600 files and 0700 dirs', async () => {
    const ref = resolveWalletRef({ path: root, name: 'alpha', hotkey: 'h1' }, {});
    const { coldkey, hotkey } = await createWallet(ref, { password: null, words: 24 });
    expect(coldkey.mnemonic?.split(' ')).toHaveLength(24);
    const p = walletPaths(ref);
    expect(await readdir(p.dir)).toEqual(expect.arrayContaining(['coldkey', 'coldkeypub.txt', 'hotkeys']));
    expect((await readdir(p.hotkeysDir)).sort()).toEqual(['h1', 'h1pub.txt']);
    for (const f of [p.coldkey, p.coldkeypub, p.hotkey, p.hotkeypub]) expect(await mode(f)).toBe(0o600);
    for (const d of [p.dir, p.hotkeysDir]) expect(await mode(d)).toBe(0o700);
    const cold = JSON.parse(await readFile(p.coldkey, 'utf8')) as Record<string, string>;
    expect(Object.keys(cold).sort()).toEqual(['accountId', 'accountType', 'cryptoType', 'privateKey', 'publicKey', 'secretPhrase', 'secretSeed', 'signingScheme', 'ss58Address']);
    expect(cold.ss58Address).toBe(coldkey.ss58Address);
    const pub = JSON.parse(await readFile(p.coldkeypub, 'utf8')) as Record<string, string>;
    expect(pub).toEqual({ accountId: u8aToHex(coldkey.publicKey), publicKey: u8aToHex(coldkey.publicKey), ss58Address: coldkey.ss58Address, cryptoType: 1, accountType: 'standard', signingScheme: 'sr25519' });

    expect((await loadColdkey(ref)).ss58Address).toBe(coldkey.ss58Address);
    expect((await loadHotkey(ref)).ss58Address).toBe(hotkey.ss58Address);
    expect(await loadColdkeyPub(ref)).toBe(coldkey.ss58Address);
    expect(await loadHotkeyPub(ref)).toBe(hotkey.ss58Address);
    expect(coldkey.ss58Address).not.toBe(hotkey.ss58Address);
  });

  it('refuses to overwrite keys unless asked, leaving the old files intact', async () => {
    const ref = resolveWalletRef({ path: root, name: 'beta' }, {});
    await createWallet(ref, { password: null });
    const before = await readFile(walletPaths(ref).coldkey, 'utf8');
    const e = await rejection(createWallet(ref, { password: null }));
    expect(e.message).toMatch(/refusing to overwrite/);
    expect(await readFile(walletPaths(ref).coldkey, 'utf8')).toBe(before);
    await rejection(createHotkey(ref));
    await rejection(regenColdkey(ref, { mnemonic: BTW_MNEMONIC }, { password: null }));
    const again = await createWallet(ref, { password: null, overwrite: true });
    expect(await loadColdkeyPub(ref)).toBe(again.coldkey.ss58Address);
  });

  it('regenerates coldkey and hotkey from a mnemonic or a seed', async () => {
    const ref = resolveWalletRef({ path: root, name: 'gamma', hotkey: 'miner' }, {});
    expect((await regenColdkey(ref, { mnemonic: `  ${BTW_MNEMONIC.replaceAll(' ', '   ')} ` }, { password: null })).ss58Address).toBe(BTW_MNEMONIC_SS58);
    expect(await loadColdkeyPub(ref)).toBe(BTW_MNEMONIC_SS58);
    const seedHex = `0x${'42'.repeat(32)}`;
    const expected = keypairFromSeed(new Uint8Array(32).fill(0x42)).ss58Address;
    await regenHotkey(ref, { seed: seedHex });
    const loaded = await loadHotkey(ref);
    expect(loaded.ss58Address).toBe(expected);
    expect(loaded.mnemonic).toBeUndefined();
    const file = JSON.parse(await readFile(walletPaths(ref).hotkey, 'utf8')) as Record<string, string>;
    expect(file.secretSeed).toBe(seedHex);
    expect(file.secretPhrase).toBeUndefined();
    await rejection(regenHotkey(ref, { seed: '0x1234' }, { overwrite: true }));
    const bad = await rejection(regenHotkey({ ...ref, hotkey: 'other' }, { mnemonic: 'not a real mnemonic at all' }));
    expect(bad.message).toMatch(/invalid mnemonic/);
  });

  it('adds hotkeys and lists wallets without decrypting anything', async () => {
    const path = await mkdtemp(join(tmpdir(), 'wallet-list-'));
    try {
      const a = resolveWalletRef({ path, name: 'a' }, {});
      const { coldkey, hotkey } = await createWallet(a, { password: null });
      const extra = await createHotkey({ ...a, hotkey: 'zeta' });
      const watch = resolveWalletRef({ path, name: 'watch' }, {});
      await regenColdkeyPub(watch, BTW_MNEMONIC_SS58);
      await writeFile(join(path, 'not-a-wallet.txt'), 'x');
      const wallets = await listWallets(path);
      expect(wallets).toEqual([
        { name: 'a', coldkeyPub: coldkey.ss58Address, coldkeyEncryption: 'none', hotkeys: [{ name: 'default', ss58: hotkey.ss58Address }, { name: 'zeta', ss58: extra.ss58Address }] },
        { name: 'watch', coldkeyPub: BTW_MNEMONIC_SS58, hotkeys: [] },
      ]);
      expect(await showWallet(watch)).toEqual(wallets[1]);
      expect(await listWallets(join(path, 'missing'))).toEqual([]);
      const e = await rejection(loadColdkey(watch));
      expect(e.message).toMatch(/coldkey not found/);
    } finally {
      await rm(path, { recursive: true, force: true });
    }
  });

  it('reports missing and public-only keys as one-line errors', async () => {
    const ref = resolveWalletRef({ path: root, name: 'nobody' }, {});
    // no wallet at all: said as such, not as a missing key inside it
    for (const load of [loadColdkey, loadHotkey, loadColdkeyPub]) expect((await rejection(load(ref))).message).toMatch(/wallet 'nobody' does not exist/);
    const p = walletPaths(ref);
    await mkdir(p.dir, { recursive: true });
    expect((await rejection(loadColdkey(ref))).message).toMatch(/coldkey not found/);
    expect((await rejection(loadHotkey(ref))).message).toMatch(/hotkey not found/);
    expect((await rejection(loadColdkeyPub(ref))).message).toMatch(/coldkeypub not found/);
    expect((await rejection(showWallet(ref))).message).toMatch(/not found/);
    await regenColdkeyPub(ref, BTW_MNEMONIC_SS58);
    await writeFile(p.coldkey, await readFile(p.coldkeypub));
    expect((await rejection(loadColdkey(ref))).message).toMatch(/only a public key/);
    await writeFile(p.coldkey, '$ANSIBLE_VAULT;1.1;AES256\n6162');
    expect((await rejection(loadColdkey(ref, 'pw'))).message).toMatch(/unsupported coldkey format \(Ansible Vault\)/);
    await writeFile(p.coldkey, '{"secretPhrase": "truncated');
    expect((await rejection(loadColdkey(ref))).message).toMatch(/corrupt key file/);
  });

  it('requires a password source for an encrypted coldkey', async () => {
    const ref = resolveWalletRef({ path: root, name: 'needpw' }, {});
    const e = await rejection(createWallet(ref, { env: {} }));
    expect(e.message).toMatch(/password is required/);
    expect((await rejection(createWallet(ref, { password: 'short' }))).message).toMatch(/too short/);
    expect(await readdir(root)).not.toContain('needpw');
  });
});
