import { beforeAll, describe, expect, it } from 'vitest';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../framework/errors.ts';
import {
  btPasswordEnvName,
  btwalletPrivateKey,
  cryptoReady,
  deobfuscatePassword,
  deserializeKeyfile,
  hasSecret,
  keyfileEncryption,
  keypairFromMnemonic,
  keypairFromPrivateKey,
  keypairFromSeed,
  obfuscatePassword,
  passwordFromEnv,
  resolveWalletRef,
  serializeKeyfile,
  serializePubKeyfile,
  sign,
  u8aToHex,
  verify,
  type Keypair,
} from '../../framework/wallet/index.ts';

beforeAll(cryptoReady);

// Facts from btwallet's own test suite (opentensor/btwallet tests/test_keyfile.py, v4.0.0).
const BTW_MNEMONIC = 'old leopard transfer rib spatial phone calm indicate online fire caution review';
const BTW_MNEMONIC_SS58 = '5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX';
const BTW_PRIVATE_KEY = '0x1f1995bdf3a17b60626a26cfe6f564b337d46056b7a1281b64c649d592ccda0a9cffd34d9fb01cae1fba61aeed184c817442a2186d5172416729a4b54dd4b84e';
const BTW_PRIVATE_KEY_PUB = '0xe4359ad3e2716c539a1d663ebd0a51bdc5c98a12e663bb4c4402db47828c9446';
// //Alice public key (substrate dev account), used as a "wrong" public key
const ALICE_PUB = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('btwallet private key layout', () => {
  it('derives the public key of a btwallet privateKey (btwallet test vector)', () => {
    expect(u8aToHex(keypairFromPrivateKey(BTW_PRIVATE_KEY).publicKey)).toBe(BTW_PRIVATE_KEY_PUB);
  });

  it('writes the same privateKey bytes as btwallet for the same mnemonic', () => {
    // btwallet's tests pair this privateKey with the public key of BTW_MNEMONIC
    expect(u8aToHex(btwalletPrivateKey(keypairFromMnemonic(BTW_MNEMONIC)))).toBe(BTW_PRIVATE_KEY);
  });

  it('round-trips a seed key through the canonical privateKey and still signs verifiably', () => {
    const pair = keypairFromSeed(new Uint8Array(32).map((_, i) => i * 7 + 1));
    const priv = btwalletPrivateKey(pair);
    expect(priv.length).toBe(64);
    const back = keypairFromPrivateKey(priv);
    expect(back.ss58Address).toBe(pair.ss58Address);
    expect(u8aToHex(back.secretKey)).toBe(u8aToHex(pair.secretKey));
    expect(verify('msg', sign(back, 'msg'), pair.ss58Address)).toBe(true);
  });

  it('rejects a non-canonical scalar', () => {
    expect(() => keypairFromPrivateKey(`0x${'ff'.repeat(64)}`)).toThrow(UserError);
  });
});

