import { decodeAddress } from '@polkadot/util-crypto';
import { Lru } from '../util/lru.ts';
import { verify as verifySignature, type SignatureScheme } from '../wallet/keypair.ts';
import { BadSignature, MalformedAuth, ReplayedRequest, StaleRequest, WrongReceiver } from './errors.ts';
import { MemoryNonceStore, type NonceStore } from './nonce-store.ts';
import { BTAUTH_HEADERS as H, BTAUTH_VERSION, bodySha256, buildPayload, parseScheme } from './payload.ts';

export interface VerifierOptions {
  /** This server's own hotkey (ss58): the receiver requests must be bound to. */
  hotkey: string;
  /** Reject requests without `X-Bittensor-Receiver` (default true; some v11 validators send none). */
  requireReceiver?: boolean;
  /** Oldest accepted nonce, ms behind our clock (default 10 000). */
  maxAgeMs?: number;
  /** Furthest accepted nonce, ms ahead of our clock (default 2 000). */
  allowedSkewMs?: number;
  /** Schemes this server trusts (default both); decided by configuration, never by the request. */
  schemes?: readonly SignatureScheme[];
  /** Replay memory (default a bounded in-memory store, 60 s). */
  nonces?: NonceStore;
  /** Clock, unix ns (tests). */
  nowNs?: () => bigint;
}

export const VERIFY_DEFAULTS = { maxAgeMs: 10_000, allowedSkewMs: 2_000, schemes: ['sr25519', 'ed25519'] as readonly SignatureScheme[] } as const;

/** The parsed, checked headers of a request (shape, receiver and freshness done). */
export interface AuthClaim {
  hotkey: string;
  publicKey: Uint8Array;
  scheme: SignatureScheme;
  /** Decimal, as sent. */
  nonce: string;
  receiver: string | null;
  signature: Uint8Array;
}

/** An authenticated request. */
export interface VerifiedRequest {
  hotkey: string;
  scheme: SignatureScheme;
  nonce: bigint;
  receiver: string | null;
}

export interface RequestParts {
  method: string;
  /** Path plus `?query` exactly as received. */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes (hashed before anything parses them). */
  body: Uint8Array;
}

// Bounds checked before anything is decoded: unauthenticated junk costs a few comparisons.
const MAX_SS58 = 64;
const SS58 = /^[1-9A-HJ-NP-Za-km-z]{40,64}$/;
const NONCE = /^[0-9]{1,20}$/;
const SIGNATURE = /^(0x)?[0-9a-fA-F]{128}$/;
const NS_PER_MS = 1_000_000n;

const wallAnchor = BigInt(Date.now()) * NS_PER_MS - process.hrtime.bigint();
const defaultNowNs = (): bigint => wallAnchor + process.hrtime.bigint();

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  if (Array.isArray(v)) throw new MalformedAuth(`header ${name} was sent more than once`);
  return v;
}

