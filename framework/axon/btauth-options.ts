import { z } from 'zod';
import { BtauthVerifier, MemoryNonceStore, VERIFY_DEFAULTS, type NonceStore } from '../btauth/index.ts';
import { describeZodError, UserError } from '../errors.ts';
import type { SignatureScheme } from '../wallet/keypair.ts';

/** btauth/1 settings of an axon (see docs/axon.md). */
export interface AxonBtauthOptions {
  /** Accept requests without `X-Bittensor-Receiver` (default false; some v11 validators send none). */
  allowUnbound?: boolean;
  /** Oldest accepted nonce, ms (default 10 000; raise it for hosts with skewed clocks). */
  maxAgeMs?: number;
  /** Furthest-ahead accepted nonce, ms (default 2 000). */
  allowedSkewMs?: number;
  /** Trusted signature schemes (default both). */
  schemes?: SignatureScheme[];
  /** Replay memory: default in-memory (60 s, or maxAge + allowedSkew when longer); a RedisNonceStore for several processes. */
  nonceStore?: NonceStore;
  /** In-memory store capacity (default 200 000 pairs). */
  nonceCapacity?: number;
}

/** Which wires the axon's port speaks (default both; the v10 wire is auto-detected by its bt_header_* headers). */
export interface AxonProtocols {
  btauth?: boolean;
  synapse?: boolean;
}

const schema = z
  .object({
    btauth: z
      .object({
        allowUnbound: z.boolean().default(false),
        maxAgeMs: z.number().positive().max(3_600_000).default(VERIFY_DEFAULTS.maxAgeMs),
        allowedSkewMs: z.number().min(0).max(600_000).default(VERIFY_DEFAULTS.allowedSkewMs),
        schemes: z.array(z.enum(['sr25519', 'ed25519'])).min(1, 'trust at least one scheme').default(['sr25519', 'ed25519']),
        nonceStore: z.custom<NonceStore>((s) => typeof s === 'object' && s !== null && typeof (s as NonceStore).record === 'function', 'must be a NonceStore').optional(),
        nonceCapacity: z.number().int().min(1).optional(),
      })
      .strict()
      .default({}),
    protocols: z.object({ btauth: z.boolean().default(true), synapse: z.boolean().default(true) }).strict().default({}),
  })
  .refine((o) => o.protocols.btauth || o.protocols.synapse, { message: 'enable at least one of protocols.btauth and protocols.synapse', path: ['protocols'] });

export type ResolvedWireSettings = z.output<typeof schema>;

export function resolveWireSettings(opts: { btauth?: AxonBtauthOptions; protocols?: AxonProtocols }): ResolvedWireSettings {
  const parsed = schema.safeParse({ btauth: opts.btauth, protocols: opts.protocols });
  if (!parsed.success) throw new UserError(describeZodError(parsed.error, 'axon options'), { hint: 'see docs/axon.md (btauth/1 settings)' });
  return parsed.data;
}

/** The axon's verifier; a nonce store that forgets too soon is a configuration error with the numbers. */
export function createVerifier(hotkey: string, w: ResolvedWireSettings['btauth']): BtauthVerifier {
  const nonces =
    w.nonceStore ?? new MemoryNonceStore({ retentionMs: Math.max(60_000, w.maxAgeMs + w.allowedSkewMs), capacity: w.nonceCapacity });
  try {
    return new BtauthVerifier({ hotkey, requireReceiver: !w.allowUnbound, maxAgeMs: w.maxAgeMs, allowedSkewMs: w.allowedSkewMs, schemes: w.schemes, nonces });
  } catch (e) {
    throw new UserError(`axon options: ${(e as Error).message}`, { hint: 'see docs/axon.md (btauth/1 settings)' });
  }
}