describe('key file JSON', () => {
  let btw: Keypair;
  beforeAll(() => { btw = keypairFromMnemonic(BTW_MNEMONIC); });
  const pair = (): Keypair => btw;

  it('derives the btwallet test mnemonic address', () => {
    expect(pair().ss58Address).toBe(BTW_MNEMONIC_SS58);
  });

  it('writes exactly the btwallet fields with 0x-prefixed lowercase hex', () => {
    const json = JSON.parse(serializeKeyfile(pair())) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(['accountId', 'accountType', 'cryptoType', 'privateKey', 'publicKey', 'secretPhrase', 'secretSeed', 'signingScheme', 'ss58Address']);
    expect(json.accountId).toBe(json.publicKey);
    expect(json.publicKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(json.privateKey).toMatch(/^0x[0-9a-f]{128}$/);
    expect(json.secretSeed).toMatch(/^0x[0-9a-f]{64}$/);
    expect(json.secretPhrase).toBe(BTW_MNEMONIC);
    expect(json.ss58Address).toBe(BTW_MNEMONIC_SS58);
    const pub = JSON.parse(serializePubKeyfile(pair())) as Record<string, string>;
    expect(Object.keys(pub).sort()).toEqual(['accountId', 'accountType', 'cryptoType', 'publicKey', 'signingScheme', 'ss58Address']);
  });

  it('loads a file with only secretSeed, only privateKey, or only ss58Address', () => {
    const full = JSON.parse(serializeKeyfile(pair())) as Record<string, string>;
    const fromSeed = deserializeKeyfile(enc(JSON.stringify({ secretSeed: full.secretSeed })), 'seed-only');
    expect(fromSeed.ss58Address).toBe(BTW_MNEMONIC_SS58);
    expect(hasSecret(fromSeed)).toBe(true);
    const fromPriv = deserializeKeyfile(enc(JSON.stringify({ privateKey: full.privateKey })), 'priv-only');
    expect(fromPriv.ss58Address).toBe(BTW_MNEMONIC_SS58);
    expect(hasSecret(fromPriv)).toBe(true);
    const fromAddr = deserializeKeyfile(enc(JSON.stringify({ ss58Address: BTW_MNEMONIC_SS58, privateKey: null })), 'addr-only');
    expect(hasSecret(fromAddr)).toBe(false);
    expect(u8aToHex(fromAddr.publicKey)).toBe(full.publicKey);
  });

  it('prefers secretPhrase over secretSeed over privateKey', () => {
    const other = keypairFromSeed(new Uint8Array(32).fill(9));
    const otherJson = JSON.parse(serializeKeyfile(other)) as Record<string, string>;
    const both = deserializeKeyfile(enc(JSON.stringify({ secretPhrase: BTW_MNEMONIC, secretSeed: otherJson.secretSeed })), 'x');
    expect(both.ss58Address).toBe(BTW_MNEMONIC_SS58);
    const seedVsPriv = deserializeKeyfile(enc(JSON.stringify({ secretSeed: otherJson.secretSeed, privateKey: BTW_PRIVATE_KEY })), 'x');
    expect(seedVsPriv.ss58Address).toBe(other.ss58Address);
  });

  it('rejects corrupt files with one-line UserErrors', () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      ['{"secretSeed": 42}', /secretSeed/],
      ['{}', /no secretPhrase, secretSeed, privateKey or ss58Address/],
      [JSON.stringify({ secretPhrase: 'foo bar baz' }), /invalid mnemonic/],
      [JSON.stringify({ secretPhrase: BTW_MNEMONIC, publicKey: ALICE_PUB }), /does not match/],
    ];
    for (const [text, re] of cases) {
      let err: unknown;
      try { deserializeKeyfile(enc(text), 'f'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('detects encryption formats by prefix', () => {
    expect(keyfileEncryption(enc('$NACL....'))).toBe('nacl');
    expect(keyfileEncryption(enc('$ANSIBLE_VAULT;1.1;AES256\n'))).toBe('ansible-vault');
    expect(keyfileEncryption(enc('gAAAAABk'))).toBe('legacy-fernet');
    expect(keyfileEncryption(enc('{"ss58Address":"x"}'))).toBe('none');
    expect(() => deserializeKeyfile(enc('$NACLxxxx'), 'f')).toThrow(/encrypted/);
  });
});

describe('passwords from the environment', () => {
  it('names the btwallet BT_PW_ variable after the key file path', () => {
    expect(btPasswordEnvName('/home/u/.bittensor/wallets/default/coldkey')).toBe('BT_PW__HOME_U__BITTENSOR_WALLETS_DEFAULT_COLDKEY');
  });

  it('decodes the btwallet obfuscation (base64 of password XOR variable name)', () => {
    // hand-computed: 'a' (0x61) XOR 'B' (0x42) = 0x23 -> base64 "Iw=="
    expect(obfuscatePassword('BT_PW_X', 'a')).toBe('Iw==');
    expect(deobfuscatePassword('BT_PW_X', 'Iw==')).toBe('a');
    const name = btPasswordEnvName('/w/n/coldkey');
    expect(deobfuscatePassword(name, obfuscatePassword(name, 'pässwörd-long-enough-to-wrap-the-name-key'))).toBe('pässwörd-long-enough-to-wrap-the-name-key');
  });

  it('prefers BT_PW_<path> over SUBNET_WALLET_PASSWORD', () => {
    const path = '/w/n/coldkey';
    const name = btPasswordEnvName(path);
    expect(passwordFromEnv([path], { SUBNET_WALLET_PASSWORD: 'plain' })).toBe('plain');
    expect(passwordFromEnv([path], { SUBNET_WALLET_PASSWORD: 'plain', [name]: obfuscatePassword(name, 'bt') })).toBe('bt');
    expect(passwordFromEnv([path], {})).toBeUndefined();
  });
});

describe('resolveWalletRef', () => {
  it('uses flags over env over defaults', () => {
    expect(resolveWalletRef({}, {})).toEqual({ path: join(homedir(), '.bittensor', 'wallets'), name: 'default', hotkey: 'default' });
    const env = { BT_WALLET_PATH: '/tmp/env-wallets', BT_WALLET_NAME: 'envname', BT_WALLET_HOTKEY: 'envhot' };
    expect(resolveWalletRef({}, env)).toEqual({ path: '/tmp/env-wallets', name: 'envname', hotkey: 'envhot' });
    expect(resolveWalletRef({ path: '/tmp/flag', name: 'f', hotkey: 'h' }, env)).toEqual({ path: '/tmp/flag', name: 'f', hotkey: 'h' });
  });

  it('refuses names that would escape the wallet directory', () => {
    for (const bad of ['../x', 'a/b', '.hidden', '']) {
      expect(() => resolveWalletRef({ name: bad }, {})).toThrow(UserError);
      expect(() => resolveWalletRef({ hotkey: bad }, {})).toThrow(UserError);
    }
  });
});
