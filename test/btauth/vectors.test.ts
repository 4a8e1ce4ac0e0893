import { beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignature, BtauthVerifier, MalformedAuth, MemoryNonceStore, ReplayedRequest, StaleRequest, WrongReceiver,
  bodySha256, buildPayload, signHeaders,
} from '../../framework/btauth/index.ts';
import { cryptoReady, keypairFromUri, type Keypair } from '../../framework/wallet/keypair.ts';

// Golden vectors: ../shared/specs/btauth.md (the SDK's cross-language conformance fixtures).
const NONCE = 1752076800000000000n;
const TARGET = '/generate?stream=false';
const BODY = '{"prompt": "hello"}';
const ALICE_SR = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB_SR = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const ALICE_ED = '5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu';
const ED_SIG = '0x1a6b631988bf1f7ea093ab9d5acf61f05c316d0b0e428b24b487b75a5f6ee0e1a56a26918fdf871b6cf09437e6588023a4ce423cf622621b2a7feee17612f704';
const NS = 1_000_000_000n;

let alice: Keypair;
let aliceEd: Keypair;
let bob: Keypair;
beforeAll(async () => {
  await cryptoReady();
  alice = keypairFromUri('//Alice');
  aliceEd = keypairFromUri('//Alice', 'ed25519');
  bob = keypairFromUri('//Bob');
});

const body = Buffer.from(BODY, 'utf8');
function verifier(nowNs: bigint, opts: { requireReceiver?: boolean } = {}) {
  return new BtauthVerifier({ hotkey: BOB_SR, nowNs: () => nowNs, nonces: new MemoryNonceStore({ nowMs: () => Number(nowNs / 1_000_000n) }), ...opts });
}
function signed(pair: Keypair, nonce = NONCE) {
  return signHeaders(pair, { method: 'POST', target: TARGET, body: BODY, receiver: BOB_SR, nonce });
}
const req = (headers: Record<string, string>, over: Partial<{ method: string; target: string; body: Uint8Array }> = {}) => ({ method: 'POST', target: TARGET, headers, body, ...over });

describe('btauth/1 golden vectors', () => {
  it('body sha256, dev addresses and the exact payload', () => {
    expect(body.length).toBe(19);
    expect(bodySha256(body)).toBe('341c57448e531310fbbe83f44cea2a5e838bd9e8a6b82b269f01d0dbbc23c3cc');
    expect(alice.ss58Address).toBe(ALICE_SR);
    expect(bob.ss58Address).toBe(BOB_SR);
    expect(aliceEd.ss58Address).toBe(ALICE_ED);
    const payload = buildPayload({ scheme: 'sr25519', method: 'post', target: TARGET, bodySha256: bodySha256(body), nonce: NONCE, hotkey: ALICE_SR, receiver: BOB_SR });
    expect(payload).toBe(
      ['btauth/1', 'sr25519', 'POST', '/generate?stream=false', '341c57448e531310fbbe83f44cea2a5e838bd9e8a6b82b269f01d0dbbc23c3cc', '1752076800000000000', ALICE_SR, BOB_SR].join('\n'),
    );
    expect(payload.endsWith('\n')).toBe(false);
    expect(buildPayload({ scheme: 'ed25519', method: 'GET', target: '/x', bodySha256: bodySha256(''), nonce: '5', hotkey: ALICE_ED, receiver: null }).split('\n').slice(-1)[0]).toBe('-');
  });

  it('the pinned ed25519 signature, headers and verification', () => {
    const h = signed(aliceEd);
    expect(h['x-bittensor-signature']).toBe(ED_SIG);
    expect(h['x-bittensor-crypto']).toBe('ed25519');
    expect(h['x-bittensor-nonce']).toBe('1752076800000000000');
    const v = verifier(NONCE + NS);
    expect(v.verify(req(h))).toEqual({ hotkey: ALICE_ED, scheme: 'ed25519', nonce: NONCE, receiver: BOB_SR });
  });

  it('sr25519 signs without a crypto header and verifies', () => {
    const h = signed(alice);
    expect(h['x-bittensor-crypto']).toBeUndefined();
    expect(h['x-bittensor-signature']).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verifier(NONCE).verify(req(h))).toMatchObject({ hotkey: ALICE_SR, scheme: 'sr25519' });
  });

  it('accepts the scheme spellings SR25519, 1 and 0', () => {
    const sr = signed(alice);
    expect(verifier(NONCE).verify(req({ ...sr, 'x-bittensor-crypto': 'SR25519' }))).toMatchObject({ scheme: 'sr25519' });
    expect(verifier(NONCE).verify(req({ ...sr, 'x-bittensor-crypto': '1' }))).toMatchObject({ scheme: 'sr25519' });
    expect(verifier(NONCE).verify(req({ ...signed(aliceEd), 'x-bittensor-crypto': '0' }))).toMatchObject({ scheme: 'ed25519' });
    expect(() => verifier(NONCE).verify(req({ ...sr, 'x-bittensor-crypto': 'ecdsa' }))).toThrow(MalformedAuth);
  });
});

