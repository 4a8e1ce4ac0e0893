import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, keypairFromUri, schemeOf, sign, u8aToHex, verify } from '../../framework/wallet/keypair.ts';

// Golden vector of the btauth/1 spec (../shared/specs/btauth.md): ed25519 is deterministic.
const PAYLOAD = [
  'btauth/1', 'ed25519', 'POST', '/generate?stream=false',
  '341c57448e531310fbbe83f44cea2a5e838bd9e8a6b82b269f01d0dbbc23c3cc', '1752076800000000000',
  '5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu', '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
].join('\n');
const PINNED = '0x1a6b631988bf1f7ea093ab9d5acf61f05c316d0b0e428b24b487b75a5f6ee0e1a56a26918fdf871b6cf09437e6588023a4ce423cf622621b2a7feee17612f704';

describe('ed25519 key pairs', () => {
  beforeAll(() => cryptoReady());

  it('derives //Alice like substrate and signs the pinned vector', () => {
    const alice = keypairFromUri('//Alice', 'ed25519');
    expect(alice.ss58Address).toBe('5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu');
    expect(schemeOf(alice)).toBe('ed25519');
    expect(u8aToHex(sign(alice, PAYLOAD))).toBe(PINNED);
  });

  it('verifies under the declared scheme only', () => {
    const alice = keypairFromUri('//Alice', 'ed25519');
    expect(verify(PAYLOAD, PINNED, alice.ss58Address, 'ed25519')).toBe(true);
    expect(verify(PAYLOAD, PINNED, alice.ss58Address, 'sr25519')).toBe(false);
    expect(verify(`${PAYLOAD}x`, PINNED, alice.ss58Address, 'ed25519')).toBe(false);
  });

  it('leaves sr25519 the default', () => {
    const alice = keypairFromUri('//Alice');
    expect(alice.ss58Address).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
    expect(schemeOf(alice)).toBe('sr25519');
    expect(verify('m', sign(alice, 'm'), alice.ss58Address)).toBe(true);
  });
});
