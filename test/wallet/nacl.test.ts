import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../framework/errors.ts';
import {
  createWallet,
  cryptoReady,
  decryptNacl,
  decryptNaclWithKey,
  deriveNaclKey,
  deserializeKeyfile,
  encryptNaclWithKey,
  loadColdkeyPub,
  loadHotkey,
  resolveWalletRef,
  walletPaths,
} from '../../framework/wallet/index.ts';

// Each argon2i derivation (512 MiB, 8 passes) takes several seconds, more on a loaded machine.
const SLOW = 240_000;

// Produced independently of the code under test by scripts/vectors/nacl-vector.ts
// (@noble/hashes argon2i + @noble/ciphers xsalsa20poly1305; no libsodium).
const Vector = z.object({ password: z.string(), nonceHex: z.string(), keyHex: z.string(), plaintext: z.string(), blobBase64: z.string() });
let vector: z.infer<typeof Vector>;
let blob: Uint8Array;

beforeAll(async () => {
  await cryptoReady();
  vector = Vector.parse(JSON.parse(await readFile(new URL('./fixtures/nacl-vector.json', import.meta.url), 'utf8')));
  blob = new Uint8Array(Buffer.from(vector.blobBase64, 'base64'));
});

describe('$NACL key files', () => {
  it('derives the vector key, then seals to exactly the vector bytes and opens it back', async () => {
    // one argon2i derivation (the slow part) serves every check below
    const key = await deriveNaclKey(vector.password);
    expect(Buffer.from(key).toString('hex')).toBe(vector.keyHex);
    const plainBytes = new TextEncoder().encode(vector.plaintext);
    const sealed = await encryptNaclWithKey(plainBytes, key, Buffer.from(vector.nonceHex, 'hex'));
    expect(Buffer.from(sealed).toString('base64')).toBe(vector.blobBase64);
    const opened = await decryptNaclWithKey(blob, key);
    expect(new TextDecoder().decode(opened)).toBe(vector.plaintext);
    const { ss58Address } = JSON.parse(vector.plaintext) as { ss58Address: string };
    expect(deserializeKeyfile(opened, 'vector').ss58Address).toBe(ss58Address);
    const wrongKey = key.slice();
    wrongKey[0]! ^= 1;
    await expect(decryptNaclWithKey(blob, wrongKey)).rejects.toThrow(/wrong password/);
    const tampered = blob.slice();
    tampered[tampered.length - 1]! ^= 1;
    await expect(decryptNaclWithKey(tampered, key)).rejects.toBeInstanceOf(UserError);
  }, SLOW);

  it('creates an encrypted coldkey that opens with the independently derived key', async () => {
    // Same password as the vector + btwallet's fixed salt => same argon2i key, so the key computed by
    // the vector producer opens our file without a second derivation in this test.
    const root = await mkdtemp(join(tmpdir(), 'wallet-nacl-'));
    try {
      const ref = resolveWalletRef({ path: root, name: 'enc' }, {});
      const { coldkey, hotkey } = await createWallet(ref, { password: vector.password });
      const raw = new Uint8Array(await readFile(walletPaths(ref).coldkey));
      expect(Buffer.from(raw.subarray(0, 5)).toString('latin1')).toBe('$NACL');
      expect(Buffer.from(raw).includes(Buffer.from(coldkey.mnemonic ?? '-'))).toBe(false);
      const opened = await decryptNaclWithKey(raw, Buffer.from(vector.keyHex, 'hex'));
      const json = JSON.parse(new TextDecoder().decode(opened)) as Record<string, string>;
      expect(Object.keys(json).sort()).toEqual(['accountId', 'accountType', 'cryptoType', 'privateKey', 'publicKey', 'secretPhrase', 'secretSeed', 'signingScheme', 'ss58Address']);
      expect(deserializeKeyfile(opened, 'created').ss58Address).toBe(coldkey.ss58Address);
      expect(json.secretPhrase).toBe(coldkey.mnemonic);
      expect(await loadColdkeyPub(ref)).toBe(coldkey.ss58Address);
      expect((await loadHotkey(ref)).ss58Address).toBe(hotkey.ss58Address); // hotkey stays plaintext
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, SLOW);

  it('rejects malformed blobs before deriving a key', async () => {
    const t0 = Date.now();
    await expect(decryptNacl(blob.subarray(0, 30), vector.password)).rejects.toThrow(/too short/);
    await expect(decryptNacl(new TextEncoder().encode('{"a":1}'), 'x')).rejects.toThrow(/not a \$NACL/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
