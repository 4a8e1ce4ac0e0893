import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, keypairFromMnemonic, keypairFromUri, sign, verify } from '../../framework/wallet/keypair.ts';
import { stringToU8a, u8aConcat } from '@polkadot/util';

beforeAll(cryptoReady);

describe('sr25519 keypair', () => {
  it('derives the well-known //Alice dev key', () => {
    expect(keypairFromUri('//Alice').ss58Address).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
  });

  it('derives the substrate dev phrase root like subkey', () => {
    const pair = keypairFromMnemonic('bottom drive obey lake curtain smoke basket hold race lonely fit walk');
    // subkey inspect of the substrate dev phrase (sr25519, prefix 42)
    expect(pair.ss58Address).toBe('5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV');
  });

  it('signs and verifies, rejecting tampering and accepting <Bytes> wrapping', () => {
    const pair = keypairFromUri('//Bob');
    const sig = sign(pair, 'hello');
    expect(verify('hello', sig, pair.ss58Address)).toBe(true);
    expect(verify('hellO', sig, pair.ss58Address)).toBe(false);
    expect(verify('hello', sig, keypairFromUri('//Alice').ss58Address)).toBe(false);
    const wrapped = sign(pair, u8aConcat(stringToU8a('<Bytes>'), stringToU8a('hello'), stringToU8a('</Bytes>')));
    expect(verify('hello', wrapped, pair.ss58Address)).toBe(true);
    expect(verify('hello', '0xdeadbeef', pair.ss58Address)).toBe(false);
    expect(verify('hello', sig, 'not-an-address')).toBe(false);
  });

  it('rejects a bad mnemonic with a clear error', () => {
    expect(() => keypairFromMnemonic('foo bar baz')).toThrow(/invalid mnemonic/);
  });
});