/** Headers with lowercase names (node's already are; a plain object from elsewhere may not be). */
function lowercased(h: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  for (const k in h) {
    if (k !== k.toLowerCase()) {
      const out: Record<string, string | string[] | undefined> = {};
      for (const [key, v] of Object.entries(h)) out[key.toLowerCase()] = v;
      return out;
    }
  }
  return h;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/**
 * btauth/1 verification in the spec's order: shape → receiver → freshness → signature (declared scheme only)
 * → replay (recorded only after the signature verified). `checkHeaders` does the first three without the
 * body, so a server can refuse before reading it; `verify` does everything.
 */
export class BtauthVerifier {
  readonly hotkey: string;
  readonly requireReceiver: boolean;
  readonly maxAgeMs: number;
  readonly allowedSkewMs: number;
  readonly schemes: readonly SignatureScheme[];
  readonly nonces: NonceStore;
  private readonly maxAgeNs: bigint;
  private readonly skewNs: bigint;
  private readonly nowNs: () => bigint;
  private readonly srOk: boolean;
  private readonly edOk: boolean;
  /** ss58 → public key (decoding runs a blake2b checksum); callers are few and repeat. */
  private readonly keys = new Lru<Uint8Array | null>();

  constructor(opts: VerifierOptions) {
    this.hotkey = opts.hotkey;
    this.requireReceiver = opts.requireReceiver ?? true;
    this.maxAgeMs = opts.maxAgeMs ?? VERIFY_DEFAULTS.maxAgeMs;
    this.allowedSkewMs = opts.allowedSkewMs ?? VERIFY_DEFAULTS.allowedSkewMs;
    this.schemes = opts.schemes ?? VERIFY_DEFAULTS.schemes;
    if (!(this.maxAgeMs > 0) || !(this.allowedSkewMs >= 0)) throw new Error('btauth maxAgeMs must be > 0 and allowedSkewMs >= 0');
    if (this.schemes.length === 0) throw new Error('btauth needs at least one trusted scheme');
    this.nonces = opts.nonces ?? new MemoryNonceStore();
    if (this.nonces.retentionMs < this.maxAgeMs + this.allowedSkewMs) {
      throw new Error(
        `btauth nonce store keeps pairs ${this.nonces.retentionMs} ms, less than maxAge + allowedSkew = ${this.maxAgeMs + this.allowedSkewMs} ms: ` +
          'a replay arriving after the store forgot it would be accepted (raise the store retention)',
      );
    }
    this.maxAgeNs = BigInt(Math.round(this.maxAgeMs)) * NS_PER_MS;
    this.skewNs = BigInt(Math.round(this.allowedSkewMs)) * NS_PER_MS;
    this.nowNs = opts.nowNs ?? defaultNowNs;
    this.srOk = this.schemes.includes('sr25519');
    this.edOk = this.schemes.includes('ed25519');
  }

  /** Shape, receiver and freshness, from the headers alone. Throws a BtauthError. */
  checkHeaders(raw: Record<string, string | string[] | undefined>): AuthClaim {
    const h = lowercased(raw);
    // 1. shape (lengths first, then decoding)
    const version = header(h, H.version);
    if (version === undefined) throw new MalformedAuth('missing X-Bittensor-Version header (btauth/1 requests carry X-Bittensor-* headers)');
    if (version !== BTAUTH_VERSION) throw new MalformedAuth('unsupported X-Bittensor-Version (this server speaks btauth version 1)');
    const hotkey = header(h, H.hotkey);
    if (hotkey === undefined || hotkey.length === 0) throw new MalformedAuth('missing X-Bittensor-Hotkey header');
    if (hotkey.length > MAX_SS58 || !SS58.test(hotkey)) throw new MalformedAuth('X-Bittensor-Hotkey is not an ss58 address');
    const nonce = header(h, H.nonce);
    if (nonce === undefined) throw new MalformedAuth('missing X-Bittensor-Nonce header');
    if (!NONCE.test(nonce)) throw new MalformedAuth('X-Bittensor-Nonce must be a decimal integer of at most 20 digits (unix time in ns)');
    const sig = header(h, H.signature);
    if (sig === undefined) throw new MalformedAuth('missing X-Bittensor-Signature header');
    if (!SIGNATURE.test(sig)) throw new MalformedAuth('X-Bittensor-Signature must be 0x + 128 hex digits (a 64-byte signature)');
    const crypto = header(h, H.crypto);
    if (crypto !== undefined && crypto.length > 16) throw new MalformedAuth('unknown X-Bittensor-Crypto scheme');
    const scheme = parseScheme(crypto);
    if (scheme === null) throw new MalformedAuth('unknown X-Bittensor-Crypto scheme (known: sr25519, ed25519)');
    if (scheme === 'sr25519' ? !this.srOk : !this.edOk) {
      throw new MalformedAuth(`${scheme} signatures are not accepted by this server (trusted schemes: ${this.schemes.join(', ')}; see the btauth.schemes setting)`);
    }
    const receiver = header(h, H.receiver);
    if (receiver !== undefined && receiver.length > MAX_SS58) throw new MalformedAuth('X-Bittensor-Receiver is not an ss58 address');
    // 2. receiver
    if (receiver === undefined || receiver === '') {
      if (this.requireReceiver) {
        throw new WrongReceiver('request is not bound to a receiver (no X-Bittensor-Receiver); this server requires it (set btauth.allowUnbound to accept unbound requests)');
      }
    } else if (receiver !== this.hotkey) {
      throw new WrongReceiver(`request is addressed to ${receiver}, this server is ${this.hotkey}`);
    }
    // 3. freshness
    const n = BigInt(nonce);
    const now = this.nowNs();
    if (now - n > this.maxAgeNs) {
      const behind = Number((now - n) / 1000n) / 1000;
      throw new StaleRequest(
        `stale request: nonce is ${seconds(behind)} behind this server's clock (maxAge ${seconds(this.maxAgeMs)}); ` +
          'a fresh request means the clocks differ (check NTP, or raise btauth.maxAgeMs), otherwise it is a late replay',
        -behind,
      );
    }
    if (n - now > this.skewNs) {
      const ahead = Number((n - now) / 1000n) / 1000;
      throw new StaleRequest(
        `request from the future: nonce is ${seconds(ahead)} ahead of this server's clock (allowedSkew ${seconds(this.allowedSkewMs)}); the sender's clock runs fast (check NTP, or raise btauth.allowedSkewMs)`,
        ahead,
      );
    }
    const publicKey = this.publicKey(hotkey);
    if (publicKey === null) throw new MalformedAuth('X-Bittensor-Hotkey is not a valid ss58 address (checksum or length)');
    return { hotkey, publicKey, scheme, nonce, receiver: receiver || null, signature: Buffer.from(sig.length === 130 ? sig.slice(2) : sig, 'hex') };
  }

  /** 4. The signature over the rebuilt payload, under the declared scheme only. Throws BadSignature. */
  checkSignature(claim: AuthClaim, method: string, target: string, body: Uint8Array): void {
    const payload = buildPayload({
      scheme: claim.scheme,
      method,
      target,
      bodySha256: bodySha256(body),
      nonce: claim.nonce,
      hotkey: claim.hotkey,
      receiver: claim.receiver,
    });
    if (!verifySignature(payload, claim.signature, claim.publicKey, claim.scheme)) {
      throw new BadSignature(`signature does not verify under ${claim.scheme} for ${claim.hotkey} (signed method, target, body, nonce and receiver must match the request)`);
    }
  }

  /** 5. Record the pair; throws ReplayedRequest when it was seen. Sync for the memory store. */
  recordNonce(claim: AuthClaim): VerifiedRequest | Promise<VerifiedRequest> {
    const v = this.nonces.record(claim.hotkey, claim.nonce);
    if (typeof v === 'string') return this.verdict(claim, v);
    return v.then((r) => this.verdict(claim, r));
  }

  /** All five steps. Resolves (or returns, for a synchronous store) the caller; throws a BtauthError. */
  verify(req: RequestParts): VerifiedRequest | Promise<VerifiedRequest> {
    const claim = this.checkHeaders(req.headers);
    this.checkSignature(claim, req.method, req.target, req.body);
    return this.recordNonce(claim);
  }

  private verdict(claim: AuthClaim, v: string): VerifiedRequest {
    if (v === 'replayed') throw new ReplayedRequest(`replayed request: nonce ${claim.nonce} of ${claim.hotkey} was already used (sign every request and retry with a fresh nonce)`);
    if (v === 'pressure') throw new ReplayedRequest('nonce memory is under pressure and cannot rule out a replay of this nonce; retry with a fresh nonce');
    return { hotkey: claim.hotkey, scheme: claim.scheme, nonce: BigInt(claim.nonce), receiver: claim.receiver };
  }

  private publicKey(address: string): Uint8Array | null {
    let pk = this.keys.get(address);
    if (pk === undefined) {
      try {
        pk = decodeAddress(address);
        if (pk.length !== 32) pk = null;
      } catch {
        pk = null;
      }
      this.keys.set(address, pk);
      if (this.keys.size > 10_000) this.keys.shift();
    }
    return pk;
  }
}
