import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { schemeOf, sign, verify, u8aToHex, type Keypair } from '../../../framework/wallet/index.ts';

/**
 * Sealing by commit–reveal. Before the cutoff a miner sends only
 *   commitment = sha256("prediction-commit/1" ‖ hotkey ‖ eventId ‖ salt ‖ forecast JSON);
 * after it, the forecast and salt. The hotkey is inside the hash, so a copier who replays another
 * miner's commitment (and later fetches that miner's reveal) cannot open it under its own hotkey.
 * The validator answers an accepted commitment with a signed receipt (delivered with the reveal request),
 * so a miner can prove its forecast was in before the cutoff.
 */

export const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 32 bytes of lowercase hex');

export const forecastSchema = z.union([
  z.object({ p: z.number().min(0).max(1) }).strict(),
  z.object({ paths: z.array(z.array(z.number().positive().finite()).min(1).max(288)).min(1).max(1000) }).strict(),
]);
export type Forecast = z.infer<typeof forecastSchema>;

/** Canonical bytes of a forecast: fixed key order, JSON numbers (round-trip exact for doubles). */
export function canonicalForecast(f: Forecast): string {
  return 'p' in f ? JSON.stringify({ p: f.p }) : JSON.stringify({ paths: f.paths });
}

export function commitmentOf(hotkey: string, eventId: string, salt: string, forecast: Forecast): string {
  return createHash('sha256').update(`prediction-commit/1\n${hotkey}\n${eventId}\n${salt}\n${canonicalForecast(forecast)}`).digest('hex');
}

export function newSalt(): string {
  return randomBytes(32).toString('hex');
}

export const receiptSchema = z
  .object({
    validator: z.string().min(1).max(64),
    acceptedAt: z.number().int().nonnegative(),
    scheme: z.enum(['sr25519', 'ed25519']),
    /** sr25519/ed25519 signature (hex) by the validator's hotkey over `receiptMessage`. */
    signature: z.string().regex(/^0x[0-9a-f]{128}$/),
  })
  .strict();
export type Receipt = z.infer<typeof receiptSchema>;

export function receiptMessage(validator: string, miner: string, eventId: string, commitment: string, acceptedAt: number): string {
  return `prediction-receipt/1\n${validator}\n${miner}\n${eventId}\n${commitment}\n${acceptedAt}`;
}

export function signReceipt(validator: Keypair, miner: string, eventId: string, commitment: string, acceptedAt: number): Receipt {
  const sig = sign(validator, receiptMessage(validator.ss58Address, miner, eventId, commitment, acceptedAt));
  return { validator: validator.ss58Address, acceptedAt, scheme: schemeOf(validator), signature: u8aToHex(sig) };
}

/** True when `r` is the validator's signature over this commitment, accepted no later than `cutoffAt`. */
export function verifyReceipt(r: Receipt, miner: string, eventId: string, commitment: string, cutoffAt: number): boolean {
  return r.acceptedAt <= cutoffAt && verify(receiptMessage(r.validator, miner, eventId, commitment, r.acceptedAt), r.signature, r.validator, r.scheme);
}
