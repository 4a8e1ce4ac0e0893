export { BTAUTH_HEADERS, BTAUTH_PROTOCOL, BTAUTH_VERSION, EMPTY_SHA256, bodySha256, buildPayload, parseScheme, type PayloadFields } from './payload.ts';
export { authHeaders, signHeaders, signingPayload, type SignParams } from './sign.ts';
export { BtauthVerifier, VERIFY_DEFAULTS, type AuthClaim, type RequestParts, type VerifiedRequest, type VerifierOptions } from './verify.ts';
export { BadSignature, BtauthError, MalformedAuth, NotAuthorized, ReplayedRequest, StaleRequest, WrongReceiver, type BtauthFailure } from './errors.ts';
export { MEMORY_NONCE_DEFAULTS, MemoryNonceStore, type MemoryNonceStoreOptions, type NonceStore, type NonceVerdict } from './nonce-store.ts';
export { RedisNonceStore, type RedisNonceStoreOptions } from './redis-nonce-store.ts';
export { WIRE_PROTOCOLS, btauthJson, defaultRoute, resolveWire, type Wire, type WireProtocol, type WiredSynapse } from './wire.ts';