describe('btauth/1 conformance behaviours', () => {
  it('headers survive renaming to any case', () => {
    const h = signed(alice);
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()), v]));
    expect(Object.keys(upper)).toContain('X-Bittensor-Signature');
    expect(verifier(NONCE).verify(req(upper))).toMatchObject({ hotkey: ALICE_SR });
  });

  it('stale at now = nonce + 11 s, future at now = nonce − 3 s; the message says by how much', () => {
    const h = signed(alice);
    expect(() => verifier(NONCE + 11n * NS).verify(req(h))).toThrow(/11\.000 s behind/);
    expect(() => verifier(NONCE + 11n * NS).verify(req(h))).toThrow(StaleRequest);
    expect(() => verifier(NONCE - 3n * NS).verify(req(h))).toThrow(/3\.000 s ahead/);
    // inside both bounds
    expect(verifier(NONCE + 9n * NS).verify(req(h))).toBeTruthy();
    expect(verifier(NONCE - 1n * NS).verify(req(h))).toBeTruthy();
  });

  it('replay rejected on the second use', () => {
    const v = verifier(NONCE);
    const h = signed(alice);
    v.verify(req(h));
    expect(() => v.verify(req(h))).toThrow(ReplayedRequest);
  });

  it('tampered nonce, body, method or path → bad signature', () => {
    const h = signed(alice);
    const v = verifier(NONCE);
    expect(() => v.verify(req({ ...h, 'x-bittensor-nonce': String(NONCE + 1n) }))).toThrow(BadSignature);
    expect(() => v.verify(req(h, { body: Buffer.from('{"prompt": "hellO"}') }))).toThrow(BadSignature);
    expect(() => v.verify(req(h, { method: 'PUT' }))).toThrow(BadSignature);
    expect(() => v.verify(req(h, { target: '/generate?stream=true' }))).toThrow(BadSignature);
    // none of those were recorded: the genuine request still goes through once
    expect(v.verify(req(h))).toBeTruthy();
  });

  it('an ed25519 signature with the crypto header stripped → bad signature (no scheme fallback)', () => {
    const { 'x-bittensor-crypto': _dropped, ...h } = signed(aliceEd);
    expect(() => verifier(NONCE).verify(req(h))).toThrow(BadSignature);
    // and an sr25519 signature declared as ed25519 fails the same way
    expect(() => verifier(NONCE).verify(req({ ...signed(alice), 'x-bittensor-crypto': 'ed25519' }))).toThrow(BadSignature);
  });

  it('wrong receiver and missing receiver rejected by default; unbound accepted when opted in', () => {
    const toAlice = signHeaders(alice, { target: TARGET, body: BODY, receiver: ALICE_SR, nonce: NONCE });
    expect(() => verifier(NONCE).verify(req(toAlice))).toThrow(WrongReceiver);
    const unbound = signHeaders(alice, { target: TARGET, body: BODY, nonce: NONCE });
    expect(unbound['x-bittensor-receiver']).toBeUndefined();
    expect(() => verifier(NONCE).verify(req(unbound))).toThrow(/allowUnbound/);
    expect(verifier(NONCE, { requireReceiver: false }).verify(req(unbound))).toMatchObject({ receiver: null });
    // a bound request still must name us when unbound ones are allowed
    expect(() => verifier(NONCE, { requireReceiver: false }).verify(req(toAlice))).toThrow(WrongReceiver);
  });

  it('malformed shapes, each refused before any decoding, never echoing the signature', () => {
    const h = signed(alice);
    const cases: Array<[string, Record<string, string>]> = [
      ['no version', { ...h, 'x-bittensor-version': undefined as unknown as string }],
      ['version 2', { ...h, 'x-bittensor-version': '2' }],
      ['no hotkey', { ...h, 'x-bittensor-hotkey': '' }],
      ['long hotkey', { ...h, 'x-bittensor-hotkey': '5'.repeat(10_000) }],
      ['bad checksum', { ...h, 'x-bittensor-hotkey': `${ALICE_SR.slice(0, -1)}Z` }],
      ['nonce not decimal', { ...h, 'x-bittensor-nonce': '0x1234' }],
      ['nonce too long', { ...h, 'x-bittensor-nonce': '9'.repeat(21) }],
      ['short signature', { ...h, 'x-bittensor-signature': h['x-bittensor-signature']!.slice(0, 100) }],
      ['non-hex signature', { ...h, 'x-bittensor-signature': `0x${'zz'.repeat(64)}` }],
    ];
    for (const [what, headers] of cases) {
      const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
      let err: unknown;
      try {
        verifier(NONCE).verify(req(clean));
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(MalformedAuth);
      expect((err as Error).message, what).not.toContain(h['x-bittensor-signature']!.slice(2, 20));
      expect((err as Error).message.length, what).toBeLessThan(300);
    }
  });

  it('untrusted schemes are refused by configuration', () => {
    const v = new BtauthVerifier({ hotkey: BOB_SR, nowNs: () => NONCE, schemes: ['sr25519'] });
    expect(() => v.verify(req(signed(aliceEd)))).toThrow(/ed25519 signatures are not accepted/);
    expect(v.verify(req(signed(alice)))).toBeTruthy();
  });

  it('refuses a nonce store that forgets sooner than maxAge + allowedSkew', () => {
    expect(() => new BtauthVerifier({ hotkey: BOB_SR, nonces: new MemoryNonceStore({ retentionMs: 5_000 }) })).toThrow(/less than maxAge \+ allowedSkew = 12000 ms/);
    expect(() => new BtauthVerifier({ hotkey: BOB_SR, maxAgeMs: 120_000 })).toThrow(/60000 ms, less than/);
    expect(() => new BtauthVerifier({ hotkey: BOB_SR, maxAgeMs: 120_000, nonces: new MemoryNonceStore({ retentionMs: 122_000 }) })).not.toThrow();
  });
});
