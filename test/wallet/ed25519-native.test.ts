import { ed25519PairFromSeed, ed25519Sign, ed25519Verify } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { ed25519SignNative, ed25519VerifyNative } from '../../framework/wallet/ed25519-native.ts';
import { cryptoReady } from '../../framework/wallet/keypair.ts';

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

describe('ed25519 on node:crypto', () => {
  it('RFC 8032 test 1 (empty message): public key and signature', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const pub = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
    const sig = ed25519SignNative(new Uint8Array(0), Buffer.concat([seed, pub]));
    expect(hex(sig)).toBe('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
    expect(ed25519VerifyNative(new Uint8Array(0), sig, pub)).toBe(true);
  });

  it('signs exactly as @polkadot/util-crypto and agrees with it on valid and tampered signatures', async () => {
    await cryptoReady();
    for (let i = 0; i < 20; i++) {
      const pair = ed25519PairFromSeed(new Uint8Array(32).fill(i + 1));
      const msg = new TextEncoder().encode(`btauth/1 message ${i}`);
      const ours = ed25519SignNative(msg, pair.secretKey);
      expect(hex(ours)).toBe(hex(ed25519Sign(msg, pair)));
      expect(ed25519VerifyNative(msg, ours, pair.publicKey)).toBe(true);
      const bad = ours.slice();
      bad[i % 64] ^= 1;
      expect(ed25519VerifyNative(msg, bad, pair.publicKey)).toBe(ed25519Verify(msg, bad, pair.publicKey));
      expect(ed25519VerifyNative(msg, bad, pair.publicKey)).toBe(false);
    }
  });

  it('rejects malformed keys and signatures without throwing', () => {
    const msg = new Uint8Array([1, 2, 3]);
    expect(ed25519VerifyNative(msg, new Uint8Array(63), new Uint8Array(32))).toBe(false);
    expect(ed25519VerifyNative(msg, new Uint8Array(64), new Uint8Array(31))).toBe(false);
    expect(ed25519VerifyNative(msg, new Uint8Array(64).fill(0xff), new Uint8Array(32).fill(0xff))).toBe(false);
  });
});
