/**
 * Produces test/wallet/fixtures/nacl-vector.json: a btwallet `$NACL` coldkey encrypted with pure-JS
 * @noble/hashes argon2i + @noble/ciphers xsalsa20poly1305, i.e. without libsodium (what the wallet code
 * under test uses). Deterministic: fixed password, nonce and plaintext. Takes ~1-2 minutes (argon2i, 512 MiB).
 *   npx tsx scripts/vectors/nacl-vector.ts
 */
import { argon2i } from '@noble/hashes/argon2';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa';
import { writeFileSync } from 'node:fs';

// Parameters from btwallet src/keyfile.rs (NACL_SALT) and libsodium's argon2i "sensitive" limits.
const SALT = Buffer.from('137183dff15a09bc9c90b5518739e9b1', 'hex');
const password = 'correct horse battery staple';
const nonce = Buffer.from('000102030405060708090a0b0c0d0e0f1011121314151617', 'hex');
// Keypair from btwallet's own test suite (tests/test_keyfile.py): this mnemonic gives this address.
const plaintext = JSON.stringify({
  secretPhrase: 'old leopard transfer rib spatial phone calm indicate online fire caution review',
  ss58Address: '5HDvhV6WDCjCKyrXqGQSDYqQAzkzabNhctmiDYEqgBC66BsX',
});

const key = argon2i(password, SALT, { t: 8, m: 536_870_912 / 1024, p: 1, dkLen: 32, version: 0x13 });
const box = xsalsa20poly1305(key, nonce).encrypt(new TextEncoder().encode(plaintext));
const blob = Buffer.concat([Buffer.from('$NACL'), nonce, box]);

const out = new URL('../../test/wallet/fixtures/nacl-vector.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({
  producer: 'scripts/vectors/nacl-vector.ts (@noble/hashes argon2i v1.3 t=8 m=512MiB p=1 + @noble/ciphers xsalsa20poly1305)',
  password,
  nonceHex: nonce.toString('hex'),
  keyHex: Buffer.from(key).toString('hex'),
  plaintext,
  blobBase64: blob.toString('base64'),
}, null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
