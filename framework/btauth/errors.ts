/**
 * One error class per btauth/1 failure. Messages are safe to send to an unauthenticated caller: they name
 * the cause (and for staleness the clock difference) but never echo the signature or the payload.
 */
export type BtauthFailure = 'malformed' | 'wrong_receiver' | 'stale' | 'bad_signature' | 'replayed';

export abstract class BtauthError extends Error {
  abstract readonly kind: BtauthFailure;
  /** Authentication failures are 401. */
  readonly status: number = 401;
}

/** Missing/unknown version, hotkey, nonce, signature or scheme; undecodable ss58; wrong-length signature. */
export class MalformedAuth extends BtauthError {
  readonly kind = 'malformed' as const;
  override readonly name = 'MalformedAuth';
}

/** The receiver is another hotkey, or missing while the server requires receiver-bound requests. */
export class WrongReceiver extends BtauthError {
  readonly kind = 'wrong_receiver' as const;
  override readonly name = 'WrongReceiver';
}

/** The nonce is older than maxAge or further ahead than allowedSkew; `skewMs` = nonce time − server time. */
export class StaleRequest extends BtauthError {
  readonly kind = 'stale' as const;
  override readonly name = 'StaleRequest';
  constructor(message: string, readonly skewMs: number) {
    super(message);
  }
}

/** The signature does not verify under the declared scheme. */
export class BadSignature extends BtauthError {
  readonly kind = 'bad_signature' as const;
  override readonly name = 'BadSignature';
}

/** The (hotkey, nonce) pair was seen before (or the nonce memory is under pressure and cannot tell). */
export class ReplayedRequest extends BtauthError {
  readonly kind = 'replayed' as const;
  override readonly name = 'ReplayedRequest';
}

/** An authorization decision about an authenticated caller ("not a validator", low stake): 403. */
export class NotAuthorized extends Error {
  readonly status = 403;
  override readonly name = 'NotAuthorized';
}
